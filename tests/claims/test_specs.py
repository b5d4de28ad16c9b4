"""Specs: closed-form std and bounds from the papers' formulas, and every Law's moments and
support against the scipy distribution it carries."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy import stats

import initcheck as ic
import initcheck.claims.specs
import initcheck.theory.torch_gains
from initcheck.claims.specs import TRUNCATED_STD_2
from initcheck.strategies import dense_shapes, shapes

ALL_SHAPES = shapes(max_channels=128, max_elements=2**18)


def test_truncation_constant_is_the_std_of_a_standard_normal_cut_at_2():
    assert TRUNCATED_STD_2 == pytest.approx(stats.truncnorm(-2, 2).std(), rel=1e-15)


@given(ALL_SHAPES, st.floats(0.1, 3.0))
def test_paper_formulas(shape, gain):
    f = ic.compute_fans(shape)
    fi, fo = f.fan_in, f.fan_out
    std = lambda name, **kw: ic.spec(name, **kw).law(shape).std  # noqa: E731
    high = lambda name, **kw: ic.spec(name, **kw).law(shape).high  # noqa: E731
    assert std("xavier_normal", gain=gain) == pytest.approx(gain * math.sqrt(2 / (fi + fo)))
    assert high("xavier_uniform", gain=gain) == pytest.approx(gain * math.sqrt(6 / (fi + fo)))
    assert std("he_normal") == pytest.approx(math.sqrt(2 / fi))
    assert std("he_normal", mode="fan_out") == pytest.approx(math.sqrt(2 / fo))
    assert high("he_uniform") == pytest.approx(math.sqrt(6 / fi))
    assert high("he_uniform", gain=gain, mode="fan_out") == pytest.approx(gain * math.sqrt(3 / fo))
    assert std("lecun_normal") == pytest.approx(math.sqrt(1 / fi))
    assert high("lecun_uniform") == pytest.approx(math.sqrt(3 / fi))
    # torch's leaky_relu gain sqrt(2 / (1 + a^2))
    a = gain / 3
    assert std("kaiming_normal", nonlinearity="leaky_relu", a=a) == pytest.approx(
        math.sqrt(2 / (1 + a * a)) / math.sqrt(fi))
    # jax/keras truncated variance scaling keeps the named variance
    vs = ic.spec("variance_scaling", scale=2.0, mode="fan_avg").law(shape)
    assert vs.std == pytest.approx(math.sqrt(2.0 / ((fi + fo) / 2)), rel=1e-12)
    assert vs.high == pytest.approx(2 * math.sqrt(2.0 / ((fi + fo) / 2)) / TRUNCATED_STD_2)


def test_the_article_constants():
    assert ic.spec("small_normal").law((100, 100)).std == 0.01
    assert ic.spec("large_normal").law((100, 100)).std == 1.0
    # on the article's square 100x100 weights xavier is sqrt(1/n) and he sqrt(2/n)
    assert ic.spec("xavier_normal").law((100, 100)).std == pytest.approx(0.1)
    assert ic.spec("he_normal").law((100, 100)).std == pytest.approx(math.sqrt(0.02))


def _laws_for(shape):
    for name in ic.claims.specs.SPECS:
        yield name, ic.spec(name).law(shape)
    yield (
        "variance_scaling(uniform)",
        ic.spec("variance_scaling", distribution="uniform").law(shape),
    )
    yield "variance_scaling(normal)", ic.spec("variance_scaling", distribution="normal").law(shape)
    yield (
        "truncated_normal(a,b)",
        ic.spec("truncated_normal", std=0.3, mean=0.1, a=-0.2, b=0.7).law(shape),
    )
    yield (
        "truncated_normal(lower,upper)",
        ic.spec("truncated_normal", std=2.0, lower=-1, upper=3).law(shape),
    )
    yield "orthogonal(gain)", ic.spec("orthogonal", gain=1.7).law(shape)


@given(ALL_SHAPES)
def test_law_moments_and_support_match_scipy(shape):
    for name, law in _laws_for(shape):
        if law.family == "constant":
            assert law.std == 0 and law.low == law.high == law.mean, name
            continue
        m, v, _, k = (float(x) for x in law.dist.stats(moments="mvsk"))
        assert law.mean == pytest.approx(m, abs=1e-12 * max(1, law.std)), name
        assert law.std == pytest.approx(math.sqrt(v), rel=1e-10), name
        assert law.kurtosis == pytest.approx(k + 3, rel=1e-9), name
        lo, hi = law.dist.support()
        assert (law.low, law.high) == pytest.approx((lo, hi), rel=1e-12), name
        assert law.bounded == (law.family != "normal"), name


@given(dense_shapes(max_fan=300))
def test_orthogonal_law_is_the_haar_marginal(shape):
    law = ic.spec("orthogonal", gain=2.0).law(shape)
    n = max(shape)
    assert law.matrix_shape == (shape[-1], shape[0])
    assert law.std == pytest.approx(2.0 / math.sqrt(n))
    assert law.kurtosis == pytest.approx(3 * n / (n + 2))


def test_orthogonal_units_follow_the_layout_out_axis():
    assert ic.spec("orthogonal").law((64, 32, 3, 3), "torch").matrix_shape == (64, 288)
    assert ic.spec("orthogonal").law((3, 3, 32, 64), "keras").matrix_shape == (64, 288)


def test_spec_names_aliases_and_equality():
    assert ic.spec("glorot_uniform") == ic.spec("xavier_uniform")
    assert ic.spec("kaiming_normal", mode="fan_out") == ic.spec("he_normal", mode="fan_out")
    assert ic.spec("he_normal") != ic.spec("he_normal", mode="fan_out")
    s = ic.spec("he_normal")
    assert ic.spec(s) is s
    assert "fan_in" in str(s) and "he_normal" in repr(s)
    assert len({ic.spec("zeros"), ic.spec("zero"), ic.spec("ones")}) == 2


def test_torch_table_gains():
    assert ic.torch_gain("tanh") == 5 / 3
    assert ic.torch_gain("relu") == math.sqrt(2)
    assert ic.torch_gain("selu") == 0.75
    assert ic.torch_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01**2)))
    assert ic.torch_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))


def test_torch_table_matches_torch():
    torch = pytest.importorskip("torch")
    for name in ic.theory.torch_gains.NONLINEARITIES:
        assert ic.torch_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name)), name
    assert ic.torch_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_laws_are_exact_for_float_shapes_of_numpy_ints():
    assert ic.spec("he_normal").law((np.int64(50), 10)).std == pytest.approx(0.2)


def test_torch_names_follow_torchs_signature_and_defaults():
    """kaiming_* take torch's defaults (nonlinearity='leaky_relu', a=0: ReLU's gain), so
    torch's default Linear init is written as a torch user writes it; he_* keep ReLU."""
    linear_default = ic.spec("kaiming_uniform", a=math.sqrt(5))
    assert linear_default == ic.spec("he_uniform", nonlinearity="leaky_relu", a=math.sqrt(5))
    assert linear_default.law((64, 32), "torch").high == pytest.approx(1 / math.sqrt(32))
    assert ic.spec("kaiming_normal") == ic.spec("he_normal")  # slope 0 is ReLU: one spec
    assert ic.spec("kaiming_uniform", nonlinearity="tanh").params["nonlinearity"] == "tanh"
    with pytest.raises(ValueError, match="leaky_relu's slope"):
        ic.spec("he_uniform", a=math.sqrt(5))
