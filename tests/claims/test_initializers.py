"""Initializers: each sampler draws what its spec claims.

Statistical tests here use fixed shapes and seeds derived with ``initcheck.core.seeding`` from the
test's name, so each outcome is reproducible. Each mean and std assertion is an exact (or
CLT) two-sided test at ALPHA = 1e-6: a correct sampler fails one with probability at most
1e-6, and the whole file (under 80 such assertions) at most 8e-5 (Bonferroni).
"""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import initcheck as ic
from initcheck import stats
from initcheck.core import seeding
from initcheck.strategies import shapes

ALPHA = 1e-6

#: (name, spec params, layout): every built-in, with the parameters that change its law.
CONFIGS = [
    ("small_normal", {}, "keras"),
    ("large_normal", {}, "keras"),
    ("normal", {"mean": 0.5, "std": 2.0}, "keras"),
    ("uniform", {"low": -0.5, "high": 1.5}, "keras"),
    ("xavier_normal", {}, "keras"),
    ("xavier_normal", {"gain": 5 / 3}, "torch"),
    ("xavier_uniform", {}, "keras"),
    ("xavier_uniform", {"gain": 2.0}, "torch"),
    ("he_normal", {}, "keras"),
    ("he_normal", {"mode": "fan_out"}, "torch"),
    ("he_uniform", {}, "keras"),
    ("he_uniform", {"nonlinearity": "leaky_relu", "a": math.sqrt(5)}, "torch"),
    ("lecun_normal", {}, "keras"),
    ("lecun_uniform", {}, "torch"),
    ("truncated_normal", {}, "keras"),
    ("truncated_normal", {"std": 0.02, "a": -0.03, "b": 0.05}, "keras"),
    ("variance_scaling", {"scale": 2.0, "mode": "fan_avg"}, "keras"),
    ("variance_scaling", {"mode": "fan_geo_avg", "distribution": "uniform"}, "torch"),
    ("variance_scaling", {"scale": 0.5, "mode": "fan_out", "distribution": "normal"}, "keras"),
    ("orthogonal", {}, "keras"),
    ("orthogonal", {"gain": 1.5}, "torch"),
]
#: Dense, square and non-square conv, 1d/3d, and small fans; about 520k elements in all.
KERAS_SHAPES = [(784, 256), (3, 3, 64, 128), (5, 1, 16, 8), (7, 32, 48), (2, 3, 3, 8, 16), (7, 3)]


def _shapes(layout):
    if layout == "keras":
        return KERAS_SHAPES
    # the same layers stored the torch way: (out, in, *k)
    return [(s[-1], s[-2], *s[:-2]) for s in KERAS_SHAPES]


def _draw(name, params, layout):
    init = ic.initializers.get(name, layout=layout, **params)
    for shape in _shapes(layout):
        rng = seeding.generator(0, "test_initializers", name, repr(params), layout, shape)
        yield init(shape, rng=rng, dtype=np.float64), init.law(shape)


def _ids(config):
    name, params, layout = config
    return f"{name}-{layout}-" + ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                                          for k, v in params.items())


@pytest.mark.parametrize("config", CONFIGS, ids=[_ids(c) for c in CONFIGS])
def test_mean_std_and_support_match_the_spec(config):
    """Pooled over the shapes: mean z-test and sigma test (exact chi-square for normal,
    moment z-test with the spec's kurtosis otherwise) at ALPHA each; support exactly."""
    name, params, layout = config
    pairs = list(_draw(name, params, layout))
    for shape, (x, law) in zip(_shapes(layout), pairs, strict=True):
        assert x.shape == shape and x.dtype == np.float64 and np.all(np.isfinite(x))
        result = stats.support(x, law)
        assert result.passed, result.detail
    summaries = [stats.summarize(x, law) for x, law in pairs]
    mean = stats.mean_test(summaries, ALPHA)
    assert mean.passed, mean.detail
    assert mean.mde < 0.015  # the test resolves a shift of 1.5% of sigma
    family = pairs[0][1].family
    if family == "orthogonal":  # sum of squares is fixed exactly: the Gram check covers it
        return
    sigma = (stats.sigma_chi2_test if family == "normal" else stats.sigma_moment_test)(
        summaries, ALPHA)
    assert sigma.passed, sigma.detail
    assert sigma.mde < 0.02  # and a 2% error in sigma


TRUNCATED = [c for c in CONFIGS if ic.spec(c[0], **c[1]).family == "truncated_normal"]


@pytest.mark.parametrize("config", TRUNCATED, ids=[_ids(c) for c in TRUNCATED])
def test_truncated_normal_is_truncated_not_clamped(config):
    """No mass piled at the bounds (binomial test at ALPHA), and the bounds are reached
    (exact edge test at ALPHA), on the largest shape."""
    name, params, layout = config
    x, law = next(_draw(name, params, layout))
    assert law.family == "truncated_normal"
    for check in (stats.atoms_test(x, law, ALPHA), stats.edge_test(x, law, ALPHA)):
        assert check.passed, check.detail


