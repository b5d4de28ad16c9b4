"""Mean-field theory: exact Gaussian expectations (against 20-digit mpmath), the reference
numbers of docs/theory.md, the papers' numbers, and derived gains."""

import functools
import math

import mpmath as mp
import numpy as np
import pytest

import initcheck as ic
import initcheck.theory.gains
from initcheck.theory import meanfield as T
from initcheck.theory.activations import SELU_ALPHA, SELU_LAMBDA

mp.mp.dps = 20  # 20 digits: ten more than the 1e-10 the comparisons ask for

MP_PHI = {
    "tanh": (mp.tanh, lambda u: 1 - mp.tanh(u) ** 2),
    "sigmoid": (lambda u: 1 / (1 + mp.e ** (-u)), lambda u: mp.e ** (-u) / (1 + mp.e ** (-u)) ** 2),
    "gelu": (lambda u: u * mp.ncdf(u), lambda u: mp.ncdf(u) + u * mp.npdf(u)),
    "silu": (
        lambda u: u / (1 + mp.e ** (-u)),
        lambda u: (1 / (1 + mp.e ** (-u))) * (1 + u * (1 - 1 / (1 + mp.e ** (-u)))),
    ),
    "softplus": (lambda u: mp.log(1 + mp.e**u), lambda u: 1 / (1 + mp.e ** (-u))),
    "elu": (lambda u: u if u > 0 else mp.e**u - 1, lambda u: 1 if u > 0 else mp.e**u),
    "selu": (
        lambda u: SELU_LAMBDA * (u if u > 0 else SELU_ALPHA * (mp.e**u - 1)),
        lambda u: SELU_LAMBDA * (1 if u > 0 else SELU_ALPHA * mp.e**u),
    ),
    "relu": (lambda u: max(u, 0), lambda u: 1 if u > 0 else 0),
    "leaky_relu": (
        lambda u: u if u > 0 else mp.mpf("0.01") * u,
        lambda u: 1 if u > 0 else mp.mpf("0.01"),
    ),
    "linear": (lambda u: u, lambda u: 1),
}


@functools.cache
def reference(name, q, kind):
    phi, dphi = MP_PHI[name]
    g = {"phi": phi, "phi2": lambda u: phi(u) ** 2, "dphi2": lambda u: dphi(u) ** 2,
         "phi4": lambda u: phi(u) ** 4}[kind]
    s = mp.sqrt(q)
    pts = sorted({mp.mpf(0), *(mp.mpf(c) / s for c in (-8, -4, -2, -1, -0.5, 0.5, 1, 2, 4, 8))})
    f = lambda z: g(s * z) * mp.npdf(z)  # noqa: E731
    return mp.quad(f, [-mp.inf, *pts, mp.inf])


@pytest.mark.parametrize("name", list(MP_PHI))
@pytest.mark.parametrize("q", [1e-4, 0.3, 1.0, 7.0, 100.0, 1e4])
@pytest.mark.parametrize("kind", ["phi", "phi2", "dphi2", "phi4"])
def test_gaussian_expectations_are_exact(name, q, kind):
    """Relative error <= 1e-10 (E[phi] of an odd activation is 0: there the error is judged
    against the size of phi, sqrt(E[phi^2]))."""
    ours = T.moment(name, q, kind)
    ref = float(reference(name, q, kind))
    scale = math.sqrt(float(reference(name, q, "phi2"))) if kind == "phi" else 0.0
    assert ours == pytest.approx(ref, rel=1e-10, abs=1e-10 * scale), (name, q, kind)


def test_design_table():
    table = {  # E[phi(z)^2], E[phi'(z)^2], gain for q* = 1
        "tanh": (0.394294, 0.464403, 1.5925),
        "sigmoid": (0.293379, 0.044836, 1.8462),
        "relu": (0.5, 0.5, math.sqrt(2)),
        "selu": (1.0, 1.071575, 1.0),
        "gelu": (0.425221, 0.455851, 1.5335),
    }
    for name, (phi2, dphi2, g) in table.items():
        assert T.moment(name, 1.0, "phi2") == pytest.approx(phi2, abs=5e-7), name
        assert T.moment(name, 1.0, "dphi2") == pytest.approx(dphi2, abs=5e-7), name
        assert ic.gain(name).value == pytest.approx(g, abs=5e-5), name


