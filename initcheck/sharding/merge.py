"""Statistics of many tensors at once, merged together: the partials of every sharded tensor
that shares an exchange travel in one collective (a sum, a max or a gather), not one per
tensor, so a model's group of tensors is summarized in a few collectives whatever its size.
Each function returns, tensor by tensor, the statistic of the whole tensor; a tensor held
whole in this process is read directly."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from initcheck.claims.specs import Law
from initcheck.sharding.array import Exchange, ShardedArray
from initcheck.sharding.partials import Summary, UnitSums, summarize, unit_sums


def _by_exchange(arrays: Sequence[ShardedArray], skip: set[int]) -> dict[Exchange, list[int]]:
    """The arrays (by index, but those in ``skip``) grouped by the exchange that merges them."""
    groups: dict[Exchange, list[int]] = {}
    for i, a in enumerate(arrays):
        if i not in skip:
            groups.setdefault(a.exchange, []).append(i)
    return groups


def _merged(
    arrays: Sequence[ShardedArray], partials: dict[int, np.ndarray], op: str
) -> dict[int, np.ndarray]:
    """Each array's partial (by index) merged (``op``: "sum" or "max") over its exchange;
    the partials of arrays that share an exchange travel together, in one collective."""
    out: dict[int, np.ndarray] = {}
    for exchange, idx in _by_exchange(arrays, set(range(len(arrays))) - set(partials)).items():
        flat = getattr(exchange, op)(np.concatenate([np.ravel(partials[i]) for i in idx]))
        ends = np.cumsum([np.size(partials[i]) for i in idx])
        for i, piece in zip(idx, np.split(flat, ends[:-1])):  # integer keys: back to their width
            out[i] = piece.reshape(np.shape(partials[i])).astype(partials[i].dtype, copy=False)
    return out


def summaries(arrays: Sequence[ShardedArray], laws: Sequence[Law]) -> list[Summary]:
    """``stats.summarize`` of each whole tensor: its shards' sums added, the largest |z| the
    max, the sharded tensors merged together."""
    found = {i: summarize(a.single, laws[i]) for i, a in enumerate(arrays) if a.single is not None}
    parts = {i: [summarize(s.data, laws[i]) for s in a.shards]
             for i, a in enumerate(arrays) if i not in found}
    sums = _merged(arrays, {i: np.array([[p.n, p.total, p.squares, p.fourth] for p in ps],
                                        dtype=np.float64).reshape(-1, 4).sum(0)
                            for i, ps in parts.items()}, "sum")
    tops = _merged(arrays, {i: np.array([max((p.max_abs for p in ps), default=0.0)])
                            for i, ps in parts.items()}, "max")
    for i, total in sums.items():
        found[i] = Summary(int(round(total[0])), float(total[1]), float(total[2]),
                           float(tops[i][0]), laws[i].kurtosis, float(total[3]))
    return [found[i] for i in range(len(arrays))]


def all_unit_sums(arrays: Sequence[ShardedArray], unit_axes: Sequence[tuple[int, ...]],
                  laws: Sequence[Law]) -> list[UnitSums]:
    """``stats.unit_sums`` of each whole tensor: each shard's per-unit sums placed at its
    units' global indices and added (a unit split over shards adds its pieces)."""
    found = {i: unit_sums(a.single, unit_axes[i], laws[i])
             for i, a in enumerate(arrays) if a.single is not None}
    merged = _merged(arrays, {i: a.unit_partial(unit_axes[i])
                              for i, a in enumerate(arrays) if i not in found}, "sum")
    for i, (s1, s2) in merged.items():
        length = arrays[i].size // s1.size
        mu, sd = laws[i].mean, laws[i].std
        found[i] = UnitSums((s1 - length * mu) / sd, (s2 - 2 * mu * s1 + length * mu * mu) / sd**2,
                            length, laws[i].kurtosis)
    return [found[i] for i in range(len(arrays))]


def all_slice_keys(arrays: Sequence[ShardedArray], axes: Sequence[int]) -> list[np.ndarray]:
    """``ShardedArray.slice_keys`` of each (tensor, axis) pair, the sharded ones summed
    together (integer sums wrap around: a 32-bit key summed in 64 bits is the same key)."""
    merged = _merged(arrays, {i: a.key_partial(axes[i]) for i, a in enumerate(arrays)}, "sum")
    return [merged[i] for i in range(len(arrays))]


def take_all(arrays: Sequence[ShardedArray], positions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The values at global flat (C-order) ``positions`` of each tensor, each read from the
    shard that holds it, the sharded tensors' gathered together."""
    found = {
        i: a.single.reshape(-1)[positions[i]] for i, a in enumerate(arrays) if a.single is not None
    }
    for exchange, idx in _by_exchange(arrays, set(found)).items():
        ranks = exchange.gather([arrays[i].flat_pieces(np.asarray(positions[i], np.int64))
                                 for i in idx]) or []
        for j, i in enumerate(idx):
            found[i] = arrays[i].place((len(positions[i]),), [r[j] for r in ranks], "chosen values")
    return [found[i] for i in range(len(arrays))]


__all__ = ["all_slice_keys", "all_unit_sums", "summaries", "take_all"]
