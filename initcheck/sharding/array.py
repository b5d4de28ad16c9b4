"""Tensors held in pieces (shards) and the statistics the checks read from them, computed
piece by piece and merged: no piece is ever joined to another. Each statistic is a partial
per shard plus a merge that an ``Exchange`` carries out (here, in one process; a
torch.distributed or jax multi-process exchange sums and gathers the same partials across
ranks). What each check needs and how exact the merge is: docs/sharded.md.

- sums (moments and per-unit sums, many tensors at once in ``stats.merge``; slice keys):
  added; exact up to float64 summation order (the keys: integers, exact);
- extremes and counts: min, max, sum; exact;
- samples (the KS sample, in ``stats.merge.take_all``; chosen slices, a submatrix): the
  values at global positions fixed in advance, each read from the shard that holds it; the
  same values as the whole tensor gives, so the tests on them are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from initcheck.claims.specs import Law
from initcheck.sharding.keys import slice_keys
from initcheck.sharding.partials import unit_sums


@dataclass(frozen=True)
class Shard:
    """A piece of a tensor: ``data`` sits at ``index`` (one ``slice(start, stop)`` per axis)
    of the whole."""

    index: tuple[slice, ...]
    data: np.ndarray

    @property
    def starts(self) -> tuple[int, ...]:
        return tuple(s.start for s in self.index)


class Exchange:
    """How partials from shards held elsewhere are merged: in one process, there is nothing
    to merge (every shard is local). Subclasses carry the same operations over ``size``
    ranks, of which this process is ``rank``."""

    rank = 0
    size = 1

    def sum(self, value: np.ndarray) -> np.ndarray:
        return value

    def max(self, value: np.ndarray) -> np.ndarray:
        return value

    def gather(self, value: Any, to: int | None = None) -> list[Any] | None:
        """Every rank's ``value``, in rank order: on every rank, or (``to``) on that rank
        only, the others getting None."""
        return [value]


LOCAL = Exchange()


def _normalized(index: Sequence[slice], shape: tuple[int, ...]) -> tuple[slice, ...]:
    out = []
    for s, n in zip(index, shape):
        start, stop, step = s.indices(n)
        if step != 1:
            raise ValueError(
                f"a shard index {index} has step {step}: shards are contiguous blocks."
            )
        out.append(slice(start, stop))
    return tuple(out)


class ShardedArray:
    """A tensor of ``shape`` and ``dtype`` of which this process holds ``shards`` (disjoint
    blocks; replicas are kept once). ``exchange`` merges what other processes hold."""

    def __init__(self, shape: tuple[int, ...], dtype: Any, shards: Sequence[Shard],
                 exchange: Exchange = LOCAL) -> None:
        self.shape, self.dtype = tuple(int(d) for d in shape), np.dtype(dtype)
        self.exchange = exchange
        seen: dict[tuple[tuple[int, int], ...], Shard] = {}
        for shard in shards:
            index = _normalized(shard.index, self.shape)
            expected = tuple(s.stop - s.start for s in index)
            if tuple(shard.data.shape) != expected:
                raise ValueError(
                    f"a shard at {index} holds shape {shard.data.shape}, not {expected}."
                )
            seen.setdefault(
                tuple((s.start, s.stop) for s in index), Shard(index, np.asarray(shard.data))
            )
        self.shards = list(seen.values())  # a replicated block counts once

    @classmethod
    def whole(cls, x: np.ndarray) -> ShardedArray:
        """An array held whole: one shard (every statistic then reads it directly)."""
        x = np.asarray(x)
        return cls(x.shape, x.dtype, [Shard(tuple(slice(0, n) for n in x.shape), x)])

    @property
    def single(self) -> np.ndarray | None:
        """The array itself when one local shard is all of it and no one else holds any."""
        if (
            self.exchange.size == 1
            and len(self.shards) == 1
            and self.shards[0].data.size == self.size
        ):
            return self.shards[0].data
        return None

    def astype(self, dtype: Any) -> ShardedArray:
        """Every shard converted to ``dtype`` (an integer buffer read as float64)."""
        return ShardedArray(
            self.shape,
            dtype,
            [Shard(s.index, s.data.astype(dtype)) for s in self.shards],
            self.exchange,
        )

    def cut(self, axis: int, start: int, stop: int) -> ShardedArray:
        """The block ``[start, stop)`` along ``axis`` (a Split piece), still in shards."""
        axis %= self.ndim
        shape = list(self.shape)
        shape[axis] = stop - start
        out = []
        for s in self.shards:
            lo, hi = max(start, s.index[axis].start), min(stop, s.index[axis].stop)
            if lo < hi:
                index = list(s.index)
                index[axis] = slice(lo - start, hi - start)
                local = [slice(None)] * self.ndim
                local[axis] = slice(lo - s.index[axis].start, hi - s.index[axis].start)
                out.append(Shard(tuple(index), s.data[tuple(local)]))
        return ShardedArray(tuple(shape), self.dtype, out, self.exchange)

    def without(self, axis: int, rows: Sequence[int] | np.ndarray) -> ShardedArray:
        """The tensor with ``rows`` along ``axis`` removed (an Except piece), still in shards:
        each shard drops its own and moves up by the rows removed before it."""
        axis %= self.ndim
        rows = np.unique(np.asarray(rows, dtype=np.int64) % self.shape[axis])
        shape = list(self.shape)
        shape[axis] -= rows.size
        out = []
        for s in self.shards:
            r = s.index[axis]
            mine = rows[(rows >= r.start) & (rows < r.stop)]
            data = np.delete(s.data, mine - r.start, axis)
            if data.shape[axis]:
                start = r.start - int(np.count_nonzero(rows < r.start))
                index = list(s.index)
                index[axis] = slice(start, start + data.shape[axis])
                out.append(Shard(tuple(index), data))
        return ShardedArray(tuple(shape), self.dtype, out, self.exchange)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def held(self) -> int:
        """Elements this process holds (once each)."""
        return sum(s.data.size for s in self.shards)

    # ------------------------------------------------------------------ reductions

    def count(self, predicate: Callable[[np.ndarray], np.ndarray]) -> int:
        """Elements for which ``predicate`` holds (vectorized)."""
        local = sum(int(np.count_nonzero(predicate(s.data))) for s in self.shards)
        return int(self.exchange.sum(np.array([local], dtype=np.int64))[0])

    def extremes(self) -> tuple[float, float]:
        """The smallest and the largest value (float64)."""
        lo = min((float(np.min(s.data)) for s in self.shards if s.data.size), default=math.inf)
        hi = max((float(np.max(s.data)) for s in self.shards if s.data.size), default=-math.inf)
        both = self.exchange.max(np.array([-lo, hi]))
        return -float(both[0]), float(both[1])

    def unit_partial(self, unit_axes: tuple[int, ...]) -> np.ndarray:
        """This process's raw per-unit sums of x and x^2, placed at global unit indices."""
        axes = tuple(sorted(a % self.ndim for a in unit_axes))
        grid = tuple(self.shape[a] for a in axes)
        s12 = np.zeros((2, math.prod(grid)))
        for shard in self.shards:
            part = unit_sums(shard.data, axes, _STANDARD)  # raw sums of x and x^2 per unit
            where = np.ravel_multi_index(
                np.meshgrid(
                    *[np.arange(shard.index[a].start, shard.index[a].stop) for a in axes],
                    indexing="ij",
                ),
                grid,
            ).ravel()
            np.add.at(s12[0], where, part.total)
            np.add.at(s12[1], where, part.squares)
        return s12

    # -------------------------------------------------------------- chosen values

    def _assemble(self, shape: tuple[int, ...], pieces: list[tuple[tuple[Any, ...], np.ndarray]],
                  to: int | None, what: str) -> np.ndarray | None:
        """Every rank's ``pieces`` (an index per axis of the result, and the block there)
        placed in one array of ``shape``: on every rank, or on rank ``to`` only (None on the
        others)."""
        parts = self.exchange.gather(pieces, to)
        return None if parts is None else self.place(shape, parts, what)

    def place(self, shape: tuple[int, ...], parts: list[list[tuple[tuple[Any, ...], np.ndarray]]],
              what: str) -> np.ndarray:
        """Every rank's pieces placed in one array; every value must come from some shard."""
        out = np.empty(shape, dtype=self.dtype)
        filled = 0
        for part in parts:
            for index, block in part:
                index = tuple(_run(i) for i in index)
                if sum(not isinstance(i, slice) for i in index) > 1:
                    index = np.ix_(*[np.arange(i.start, i.stop) if isinstance(i, slice) else i
                                     for i in index])
                out[index] = block
                filled += block.size
        if filled != out.size:
            raise ValueError(f"{out.size - filled} of {out.size} {what} are held by no shard: the"
                             " shards do not cover the tensor.")
        return out

    def flat_pieces(self, positions: np.ndarray) -> list[tuple[tuple[Any, ...], np.ndarray]]:
        """This process's values at global flat ``positions``, with where they go."""
        coords = np.unravel_index(positions, self.shape)
        pieces = []
        for shard in self.shards:
            inside = np.ones(positions.size, bool)
            for axis, s in enumerate(shard.index):
                inside &= (coords[axis] >= s.start) & (coords[axis] < s.stop)
            if inside.any():
                local = tuple(coords[a][inside] - shard.index[a].start for a in range(self.ndim))
                pieces.append(((np.flatnonzero(inside),), shard.data[local]))
        return pieces

    @overload
    def take(
        self, axis: int, indices: Sequence[int] | np.ndarray, to: None = None
    ) -> np.ndarray: ...
    @overload
    def take(
        self, axis: int, indices: Sequence[int] | np.ndarray, to: int | None
    ) -> np.ndarray | None: ...

    def take(self, axis: int, indices: Sequence[int] | np.ndarray,
             to: int | None = None) -> np.ndarray | None:
        """The whole slices at ``indices`` along ``axis`` (as ``np.take``), assembled from
        the shards that hold their pieces (on every rank, or on rank ``to`` only): only the
        chosen slices travel."""
        axis %= self.ndim
        idx = np.asarray(indices, dtype=np.int64)
        if self.single is not None:
            return np.take(self.single, idx, axis)
        shape = list(self.shape)
        shape[axis] = idx.size
        pieces = []
        for shard in self.shards:  # each shard's part of the chosen slices, placed
            rows = shard.index[axis]
            chosen = np.flatnonzero((idx >= rows.start) & (idx < rows.stop))
            if chosen.size:
                where: list[Any] = list(shard.index)
                where[axis] = chosen
                pieces.append((tuple(where), np.take(shard.data, idx[chosen] - rows.start, axis)))
        return self._assemble(tuple(shape), pieces, to, "values of the chosen slices")

    def unit_rows(self, unit_axes: tuple[int, ...], rows: Sequence[int] | np.ndarray,
                  to: int | None = None) -> np.ndarray | None:
        """Rows ``rows`` of the (units, fan) matrix (``stats.unit_matrix``): the chosen
        units whole, read from the shards that hold them (on every rank, or on ``to``)."""
        axes = tuple(a % self.ndim for a in unit_axes)
        rows = np.asarray(rows, dtype=np.int64)
        if len(axes) == 1:
            picked = self.take(axes[0], rows, to)
            return (
                None if picked is None else np.moveaxis(picked, axes[0], 0).reshape(rows.size, -1)
            )
        return self.unit_block(axes, rows, None, to)

    def unit_block(self, unit_axes: tuple[int, ...], rows: np.ndarray | None,
                   cols: np.ndarray | None, to: int | None = None) -> np.ndarray | None:
        """The (rows, cols) block of the (units, fan) matrix (all of a side where None):
        each shard cuts the part of the block it holds (no index per element is built), and
        the parts are placed (on every rank, or on rank ``to`` only); bounded by the
        block's size."""
        axes = tuple(a % self.ndim for a in unit_axes)
        rest = tuple(a for a in range(self.ndim) if a not in axes)
        units = math.prod(self.shape[a] for a in axes)
        fan = self.size // units
        r = np.arange(units) if rows is None else np.asarray(rows, dtype=np.int64)
        c = np.arange(fan) if cols is None else np.asarray(cols, dtype=np.int64)
        u = np.unravel_index(r, tuple(self.shape[a] for a in axes))
        f = np.unravel_index(c, tuple(self.shape[a] for a in rest)) if rest else ()
        if self.single is not None:
            return _block(self.single, axes, rest, u, f)
        pieces = []
        for shard in self.shards:
            rin = np.ones(r.size, bool)
            for k, a in enumerate(axes):
                rin &= (u[k] >= shard.index[a].start) & (u[k] < shard.index[a].stop)
            cin = np.ones(c.size, bool)
            for k, a in enumerate(rest):
                cin &= (f[k] >= shard.index[a].start) & (f[k] < shard.index[a].stop)
            if rin.any() and cin.any():
                local_u = tuple(u[k][rin] - shard.index[a].start for k, a in enumerate(axes))
                local_f = tuple(f[k][cin] - shard.index[a].start for k, a in enumerate(rest))
                pieces.append(((np.flatnonzero(rin), np.flatnonzero(cin)),
                               _block(shard.data, axes, rest, local_u, local_f)))
        return self._assemble((r.size, c.size), pieces, to, "values of a unit block")

    def slice_keys(self, axis: int) -> np.ndarray:
        """An exact integer key of every slice along ``axis`` (``stats.slice_keys`` of the
        whole tensor): additive over positions, so each shard adds its part."""
        return self.exchange.sum(self.key_partial(axis))

    def key_partial(self, axis: int) -> np.ndarray:
        """This process's part of every slice key along ``axis`` (summed over ranks: the keys)."""
        axis %= self.ndim
        word = np.uint64 if self.dtype.itemsize == 8 else np.uint32
        keys = np.zeros(self.shape[axis], word)
        for shard in self.shards:
            part = slice_keys(shard.data, axis, offset=shard.starts, whole=self.shape)
            keys[shard.index[axis]] += part
        return keys