def test_torch_table_gains_and_what_they_do():
    tanh = ic.theory.gains.gain_effect("tanh", ic.torch_gain("tanh"))
    assert tanh.output_std == pytest.approx(0.651, abs=5e-4) and tanh.chi1 == pytest.approx(
        1.21, abs=5e-3
    )
    sig = ic.theory.gains.gain_effect("sigmoid", ic.torch_gain("sigmoid"))
    assert sig.chi1 == pytest.approx(0.0557, abs=5e-5)  # gradient variance x0.0557 per layer
    selu = ic.theory.gains.gain_effect("selu", ic.torch_gain("selu"))
    assert selu.q_star == pytest.approx(0.023, abs=5e-4)  # the signal decays
    relu = ic.theory.gains.gain_effect("relu", ic.torch_gain("relu"))
    assert relu.chi1 == pytest.approx(1.0, rel=1e-15) and relu.q_star == 1.0


def test_relu_is_exact_where_naive_quadrature_is_not():
    # Gauss-Hermite with 101 nodes misses ReLU's step derivative: chi_1 = 0.876, not 1
    z, w = np.polynomial.hermite_e.hermegauss(101)
    naive = 2.0 * float(np.sum(w * (z > 0))) / math.sqrt(2 * math.pi)
    assert naive == pytest.approx(0.876, abs=2e-3)
    assert T.chi1("relu", 1.0, 2.0) == 1.0
    mf = T.predict("relu", 40, 2.0)
    assert np.all(mf.q == 2.0)  # q_l = sigma_w^2 q_0 at the first layer, then exactly kept
    assert np.all(mf.grad == 0.5)


def test_large_q_is_integrated_adaptively():
    # a fixed 300-node Gauss-Hermite rule misses tanh's transition, squeezed into |z| < 0.1
    # at q = 100: here it is 37% low (a 7x error is sometimes quoted for another variant of the
    # rule)
    z, w = np.polynomial.hermite_e.hermegauss(300)
    naive = float(np.sum(w * (1 - np.tanh(10 * z) ** 2) ** 2)) / math.sqrt(2 * math.pi)
    exact = float(reference("tanh", 100.0, "dphi2"))
    assert abs(naive / exact - 1) > 0.3
    for q in (100.0, 1e4, 1e6):
        assert T.moment("tanh", q, "dphi2") == pytest.approx(
            float(reference("tanh", q, "dphi2")), rel=1e-10
        )


@pytest.mark.parametrize("a", [0.0, 0.01, 0.2, 1.0])
def test_closed_form_gains(a):
    assert ic.gain("leaky_relu", a=a).value == pytest.approx(math.sqrt(2 / (1 + a * a)), rel=1e-14)
    assert ic.gain("linear").value == 1.0
    assert ic.gain("relu", "edge_of_chaos").value == pytest.approx(math.sqrt(2))


def test_gain_targets():
    b = ic.gain("tanh", "backward")
    assert b.value == pytest.approx(1 / math.sqrt(0.4644029), rel=1e-6)
    e = ic.gain("tanh", "edge_of_chaos")
    assert e.value == pytest.approx(1.0, abs=1e-6) and e.chi1 == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="Allowed values"):
        ic.gain("tanh", "sideways")


def test_glorot_2010_standard_vs_normalized():
    standard = T.predict("tanh", 5, 1 / 3, widths=[1000] * 6)  # U[-1/sqrt(n), 1/sqrt(n)]
    normalized = T.predict("tanh", 5, 1.0, widths=[1000] * 6)  # Xavier
    assert standard.post_std == pytest.approx([0.461, 0.249, 0.141, 0.081, 0.047], abs=1.5e-3)
    assert normalized.post_std == pytest.approx([0.629, 0.487, 0.409, 0.358, 0.322], abs=1.5e-3)
    # the standard init shrinks the std by about 1/sqrt(3) per layer
    ratios = standard.post_std[1:] / standard.post_std[:-1]
    assert np.all(np.abs(ratios - 1 / math.sqrt(3)) < 0.04)


def test_he_2015_relu_with_one_over_n_loses_half_per_layer():
    mf = T.predict("relu", 30, 1.0)
    rms = np.sqrt(mf.post_second)
    assert rms[29] == pytest.approx(3.05e-5, rel=2e-3)
    np.testing.assert_allclose(rms, 2.0 ** (-np.arange(1, 31) / 2), rtol=1e-12)


