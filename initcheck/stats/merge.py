"""Statistics of many sharded tensors merged together: the partials of every tensor that
shares an exchange travel in one collective (a sum, a max or a gather), not one per tensor.
A model's group of tensors is summarized in a few collectives whatever its size. Each
function returns what the per-tensor ``ShardedArray`` method returns, tensor by tensor."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from initcheck.specs import Law
from initcheck.stats.moments import Summary, summarize
from initcheck.stats.shards import Exchange, ShardedArray
from initcheck.stats.units import UnitSums, unit_sums


def _merged(arrays: Sequence[ShardedArray], partials: Sequence[np.ndarray], op: str) -> list[np.ndarray]:
    """Each array's partial merged (``op``: "sum" or "max") over its exchange; the partials
    of arrays that share an exchange travel together, in one collective."""
    out: list[np.ndarray] = [np.empty(0)] * len(arrays)
    groups: dict[Exchange, list[int]] = {}
    for i, a in enumerate(arrays):
        groups.setdefault(a.exchange, []).append(i)
    for exchange, idx in groups.items():
        flat = getattr(exchange, op)(np.concatenate([np.ravel(partials[i]) for i in idx]))
        ends = np.cumsum([np.size(partials[i]) for i in idx])
        for i, piece in zip(idx, np.split(flat, ends[:-1])):
            out[i] = piece.reshape(np.shape(partials[i]))
    return out


def summaries(arrays: Sequence[ShardedArray], laws: Sequence[Law]) -> list[Summary]:
    """``ShardedArray.summary`` of several tensors, the sharded ones merged together."""
    out: list[Summary | None] = [summarize(a.single, law) if a.single is not None else None
                                 for a, law in zip(arrays, laws)]
    todo = [i for i, o in enumerate(out) if o is None]
    parts = {i: [summarize(s.data, laws[i]) for s in arrays[i].shards] for i in todo}
    sums = _merged([arrays[i] for i in todo],
                   [np.array([[p.n, p.total, p.squares, p.fourth] for p in parts[i]],
                             dtype=np.float64).reshape(-1, 4).sum(0) for i in todo], "sum")
    tops = _merged([arrays[i] for i in todo],
                   [np.array([max((p.max_abs for p in parts[i]), default=0.0)]) for i in todo], "max")
    for i, total, top in zip(todo, sums, tops):
        out[i] = Summary(int(round(total[0])), float(total[1]), float(total[2]), float(top[0]),
                         laws[i].kurtosis, float(total[3]))
    return out  # type: ignore[return-value]


def all_unit_sums(arrays: Sequence[ShardedArray], unit_axes: Sequence[tuple[int, ...]],
                  laws: Sequence[Law]) -> list[UnitSums]:
    """``ShardedArray.unit_sums`` of several tensors, the sharded ones merged together."""
    out: list[UnitSums | None] = [unit_sums(a.single, axes, law) if a.single is not None else None
                                  for a, axes, law in zip(arrays, unit_axes, laws)]
    todo = [i for i, o in enumerate(out) if o is None]
    merged = _merged([arrays[i] for i in todo], [arrays[i].unit_partial(unit_axes[i]) for i in todo], "sum")
    for i, (s1, s2) in zip(todo, merged):
        length = arrays[i].size // s1.size
        mu, sd = laws[i].mean, laws[i].std
        out[i] = UnitSums((s1 - length * mu) / sd, (s2 - 2 * mu * s1 + length * mu * mu) / sd**2,
                          length, laws[i].kurtosis)
    return out  # type: ignore[return-value]


def take_all(arrays: Sequence[ShardedArray], positions: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``ShardedArray.take_flat`` of several tensors, the sharded ones gathered together."""
    out = [a.single.reshape(-1)[p] if a.single is not None else None for a, p in zip(arrays, positions)]
    groups: dict[Exchange, list[int]] = {}
    for i, a in enumerate(arrays):
        if out[i] is None:
            groups.setdefault(a.exchange, []).append(i)
    for exchange, idx in groups.items():
        ranks = exchange.gather([arrays[i].flat_pieces(np.asarray(positions[i], np.int64))
                                 for i in idx]) or []
        for j, i in enumerate(idx):
            out[i] = arrays[i].place((len(positions[i]),), [r[j] for r in ranks], "chosen values")
    return out  # type: ignore[return-value]


__all__ = ["all_unit_sums", "summaries", "take_all"]
