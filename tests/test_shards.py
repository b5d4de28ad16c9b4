"""Statistics of a tensor held in shards equal those of the whole tensor (issue 15): for any
block partition, the merged summaries, extremes, counts, per-unit sums and slice keys equal
the unsharded ones (sums to float64 rounding, the rest exactly), and the chosen values (the
KS sample, whole slices) are the very values the whole tensor gives."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import initcheck as ic
from initcheck.stats import structure
from initcheck.stats.moments import summarize
from initcheck.stats.shards import Shard, ShardedArray, slice_keys
from initcheck.stats.units import unit_sums
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
    cuts = [sorted(set(draw(st.lists(st.integers(1, max(1, n - 1)), max_size=3))) - {n}) for n in shape]
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
    merged = sharded.summary(LAW)
    assert merged.n == whole.n and merged.max_abs == whole.max_abs
    for field in ("total", "squares", "fourth"):
        assert getattr(merged, field) == pytest.approx(getattr(whole, field), rel=1e-12, abs=1e-9)
    assert sharded.extremes() == (float(x.min()), float(x.max()))
    assert sharded.count(lambda a: a > 0.5) == int(np.count_nonzero(x > 0.5))
    for axes in [(a,) for a in range(x.ndim)] + ([(0, x.ndim - 1)] if x.ndim >= 2 else []):
        w, m = unit_sums(x, axes, LAW), sharded.unit_sums(axes, LAW)
        np.testing.assert_allclose(m.total, w.total, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(m.squares, w.squares, rtol=1e-10, atol=1e-9)
        assert m.length == w.length
    positions = structure.spaced(x.size, 7)
    np.testing.assert_array_equal(sharded.take_flat(positions), x.ravel()[positions])
    for axis in range(x.ndim):
        chosen = structure.spaced(x.shape[axis], 3)
        np.testing.assert_array_equal(sharded.take(axis, chosen), np.take(x, chosen, axis))
        np.testing.assert_array_equal(sharded.slice_keys(axis), slice_keys(x, axis))
    for axes in [(a,) for a in range(x.ndim)] + ([(0, x.ndim - 1)] if x.ndim >= 2 else []):
        m = structure.unit_matrix(x, axes)
        rows = structure.spaced(m.shape[0], 2)
        np.testing.assert_array_equal(sharded.unit_rows(axes, rows), m[rows])
        cols = structure.spaced(m.shape[1], 3)
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
        partial.take_flat(np.array([0, 29]))
    with pytest.raises(ValueError, match="holds shape"):
        ShardedArray(x.shape, x.dtype, [Shard((slice(0, 3), slice(0, 5)), x[:2])])
    assert math.isclose(sharded.summary(LAW).squares, summarize(x, LAW).squares, rel_tol=1e-12)
