"""Exact Gaussian expectations E[g(sqrt(q) z)], z ~ N(0, 1), of an activation and its
derivative: closed forms for the piecewise-linear family, otherwise adaptive quadrature in z
split at 0, at the kinks and at the activation's own scale (fixed-node Gauss-Hermite is wrong
at kinks and for large q; docs/theory.md, "Exact expectations"). The theory's ground floor.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy import integrate

from initcheck.core import _validate
from initcheck.theory.activations import Activation, get as get_activation

#: The one integration window of every Gaussian expectation here, 1-d and 2-d: |z| <= 12.
#: The normal tail beyond it holds 4e-33 of the mass, far below every tolerance here for
#: integrands that grow polynomially; a wider window only costs adaptive quadrature accuracy
#: (a 2-d rule spread over +-38 loses 4e-5 relative on the tanh correlation map).
Z_MAX = 12.0
#: Relative tolerance of each quadrature piece.
QUAD_RTOL = 1e-13
#: Activation feature scales (in u) at which the z-integral is split for large q.
_FEATURE_SCALES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
MOMENTS: tuple[str, ...] = ("phi", "phi2", "phi4", "dphi2", "dphi4")


def expect(f: Callable[[np.ndarray], np.ndarray], q: float, kinks: Sequence[float] = ()) -> float:
    """E[f(sqrt(q) z)], z ~ N(0, 1), by adaptive quadrature in z split at 0, at the kinks
    and at the feature scales of the activation (so large q cannot hide them)."""
    q = float(q)
    if q < 0 or not math.isfinite(q):
        raise ValueError(f"q must be a finite variance >= 0, got {q}.")
    if q == 0:
        return float(np.asarray(f(np.zeros(1)))[0])
    s = math.sqrt(q)
    cuts = {0.0, -Z_MAX, Z_MAX}
    for u in (*kinks, *_FEATURE_SCALES, *(-c for c in _FEATURE_SCALES)):
        z = u / s
        if -Z_MAX < z < Z_MAX:
            cuts.add(z)
    edges = sorted(cuts)
    norm = 1.0 / math.sqrt(2.0 * math.pi)

    def integrand(z: float) -> float:
        return float(f(np.array([s * z]))[0]) * norm * math.exp(-0.5 * z * z)

    total = 0.0
    with warnings.catch_warnings():
        # quad warns of roundoff when a piece is ~0 relative to the total; the accuracy of
        # the sum is tested against a 30-digit mpmath reference
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        for lo, hi in zip(edges[:-1], edges[1:]):
            value, _ = integrate.quad(integrand, lo, hi, epsabs=0.0, epsrel=QUAD_RTOL, limit=200)
            total += value
    return total


def _closed_form(slopes: tuple[float, float], q: float, kind: str) -> float:
    """Gaussian moments of phi(u) = a u (u < 0), b u (u > 0), u ~ N(0, q)."""
    a, b = slopes
    if kind == "phi":
        return math.sqrt(q / (2 * math.pi)) * (b - a)
    if kind == "phi2":
        return q * (a * a + b * b) / 2
    if kind == "phi4":
        return 3 * q * q * (a**4 + b**4) / 2
    if kind == "dphi2":
        return (a * a + b * b) / 2
    return (a**4 + b**4) / 2  # dphi4


def moment(activation: str | Activation, q: float, kind: str = "phi2") -> float:
    """E[g(sqrt(q) z)] for g = phi, phi^2, phi^4, phi'^2 or phi'^4 (``kind``)."""
    act = get_activation(activation)
    kind = _validate.choice("kind", kind, MOMENTS)
    if act.slopes is not None and float(q) != 0:
        # at q = 0 every pre-activation is exactly 0, so g(0) itself counts (phi'(0) of
        # ReLU is the implementation's 0, not the q -> 0 limit 1/2): expect() gives it
        return _closed_form(act.slopes, float(q), kind)
    return _cached_moment(act, float(q), kind)


@functools.lru_cache(maxsize=65536)
def _cached_moment(act: Activation, q: float, kind: str) -> float:
    phi, dphi = act.phi, act.dphi
    f = {
        "phi": phi,
        "phi2": lambda u: np.square(phi(u)),
        "phi4": lambda u: np.square(np.square(phi(u))),
        "dphi2": lambda u: np.square(dphi(u)),
        "dphi4": lambda u: np.square(np.square(dphi(u))),
    }[kind]
    return expect(f, q, act.kinks)


def log_slope(act: Activation, q: float, kind: str) -> float:
    """d ln E[g(sqrt(q) z)] / d ln q, by a central difference in ln q (exact for the
    piecewise-linear family, whose moments are powers of q)."""
    if act.slopes is not None:
        return {"phi": 0.5, "phi2": 1.0, "phi4": 2.0, "dphi2": 0.0, "dphi4": 0.0}[kind]
    if q == 0:
        return 0.0
    h = 1e-4  # step in ln q: central-difference error ~h^2 = 1e-8, roundoff ~1e-13/h = 1e-9
    hi, lo = moment(act, q * math.exp(h), kind), moment(act, q * math.exp(-h), kind)
    if hi <= 0 or lo <= 0:
        return 0.0
    return (math.log(hi) - math.log(lo)) / (2 * h)
