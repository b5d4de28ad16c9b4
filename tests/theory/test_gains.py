"""Every derived gain satisfies its own definition, recomputed with an independent integrator
(mpmath, 20 digits) to 1e-8, for every registered activation (with parameters: leaky slope,
elu's alpha) and bias std; where a target has no solution, or only the degenerate q* -> 0,
the gain says so. The tanh edge-of-chaos curve sigma_w(sigma_b) of Schoenholz et al. 2017."""

import math

import mpmath as mp
import pytest
from test_theory import MP_PHI, reference

import initcheck as ic

mp.mp.dps = 20
TOL = 1e-8

ELU_HALF = (lambda u: u if u > 0 else mp.mpf("0.5") * (mp.e ** u - 1),
            lambda u: 1 if u > 0 else mp.mpf("0.5") * mp.e ** u)
LEAKY_02 = (lambda u: u if u > 0 else mp.mpf("0.2") * u, lambda u: 1 if u > 0 else mp.mpf("0.2"))
CASES = [(name, {}, MP_PHI[name]) for name in MP_PHI] + [
    ("elu", {"alpha": 0.5}, ELU_HALF), ("leaky_relu", {"a": 0.2}, LEAKY_02)]


def moments(fns, q):
    """E[phi(sqrt q z)^2] and E[phi'(sqrt q z)^2] by mpmath, split at the kinks."""
    phi, dphi = fns
    s = mp.sqrt(q)
    pts = sorted({mp.mpf(0), *(mp.mpf(c) / s for c in (-8, -4, -2, -1, 1, 2, 4, 8))})
    out = []
    for g in (lambda u: phi(u) ** 2, lambda u: dphi(u) ** 2):
        out.append(mp.quad(lambda z, g=g: g(s * z) * mp.npdf(z), [-mp.inf, *pts, mp.inf]))
    return out


@pytest.mark.parametrize("sigma_b", [0.0, 0.2])
@pytest.mark.parametrize("name, params, fns", CASES, ids=[f"{n}{p or ''}" for n, p, _ in CASES])
@pytest.mark.parametrize("target", ["forward", "backward", "edge_of_chaos"])
def test_every_gain_satisfies_its_definition(name, params, fns, target, sigma_b):
    g = ic.gain(name, target, sigma_b=sigma_b, **params)
    sw2, sb2 = mp.mpf(g.value) ** 2, mp.mpf(sigma_b) ** 2
    if target == "forward":
        e2, _ = moments(fns, 1)
        assert abs(sw2 * e2 + sb2 - 1) <= TOL  # q = 1 is a fixed point
    elif target == "backward":
        _, d2 = moments(fns, 1)
        assert abs(sw2 * d2 - 1) <= TOL  # chi_1 = 1 at q = 1
    elif g.degenerate:
        # only the limit q* -> 0 solves it: chi_1 -> sigma_w^2 E[phi'^2] at q -> 0, and no
        # positive q* has chi_1 = 1 (the fixed-point equation's residual keeps its sign)
        assert sigma_b == 0 and g.q_star == 0 and "degenerate" in g.note
        _, d2 = moments(fns, mp.mpf("1e-30"))
        assert abs(sw2 * d2 - 1) <= TOL
        signs = {mp.sign(q - mp.fdiv(*moments(fns, q))) for q in (mp.mpf("0.01"), 1, 100)}
        assert len(signs) == 1
    elif math.isnan(g.value):
        assert g.note and name in ("softplus", "relu", "leaky_relu", "linear")
    else:
        q = mp.mpf(g.q_star)
        e2, d2 = moments(fns, q)
        assert abs(sw2 * e2 + sb2 - q) <= TOL * max(1, q)  # a fixed point ...
        assert abs(sw2 * d2 - 1) <= TOL  # ... with chi_1 = 1
        assert g.chi1 == pytest.approx(1.0, abs=TOL) and g.chi1_def == pytest.approx(1.0, abs=TOL)


def test_the_issue_rows():
    """gelu and silu: chi_1 is 1 on the edge-of-chaos row (degenerate: their limit gain 2 =
    1/phi'(0)); selu: sqrt(2 / (lambda^2 (1 + alpha^2))) = 0.6905, not 1/(lambda alpha)."""
    from initcheck.theory.activations import SELU_ALPHA, SELU_LAMBDA

    for name in ("gelu", "silu"):
        g = ic.gain(name, "edge_of_chaos")
        assert g.degenerate and g.chi1 == 1.0 and g.value == pytest.approx(2.0, rel=1e-12)
    selu = ic.gain("selu", "edge_of_chaos")
    assert selu.value == pytest.approx(
        math.sqrt(2 / (SELU_LAMBDA**2 * (1 + SELU_ALPHA**2))), rel=1e-12
    )
    assert selu.value == pytest.approx(0.6905, abs=1e-4)
    assert math.isnan(ic.gain("softplus", "edge_of_chaos").value)
    assert float(ic.gain("relu")) == pytest.approx(math.sqrt(2))
    assert ic.gain("tanh", "edge_of_chaos").value == pytest.approx(1.0)  # degenerate: the limit


def test_tanh_edge_of_chaos_curve():
    """sigma_w(sigma_b) for tanh rises from 1 at sigma_b = 0; each point is a fixed point
    with chi_1 = 1 (checked above for sigma_b = 0.2; here over the curve), q* rising with it."""
    points = [
        (sb, ic.gain("tanh", "edge_of_chaos", sigma_b=sb))
        for sb in (0.01, 0.05, 0.1, 0.3, 0.5, 1.0)
    ]
    values = [g.value for _, g in points]
    qs = [g.q_star for _, g in points]
    # near sigma_b = 0 the curve leaves 1 linearly (q* grows like sigma_b, sigma_w - 1 like 2 q*)
    assert values == sorted(values) and qs == sorted(qs) and 1 < values[0] < 1.05
    # Schoenholz et al. 2017 ran tanh at sigma_b^2 = 0.05, critical at sigma_w^2 = 1.76
    assert ic.gain("tanh", "edge_of_chaos", sigma_b=math.sqrt(0.05)).value ** 2 == pytest.approx(
        1.76, abs=0.01
    )
    for sb, g in points:
        e2, d2 = moments(MP_PHI["tanh"], mp.mpf(g.q_star))
        assert abs(g.value**2 * e2 + sb * sb - g.q_star) <= TOL * max(1.0, g.q_star)
        assert abs(g.value**2 * d2 - 1) <= TOL


def test_reference_moments_agree():  # the integrator shared with test_theory
    e2, d2 = moments(MP_PHI["tanh"], mp.mpf(1))
    assert float(e2) == pytest.approx(float(reference("tanh", 1.0, "phi2")), rel=1e-15)
    assert float(d2) == pytest.approx(float(reference("tanh", 1.0, "dphi2")), rel=1e-15)
