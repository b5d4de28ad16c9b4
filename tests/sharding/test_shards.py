"""Statistics of a tensor held in shards equal those of the whole tensor (issue 15): for any
block partition, the merged summaries, extremes, counts, per-unit sums and slice keys equal
the unsharded ones (sums to float64 rounding, the rest exactly), and the chosen values (the
KS sample, whole slices) are the very values the whole tensor gives."""

from __future__ import annotations

import functools
import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, strategies as st

import initcheck as ic
import initcheck.core.fans
from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Tensors
from initcheck.sharding.array import Exchange, Shard, ShardedArray, slice_keys
from initcheck.sharding.merge import all_slice_keys, all_unit_sums, summaries, take_all
from initcheck.sharding.partials import summarize, unit_sums
from tests.api_space import examples


@st.composite
def partitioned(draw):
    """(whole array, its shards): a random shape cut into a grid of blocks along each axis,
    with a few shards repeated (replicas) and, sometimes, copied slices and a NaN."""
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from([np.float32, np.float64, np.float16]))
    x = np.random.default_rng(draw(st.integers(0, 2**16))).normal(0.1, 1.3, shape).astype(dtype)
    if x.ndim >= 2 and x.shape[0] >= 2 and draw(st.booleans()):
        x[1] = x[0]  # a repeated slice the keys must find
    cuts = [
        sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=3))) - {n}) for n in shape
    ]
    bounds = [[0, *c, n] for c, n in zip(cuts, shape)]
    shards = []
    for block in itertools.product(*[list(zip(b, b[1:])) for b in bounds]):
        index = tuple(slice(a, b) for a, b in block)
        shards.append(Shard(index, x[index].copy()))
    shards += draw(st.lists(st.sampled_from(shards), max_size=2))  # replicas count once
    return x, shards


LAW = ic.spec("normal", mean=0.1, std=1.3).law((4, 4))


@examples(60)
@given(partitioned())
def test_merged_statistics_equal_the_whole_tensors(drawn):
    x, shards = drawn
    sharded = ShardedArray(x.shape, x.dtype, shards)
    assert sharded.held == x.size
    whole = summarize(x, LAW)
    merged = summaries([sharded], [LAW])[0]
    assert merged.n == whole.n and merged.max_abs == whole.max_abs
    for field in ("total", "squares", "fourth"):
        assert getattr(merged, field) == pytest.approx(getattr(whole, field), rel=1e-12, abs=1e-9)
    assert sharded.extremes() == (float(x.min()), float(x.max()))
    assert sharded.count(lambda a: a > 0.5) == int(np.count_nonzero(x > 0.5))
    for axes in [(a,) for a in range(x.ndim)] + ([(0, x.ndim - 1)] if x.ndim >= 2 else []):
        w, m = unit_sums(x, axes, LAW), all_unit_sums([sharded], [axes], [LAW])[0]
        np.testing.assert_allclose(m.total, w.total, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(m.squares, w.squares, rtol=1e-10, atol=1e-9)
        assert m.length == w.length
    positions = stats.spaced(x.size, 7)
    np.testing.assert_array_equal(take_all([sharded], [positions])[0], x.ravel()[positions])
    for axis in range(x.ndim):
        chosen = stats.spaced(x.shape[axis], 3)
        np.testing.assert_array_equal(sharded.take(axis, chosen), np.take(x, chosen, axis))
        np.testing.assert_array_equal(sharded.slice_keys(axis), slice_keys(x, axis))
    for axes in [(a,) for a in range(x.ndim)] + ([(0, x.ndim - 1)] if x.ndim >= 2 else []):
        m = stats.unit_matrix(x, axes)
        rows = stats.spaced(m.shape[0], 2)
        np.testing.assert_array_equal(sharded.unit_rows(axes, rows), m[rows])
        cols = stats.spaced(m.shape[1], 3)
        np.testing.assert_array_equal(sharded.unit_block(axes, None, cols), m[:, cols])


def test_equal_keys_are_equal_slices_and_the_whole_is_needed():
    x = np.random.default_rng(1).normal(size=(6, 5)).astype(np.float32)
    x[4] = x[2]
    sharded = ShardedArray(x.shape, x.dtype, [Shard((slice(0, 6), slice(0, 2)), x[:, :2]),
                                              Shard((slice(0, 6), slice(2, 5)), x[:, 2:])])
    keys = sharded.slice_keys(0)
    assert keys[4] == keys[2] and len(set(keys.tolist())) == 5
    partial = ShardedArray(x.shape, x.dtype, [Shard((slice(0, 3), slice(0, 5)), x[:3])])
    with pytest.raises(ValueError, match="held by no shard"):
        take_all([partial], [np.array([0, 29])])
    with pytest.raises(ValueError, match="holds shape"):
        ShardedArray(x.shape, x.dtype, [Shard((slice(0, 3), slice(0, 5)), x[:2])])
    assert math.isclose(
        summaries([sharded], [LAW])[0].squares, summarize(x, LAW).squares, rel_tol=1e-12
    )


# ------------------------------------------------------------------ several ranks, as threads

class _Board:
    """What the ranks of a ThreadExchange share: a barrier and one slot per rank."""

    def __init__(self, ranks: int) -> None:
        self.barrier, self.slots = threading.Barrier(ranks, timeout=60), [None] * ranks


class ThreadExchange(Exchange):
    """An exchange between threads of one process, one per rank: the same merges a
    torch.distributed exchange carries, without processes (so Hypothesis can drive them)."""

    def __init__(self, board: _Board, rank: int) -> None:
        self.board, self.rank, self.size = board, rank, len(board.slots)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ThreadExchange) and other.board is self.board

    def __hash__(self) -> int:
        return id(self.board)

    def _all(self, value):
        self.board.slots[self.rank] = value
        self.board.barrier.wait()
        out = list(self.board.slots)
        self.board.barrier.wait()
        return out

    def sum(self, value):
        with np.errstate(over="ignore"):
            return functools.reduce(np.add, self._all(value))

    def max(self, value):
        return functools.reduce(np.maximum, self._all(value))

    def gather(self, value, to=None):
        parts = self._all(value)
        return parts if to is None or to == self.rank else None