#: The law that leaves values as they are: unit_sums with it gives raw sums of x and x^2.
_STANDARD = Law("normal", 0.0, 1.0, -math.inf, math.inf, 3.0)


def _block(data: np.ndarray, axes: tuple[int, ...], rest: tuple[int, ...],
           u: tuple[np.ndarray, ...], f: tuple[np.ndarray, ...]) -> np.ndarray:
    """The (units, fan) block of ``data`` at unit coordinates ``u`` and fan coordinates
    ``f``: one take per axis where each side is a single axis (a dense weight), else one
    broadcast fancy index."""
    if len(axes) == 1 and len(rest) == 1:  # axes keep their places: transpose if units are last
        m = np.take(np.take(data, u[0], axes[0]), f[0], rest[0])
        return m if axes[0] < rest[0] else m.T
    d = np.moveaxis(data, axes + rest, tuple(range(data.ndim)))
    size = (u[0].size if u else 1, f[0].size if f else 1)
    return d[tuple(x[:, None] for x in u) + tuple(y[None, :] for y in f)].reshape(size)


def _run(i: Any) -> Any:
    """An increasing index array that is one run (start, start + 1, ...) as a slice: placing
    a block there is a copy, not a scatter."""
    if isinstance(i, slice) or i.size == 0 or int(i[-1]) - int(i[0]) + 1 != i.size:
        return i
    return slice(int(i[0]), int(i[-1]) + 1)


#: What the checks read: a NumPy array held whole, or a tensor held in shards.
Checkable = np.ndarray | ShardedArray


def as_sharded(x: np.ndarray | ShardedArray) -> ShardedArray:
    """``x`` as a ``ShardedArray``: itself, or a NumPy array held whole."""
    return x if isinstance(x, ShardedArray) else ShardedArray.whole(x)


__all__ = ["Checkable", "Exchange", "LOCAL", "Shard", "ShardedArray", "as_sharded", "slice_keys"]
