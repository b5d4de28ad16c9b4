"""Tensors held in pieces (shards) and the statistics the checks read from them, computed
piece by piece and merged: no piece is ever joined to another. Each statistic is a partial
per shard plus a merge that an ``Exchange`` carries out (here, in one process; a
torch.distributed or jax multi-process exchange sums and gathers the same partials across
ranks). What each check needs and how exact the merge is: docs/sharded.md.

- sums (moments, per-unit sums, slice keys): added; exact up to float64 summation order
  (the keys: integers, exact);
- extremes and counts: min, max, sum; exact;
- samples (the KS sample, chosen slices, a submatrix): the values at global positions fixed
  in advance, each read from the shard that holds it; the same values as the whole tensor
  gives, so the tests on them are the same.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initcheck.specs import Law
from initcheck.stats.moments import Summary, summarize
from initcheck.stats.units import UnitSums, unit_sums


#: Elements keyed at a time by ``slice_keys`` (its integer working copy).
KEY_CHUNK = 2**20


def _mix(p: np.ndarray) -> np.ndarray:
    """splitmix64 of each position: a fixed pseudo-random 64-bit word per position."""
    z = p.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def slice_keys(x: np.ndarray, axis: int, *, offset: tuple[int, ...] | None = None,
               whole: tuple[int, ...] | None = None) -> np.ndarray:
    """An exact integer key of each slice along ``axis``: its elements' bits times odd
    multipliers fixed by each element's position in the slice, summed with wrap-around (a
    batched integer matmul), so equal slices have equal keys. The multipliers depend on the
    position in the ``whole`` tensor only, so a piece at ``offset`` adds its part of every
    key (sharded tensors). Keyed a chunk of positions at a time: no copy of the tensor."""
    x = np.ascontiguousarray(x)
    whole = tuple(x.shape) if whole is None else tuple(whole)
    offset = (0,) * x.ndim if offset is None else tuple(offset)
    length = x.shape[axis]
    pre, post = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    word = np.uint64 if x.dtype.itemsize == 8 else np.uint32
    u = x.view(np.dtype(f"u{x.dtype.itemsize}")).reshape(pre, length, post)

    def flat(axes: range) -> np.ndarray:  # global flat index of the piece's coordinates
        if not axes:
            return np.zeros(1, np.int64)
        grids = np.meshgrid(*[np.arange(offset[a], offset[a] + x.shape[a]) for a in axes], indexing="ij")
        return np.ravel_multi_index(tuple(grids), tuple(whole[a] for a in axes)).ravel()

    g_pre, g_post = flat(range(axis)), flat(range(axis + 1, x.ndim))
    post_whole = math.prod(whole[axis + 1:])
    keys = np.zeros(length, word)
    step = max(1, KEY_CHUNK // max(1, length * post))
    with np.errstate(over="ignore"):
        for p in range(0, pre, step):
            positions = g_pre[p:p + step, None] * post_whole + g_post[None, :]
            mults = (_mix(positions).astype(word) | word(1))[:, :, None]
            block = u[p:p + step]
            if block.dtype != word:
                block = block.astype(word)  # 2-byte floats: 16-bit keys would collide too often
            if post == 1:  # one (positions) @ (positions, slices) product, not many tiny ones
                keys += mults[:, 0, 0] @ block[:, :, 0]
            else:
                keys += np.matmul(block, mults).sum(0, dtype=word)[:, 0]
    return keys


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
    to merge (every shard is local). Subclasses carry the same three operations over ranks."""

    def sum(self, value: np.ndarray) -> np.ndarray:
        return value

    def max(self, value: np.ndarray) -> np.ndarray:
        return value

    def gather(self, value: Any) -> list[Any]:
        return [value]


LOCAL = Exchange()


