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
        shape = list(self.shape)
        shape[axis] = idx.size
        grid = np.indices(shape, sparse=False).reshape(self.ndim, -1)
        grid[axis] = idx[grid[axis]]
        positions = np.ravel_multi_index(tuple(grid), self.shape)
        return self.take_flat(positions).reshape(shape)

    def slice_keys(self, axis: int) -> np.ndarray:
        """An exact integer key of every slice along ``axis`` (``stats.slice_keys`` of the
        whole tensor): additive over positions, so each shard adds its part."""
        from initcheck.stats.structure import slice_keys

        axis %= self.ndim
        word = np.uint64 if self.dtype.itemsize == 8 else np.uint32
        keys = np.zeros(self.shape[axis], word)
        for shard in self.shards:
            part = slice_keys(shard.data, axis, offset=shard.starts, whole=self.shape)
            keys[shard.index[axis]] += part
        return self.exchange.sum(keys)


#: The law that leaves values as they are: unit_sums with it gives raw sums of x and x^2.
_STANDARD = Law("normal", 0.0, 1.0, -math.inf, math.inf, 3.0)


__all__ = ["Exchange", "LOCAL", "Shard", "ShardedArray"]