@given(shapes(max_channels=40, max_elements=4096), st.sampled_from(ic.initializers.names()),
       st.sampled_from([np.float16, np.float32, np.float64]), st.sampled_from(["keras", "torch"]))
def test_shape_dtype_support_and_determinism(shape, name, dtype, layout):
    init = ic.initializers.get(name, layout=layout)
    a = init(shape, rng=7, dtype=dtype)
    b = init(shape, rng=np.random.default_rng(7), dtype=dtype)
    c = init(shape, rng=8, dtype=dtype)
    assert a.shape == shape and a.dtype == np.dtype(dtype)
    assert np.array_equal(a, b), "the same seed must give the same tensor"
    assert np.all(np.isfinite(a))
    law = init.law(shape)
    assert stats.support(a, law).passed
    if law.family != "constant" and a.size >= 4:
        assert not np.array_equal(a, c), "different seeds must give different tensors"


@given(shapes(kinds=("dense", "conv1d", "conv2d"), max_channels=48, max_elements=8192),
       st.sampled_from(["keras", "torch"]), st.floats(0.25, 4.0))
def test_orthogonal_units_are_orthonormal_times_gain(shape, layout, gain):
    """Q^T Q = g^2 I over the smaller side of the (units, fan) matrix (deterministic)."""
    init = ic.initializers.orthogonal(gain=gain, layout=layout)
    w = init(shape, rng=seeding.generator(1, shape, layout), dtype=np.float64)
    out_axis = 0 if layout == "torch" else w.ndim - 1
    units = np.moveaxis(w, out_axis, 0).reshape(shape[out_axis], -1)
    gram = units @ units.T if units.shape[0] <= units.shape[1] else units.T @ units
    np.testing.assert_allclose(gram, gain**2 * np.eye(gram.shape[0]), atol=1e-10 * gain**2)


def test_float16_draws_are_rounded_float32_draws():
    for name in ("he_normal", "xavier_uniform", "truncated_normal", "orthogonal"):
        init = ic.initializers.get(name)
        w32 = init((64, 32), rng=3, dtype=np.float32)
        w16 = init((64, 32), rng=3, dtype=np.float16)
        assert np.array_equal(w16, w32.astype(np.float16)), name


@pytest.mark.parametrize("method, spec_name", [
    ("small", "small_normal"), ("large", "large_normal"), ("xavier", "xavier_normal"),
    ("he", "he_normal"), ("relu", "he_normal"), ("zeros", "zeros"), ("constant", "constant")])
def test_article_methods_by_name(method, spec_name):
    init = ic.initializers.by_short_name(method)
    assert init.spec == ic.spec(spec_name)
    # the article's code: randn(n, n) * scale on 100 x 100 weights
    scale = {"small": 0.01, "large": 1.0, "xavier": math.sqrt(1 / 100), "he": math.sqrt(2 / 100),
             "relu": math.sqrt(2 / 100), "zeros": 0.0, "constant": 0.0}[method]
    assert init.law((100, 100)).std == pytest.approx(scale)


def test_constant_and_zeros_fill_exactly():
    assert np.all(ic.initializers.constant(0.25)((3, 4)) == 0.25)
    assert not np.any(ic.initializers.zeros()((3, 4, 5)))
    assert np.all(ic.initializers.ones()((2, 2), dtype=np.float16) == 1)


def test_rng_forms():
    init = ic.initializers.xavier_uniform()
    seq = np.random.SeedSequence(5)
    assert np.array_equal(init((4, 4), rng=seq), init((4, 4), rng=np.random.SeedSequence(5)))
    assert init((4, 4)).shape == (4, 4)  # None: fresh entropy


def test_factories_and_get_agree():
    a = ic.initializers.kaiming_uniform(mode="fan_out", layout="torch")
    b = ic.initializers.get("he_uniform", mode="fan_out", layout="torch")
    assert a.spec == b.spec and a.layout == b.layout
    assert np.array_equal(a((8, 4, 3), rng=1), b((8, 4, 3), rng=1))
    assert "layout" in str(__import__("inspect").signature(ic.initializers.he_normal))


def test_grouped_layout_changes_fan_out_and_std():
    shape = (32, 4, 3, 3)  # torch, groups=8: 32 in and out channels
    logical = ic.initializers.he_normal(mode="fan_out", layout="torch", groups=8).law(shape)
    torchs = ic.initializers.he_normal(mode="fan_out", layout="torch", groups=8,
                                       convention="torch").law(shape)
    assert logical.std == pytest.approx(math.sqrt(2 / (4 * 9)))
    assert torchs.std == pytest.approx(math.sqrt(2 / (32 * 9)))