def on_ranks(ranks: int, work):
    """``work(rank)`` on ``ranks`` threads at once; their results in rank order."""
    with ThreadPoolExecutor(ranks) as pool:
        return [f.result() for f in [pool.submit(work, r) for r in range(ranks)]]


def spread_over(x: np.ndarray, shards: list[Shard], board: _Board, rank: int) -> ShardedArray:
    """The distinct blocks of ``shards`` dealt to the ranks in turn; this rank's share."""
    blocks = list({tuple((s.start, s.stop) for s in sh.index): sh for sh in shards}.values())
    mine = [b for i, b in enumerate(blocks) if i % len(board.slots) == rank]
    return ShardedArray(x.shape, x.dtype, mine, ThreadExchange(board, rank))


@examples(20)
@given(partitioned(), st.integers(2, 3))
def test_ranks_merge_to_the_whole_tensors_statistics(drawn, ranks):
    x, shards = drawn
    board = _Board(ranks)

    def work(rank):
        a = spread_over(x, shards, board, rank)
        axes = (0,)
        to = ranks - 1
        wide = spread_over(x.astype(np.float64), [Shard(s.index, s.data.astype(np.float64))
                                                   for s in shards], board, rank)
        keys = all_slice_keys([a, wide, a], [0, 0, x.ndim - 1])  # 32- and 64-bit keys in one sum
        return (summaries([a, a], [LAW, LAW]), all_unit_sums([a], [axes], [LAW])[0],
                take_all([a], [stats.spaced(x.size, 7)])[0], a.slice_keys(0), a.extremes(),
                a.take(0, [0, x.shape[0] - 1], to), a.unit_block(axes, None, None, to), keys)

    whole = summarize(x, LAW)
    for rank, (sums, units, sample, keys, ends, taken, block, batch) in enumerate(
        on_ranks(ranks, work)
    ):
        for got, want in zip(batch, [slice_keys(x, 0), slice_keys(x.astype(np.float64), 0),
                                     slice_keys(x, x.ndim - 1)]):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
        assert sums[0] == sums[1] and sums[0].n == whole.n and sums[0].max_abs == whole.max_abs
        assert sums[0].squares == pytest.approx(whole.squares, rel=1e-12, abs=1e-9)
        np.testing.assert_allclose(
            units.total, unit_sums(x, (0,), LAW).total, rtol=1e-10, atol=1e-9
        )
        np.testing.assert_array_equal(sample, x.ravel()[stats.spaced(x.size, 7)])
        np.testing.assert_array_equal(keys, slice_keys(x, 0))
        assert ends == (float(x.min()), float(x.max()))
        if rank == ranks - 1:  # gathered on rank ``to`` only
            np.testing.assert_array_equal(taken, np.take(x, [0, x.shape[0] - 1], 0))
            np.testing.assert_array_equal(block, stats.unit_matrix(x, (0,)))
        else:
            assert taken is None and block is None


def test_checks_shared_out_over_ranks_give_the_unsharded_verdicts():
    """A group of tensors sharded over 3 ranks: the bounded checks are shared out (each
    tensor's on one rank), and every rank returns the unsharded context's verdicts."""
    rng = np.random.default_rng(5)
    claim = ic.spec("he_normal")
    shapes = [(96, 64), (64, 200), (300, 40), (128, 128)]
    ws = {f"w{i}": claim.law(s, "torch") for i, s in enumerate(shapes)}
    xs = {
        k: rng.normal(0, law.std, s).astype(np.float32) for (k, law), s in zip(ws.items(), shapes)
    }
    xs["w3"][:, :8] = xs["w3"][:, 8:16]  # copied columns: unit_correlation and distinct_units fail
    layout = ic.core.fans.get_layout("torch")
    whole = checks.run(Tensors(claim, xs, ws, layout), 0.01)
    board = _Board(3)

    def work(rank):
        parts = {
            k: spread_over(
                x,
                [
                    Shard(
                        (
                            slice(r * x.shape[0] // 3, (r + 1) * x.shape[0] // 3),
                            slice(0, x.shape[1]),
                        ),
                        x[r * x.shape[0] // 3 : (r + 1) * x.shape[0] // 3],
                    )
                    for r in range(3)
                ],
                board,
                rank,
            )
            for k, x in xs.items()
        }
        return checks.run(Tensors(claim, parts, ws, layout), 0.01)

    expected = {c.name: (c.passed, c.pvalue, c.extra.get("where")) for c in whole}
    assert not expected["unit_correlation"][0] and expected["std"][0]
    for found in on_ranks(3, work):
        got = {c.name: (c.passed, c.pvalue, c.extra.get("where")) for c in found}
        assert got.keys() == expected.keys()
        for name, (passed, p, where) in expected.items():
            assert got[name][0] == passed and got[name][2] == where, name
            assert got[name][1] == pytest.approx(p, rel=1e-9, abs=1e-300), name