def test_tanh_at_the_critical_point_decays_polynomially():
    mf = T.predict("tanh", 200, 1.0)
    assert mf.post_std[49] == pytest.approx(0.101, abs=1e-3)
    layers = np.arange(1, 201)
    assert 2 * layers[-1] * mf.q[-1] == pytest.approx(1.0, abs=0.05)  # q ~ 1/(2l)
    assert abs(mf.rate("q")) < 0.01  # no exponential part
    assert T.depth_scales("tanh", 1.0).xi_c == math.inf


def test_relu_correlation_map():
    c, seen = 0.0, {}
    for layer in range(2, 51):  # layer 1 holds the independent inputs: c = 0
        c = T.correlation_map("relu", c, 1.0, 2.0)
        seen[layer] = c
    # 0.321 at layer 2 is sometimes quoted from a finite-width measurement; the map gives 1/pi
    assert seen[2] == pytest.approx(1 / math.pi) and seen[2] == pytest.approx(0.321, abs=0.004)
    assert [round(seen[k], 3) for k in (5, 10, 50)] == pytest.approx(
        [0.682, 0.855, 0.987], abs=1.5e-3
    )


def test_correlation_map_quadrature_matches_closed_form():
    from initcheck.theory import activations
    smooth_relu = activations.register("relu_numeric", lambda u: np.maximum(u, 0),
                                       lambda u: (u > 0).astype(float), kinks=(0.0,), replace=True)
    for c in (-0.5, 0.0, 0.3, 0.9):
        assert T.correlation_map(smooth_relu, c, 1.3, 2.0) == pytest.approx(
            T.correlation_map("relu", c, 1.3, 2.0), abs=1e-6)


def test_finite_width_law_for_relu():
    mf = T.predict("relu", 50, 2.0, widths=[100] * 51)
    # log(q_L / q_MF) has variance about 5 (L - 1) / n (docs/theory.md, "Finite width")
    assert mf.log_var_q[-1] == pytest.approx(5 * 49 / 100, abs=0.05)


def test_fixed_points():
    assert T.fixed_point("tanh", 100.0) == pytest.approx(91.705, abs=1e-3)
    assert T.fixed_point("tanh", 0.5) == 0.0
    assert T.fixed_point("relu", 3.0) == math.inf
    assert T.fixed_point("relu", 1.0, 0.5) == pytest.approx(1.0)  # sigma_b^2 / (1 - 1/2)
    assert T.fixed_point("selu", 1.0) == pytest.approx(1.0, abs=1e-9)


def test_bad_input():
    with pytest.raises(ValueError, match="Allowed values: .*'tanh'"):
        T.moment("tanhh", 1.0)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        T.predict("tanh", 0)
    with pytest.raises(ValueError, match="finite variance"):
        T.expect(np.tanh, -1.0)
    with pytest.raises(ValueError, match="depth \\+ 1"):
        T.predict("tanh", 3, widths=[10, 10])


def test_an_exploding_signal_is_inf_not_a_warning():
    """Large init under ReLU at depth 200 overflows: q as a float says inf, silently, and
    the rate (from the log-space recursion) is still exact: ln(100 / 2) per layer."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mf = T.predict("relu", 200, sigma_w2=100.0)
    assert mf.q[-1] == math.inf and mf.rate("q") == pytest.approx(math.log(50.0), rel=1e-12)


@pytest.mark.parametrize("name", ["relu", "gelu", "selu", "tanh"])
def test_exploding_signals_are_computed_in_log_space(name):
    """large_normal (sigma_w^2 = 1000) for 200 layers: q passes 1e308 by layer 110, yet its
    logarithm and the per-layer rate stay exact (ln 500 for ReLU), and nothing warns."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = T.predict(name, 200, 1000.0, widths=[1000] * 201)
    assert np.all(np.isfinite(p.log_q)) and np.all(np.isfinite(p.log_var_q))
    if name == "relu":
        assert p.rate("q") == pytest.approx(math.log(500.0), rel=1e-12)
        assert p.log_q[-1] == pytest.approx(math.log(1000.0) + 199 * math.log(500.0), rel=1e-12)
        assert math.isinf(p.q[-1]) and p.rate("grad") == pytest.approx(math.log(500.0), rel=1e-12)
    if name == "tanh":  # bounded: q settles at sigma_w^2 E[tanh^2] ~ 974
        assert p.rate("q") == pytest.approx(0.0, abs=1e-12) and p.q[-1] == pytest.approx(
            974.45, rel=1e-4
        )