def _normalized(index: Sequence[slice], shape: tuple[int, ...]) -> tuple[slice, ...]:
    out = []
    for s, n in zip(index, shape):
        start, stop, step = s.indices(n)
        if step != 1:
            raise ValueError(f"a shard index {index} has step {step}: shards are contiguous blocks.")
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
                raise ValueError(f"a shard at {index} holds shape {shard.data.shape}, not {expected}.")
            seen.setdefault(tuple((s.start, s.stop) for s in index), Shard(index, np.asarray(shard.data)))
        self.shards = list(seen.values())  # a replicated block counts once

    @classmethod
    def whole(cls, x: np.ndarray) -> ShardedArray:
        """An array held whole: one shard (every statistic then reads it directly)."""
        x = np.asarray(x)
        return cls(x.shape, x.dtype, [Shard(tuple(slice(0, n) for n in x.shape), x)])

    @property
    def single(self) -> np.ndarray | None:
        """The array itself when one local shard is all of it and no one else holds any."""
        if self.exchange is LOCAL and len(self.shards) == 1 and self.shards[0].data.size == self.size:
            return self.shards[0].data
        return None

    def astype(self, dtype: Any) -> ShardedArray:
        """Every shard converted to ``dtype`` (an integer buffer read as float64)."""
        return ShardedArray(self.shape, dtype, [Shard(s.index, s.data.astype(dtype)) for s in self.shards],
                            self.exchange)

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

    def without(self, axis: int, rows: Sequence[int]) -> ShardedArray:
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

    def _sum(self, parts: list[np.ndarray], empty: np.ndarray) -> np.ndarray:
        total = empty.copy()
        for p in parts:
            total = total + p
        return self.exchange.sum(total)

    # ------------------------------------------------------------------ reductions

    def summary(self, law: Law) -> Summary:
        """``stats.summarize`` of the whole tensor: sums added, the largest |z| the max."""
        if self.single is not None:
            return summarize(self.single, law)
        parts = [summarize(s.data, law) for s in self.shards]
        sums = self._sum([np.array([p.n, p.total, p.squares, p.fourth], dtype=np.float64) for p in parts],
                         np.zeros(4))
        top = self.exchange.max(np.array([max((p.max_abs for p in parts), default=0.0)]))
        return Summary(int(round(sums[0])), float(sums[1]), float(sums[2]), float(top[0]),
                       law.kurtosis, float(sums[3]))

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

    def unit_sums(self, unit_axes: tuple[int, ...], law: Law) -> UnitSums:
        """``stats.unit_sums`` of the whole tensor: each shard's per-unit sums placed at its
        units' global indices and added (a unit split over shards adds its pieces)."""
        if self.single is not None:
            return unit_sums(self.single, unit_axes, law)
        axes = tuple(sorted(a % self.ndim for a in unit_axes))
        grid = tuple(self.shape[a] for a in axes)
        units = math.prod(grid)
        length = self.size // units
        s1, s2 = np.zeros(units), np.zeros(units)
        for shard in self.shards:
            part = unit_sums(shard.data, axes, _STANDARD)  # raw sums of x and x^2 per unit
            where = np.ravel_multi_index(np.meshgrid(*[np.arange(shard.index[a].start, shard.index[a].stop)
                                                        for a in axes], indexing="ij"), grid).ravel()
            np.add.at(s1, where, part.total)
            np.add.at(s2, where, part.squares)
        s1, s2 = self.exchange.sum(s1), self.exchange.sum(s2)
        mu, sd = law.mean, law.std
        return UnitSums((s1 - length * mu) / sd, (s2 - 2 * mu * s1 + length * mu * mu) / sd**2,
                        length, law.kurtosis)

    # -------------------------------------------------------------- chosen values

    def take_flat(self, positions: np.ndarray) -> np.ndarray:
        """The values at global flat (C-order) ``positions``, each read from its shard."""
        positions = np.asarray(positions, dtype=np.int64)
        if self.single is not None:
            return self.single.reshape(-1)[positions]
        coords = np.unravel_index(positions, self.shape)
        found: list[tuple[np.ndarray, np.ndarray]] = []
        for shard in self.shards:
            inside = np.ones(positions.size, bool)
            for axis, s in enumerate(shard.index):
                inside &= (coords[axis] >= s.start) & (coords[axis] < s.stop)
            if inside.any():
                local = tuple(coords[a][inside] - shard.index[a].start for a in range(self.ndim))
                found.append((np.flatnonzero(inside), shard.data[local]))
        out = np.empty(positions.size, dtype=self.dtype)
        got = 0
        for part in self.exchange.gather(found):
            for where, values in part:
                out[where] = values
                got += where.size
        if got != positions.size:
            raise ValueError(f"{positions.size - got} of {positions.size} chosen values are held by no"
                             " shard: the shards do not cover the tensor.")
        return out

    def take(self, axis: int, indices: Sequence[int]) -> np.ndarray:
        """The whole slices at ``indices`` along ``axis`` (as ``np.take``), assembled from
        the shards that hold their pieces: only the chosen slices travel."""
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
                block = np.take(shard.data, idx[chosen] - rows.start, axis)
                pieces.append((chosen, tuple(shard.index), block))
        out = np.empty(shape, dtype=self.dtype)
        filled = 0
        for part in self.exchange.gather(pieces):
            for chosen, index, block in part:
                where = list(index)
                where[axis] = chosen
                out[np.ix_(*[np.arange(w.start, w.stop) if isinstance(w, slice) else w for w in where])] = block
                filled += block.size
        if filled != out.size:
            raise ValueError(f"{out.size - filled} of {out.size} values of the chosen slices are held"
                             " by no shard: the shards do not cover the tensor.")
        return out

    def unit_rows(self, unit_axes: tuple[int, ...], rows: Sequence[int]) -> np.ndarray:
        """Rows ``rows`` of the (units, fan) matrix (``stats.unit_matrix``): the chosen
        units whole, read from the shards that hold them."""
        axes = tuple(a % self.ndim for a in unit_axes)
        rows = np.asarray(rows, dtype=np.int64)
        if len(axes) == 1:
            picked = self.take(axes[0], rows)
            return np.moveaxis(picked, axes[0], 0).reshape(rows.size, -1)
        return self.unit_block(axes, rows, None)

    def unit_block(self, unit_axes: tuple[int, ...], rows: np.ndarray | None,
                   cols: np.ndarray | None) -> np.ndarray:
        """The (rows, cols) block of the (units, fan) matrix (all of a side where None):
        each shard cuts the part of the block it holds (no index per element is built), and
        the parts are placed; bounded by the block's size."""
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
                pieces.append((np.flatnonzero(rin), np.flatnonzero(cin),
                               _block(shard.data, axes, rest, local_u, local_f)))
        out = np.empty((r.size, c.size), dtype=self.dtype)
        filled = 0
        for part in self.exchange.gather(pieces):
            for ri, ci, block in part:
                out[np.ix_(ri, ci)] = block
                filled += block.size
        if filled != out.size:
            raise ValueError(f"{out.size - filled} of {out.size} values of a unit block are held by"
                             " no shard: the shards do not cover the tensor.")
        return out
    def slice_keys(self, axis: int) -> np.ndarray:
        """An exact integer key of every slice along ``axis`` (``stats.slice_keys`` of the
        whole tensor): additive over positions, so each shard adds its part."""
        axis %= self.ndim
        word = np.uint64 if self.dtype.itemsize == 8 else np.uint32
        keys = np.zeros(self.shape[axis], word)
        for shard in self.shards:
            part = slice_keys(shard.data, axis, offset=shard.starts, whole=self.shape)
            keys[shard.index[axis]] += part
        return self.exchange.sum(keys)


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


def as_sharded(x: np.ndarray | ShardedArray) -> ShardedArray:
    """``x`` as a ``ShardedArray``: itself, or a NumPy array held whole."""
    return x if isinstance(x, ShardedArray) else ShardedArray.whole(x)


__all__ = ["Exchange", "LOCAL", "Shard", "ShardedArray", "as_sharded", "slice_keys"]
