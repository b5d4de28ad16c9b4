"""Mean-field signal propagation, computed exactly.

For weights with variance s_l^2 (zero mean) in a layer of fan_in n_{l-1}, and bias variance
sigma_b^2, the pre-activation second moment follows the length map

    q_l = s_l^2 n_{l-1} E[phi(sqrt(q_{l-1}) z)^2] + sigma_b^2,   z ~ N(0, 1),

and the backpropagated error variance the map g_{l-1} = s_l^2 n_l E[phi'(sqrt(q_{l-1}) z)^2] g_l.
With square layers sigma_w^2 = s^2 n and chi_1 = sigma_w^2 E[phi'(sqrt(q*) z)^2].

Gaussian expectations are exact (``initcheck.theory.gaussian``, whose ``moment`` and ``expect`` are
re-exported here): closed forms for piecewise-linear activations, otherwise adaptive
quadrature split at the kinks and at the activation's own scale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import integrate, optimize

from initcheck.core import _validate
from initcheck.theory.activations import Activation, get as get_activation
from initcheck.theory.gaussian import MOMENTS, Z_MAX, expect, log_slope as _log_slope, moment

__all__ = [
    "MOMENTS", "TINY", "Z_MAX", "DepthScales", "MeanField", "chi1", "correlation_map",
    "depth_scales", "expect", "finite_width", "fixed_point", "half_rate", "length_map",
    "log_moment", "moment", "predict",
]

#: Below this, a variance counts as zero (underflow), measured or predicted.
TINY = 1e-280


def length_map(
    activation: str | Activation, q: float, sigma_w2: float, sigma_b2: float = 0.0
) -> float:
    """q' = sigma_w^2 E[phi(sqrt(q) z)^2] + sigma_b^2."""
    return sigma_w2 * moment(activation, q, "phi2") + sigma_b2


def chi1(activation: str | Activation, q: float, sigma_w2: float) -> float:
    """chi_1 = sigma_w^2 E[phi'(sqrt(q) z)^2]: the per-layer gradient variance factor."""
    return sigma_w2 * moment(activation, q, "dphi2")


def fixed_point(activation: str | Activation, sigma_w2: float, sigma_b2: float = 0.0,
                q0: float = 1.0) -> float:
    """The q* the length map reaches from q0: the nearest root of map(q) - q in the
    direction the map moves q0 (0 if the signal dies, inf if it grows without bound; q0 itself
    for a map that preserves every q, as linear and ReLU at the critical sigma_w^2).

    Roots are bracketed on a log grid of q and polished with brentq: iterating the map is
    hopeless near criticality, where q decays only polynomially."""
    act = get_activation(activation)
    if act.slopes is not None:
        factor = sigma_w2 * (act.slopes[0] ** 2 + act.slopes[1] ** 2) / 2
        if math.isclose(factor, 1.0, rel_tol=1e-12):  # critical up to the rounding of a gain^2
            return q0 if sigma_b2 == 0 else math.inf
        if sigma_b2 == 0:
            return 0.0 if factor < 1 else math.inf
        return sigma_b2 / (1 - factor) if factor < 1 else math.inf

    def g(q: float) -> float:
        return length_map(act, q, sigma_w2, sigma_b2) - q

    g0 = g(q0)
    if abs(g0) <= 1e-12 * q0:  # q0 is the fixed point, up to the rounding of the map
        return q0
    up = g0 > 0
    # brackets searched over 12 decades of q from q0, 8 points a decade: a root beyond them
    # counts as 0 or inf (a signal that far from q0 has vanished or exploded)
    grid = q0 * np.logspace(0, 12 if up else -12, 97)
    prev_q = q0
    for q in grid[1:]:
        gq = g(float(q))
        if (gq <= 0) if up else (gq >= 0):
            lo, hi = sorted((prev_q, float(q)))
            # xtol tiny: q* may itself be tiny; rtol at brentq's floor of 4 eps
            return float(optimize.brentq(g, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps))
        prev_q = float(q)
    return math.inf if up else 0.0


@dataclass(frozen=True)
class DepthScales:
    """Fixed point, chi_1 there, and the depth scales over which the length (xi_q) and the
    correlation between two inputs (xi_c) relax: xi = -1 / ln(slope); inf at criticality."""

    q_star: float
    chi1: float
    xi_q: float
    xi_c: float


def depth_scales(activation: str | Activation, sigma_w2: float, sigma_b2: float = 0.0,
                 q0: float = 1.0) -> DepthScales:
    """q*, chi_1(q*), and the depth scales xi_q and xi_c (Schoenholz et al. 2017)."""
    act = get_activation(activation)
    q = fixed_point(act, sigma_w2, sigma_b2, q0)
    if not math.isfinite(q):
        return DepthScales(q, math.inf, 0.0, 0.0)
    c1 = chi1(act, q, sigma_w2)
    # slope of the length map at q*: dq'/dq = sigma_w^2 dE[phi^2]/dq
    if q > 0:
        slope = sigma_w2 * moment(act, q, "phi2") * _log_slope(act, q, "phi2") / q
    else:
        slope = chi1(act, 0.0, sigma_w2)
    return DepthScales(q, c1, _scale(slope), _scale(c1))


def _scale(slope: float) -> float:
    """-1 / ln|slope|: layers over which a deviation shrinks (or grows) by e."""
    s = abs(slope)
    if s == 1.0:
        return math.inf
    if s == 0.0:
        return 0.0
    return -1.0 / math.log(s) if s < 1 else 1.0 / math.log(s)


@dataclass(frozen=True)
class MeanField:
    """The mean-field prediction per layer l = 1..L (arrays of length L).

    ``q``: pre-activation second moment; ``post_mean``/``post_std``/``post_second``:
    moments of phi(h); ``grad``: variance of dL/dh_l for a unit-variance random readout;
    ``log_var_q``/``log_var_grad``: variance of log(measured / predicted) for one input at
    the given widths (finite-width fluctuations; see ``finite_width``)."""

    activation: str
    q0: float
    q: np.ndarray
    post_mean: np.ndarray
    post_second: np.ndarray
    post_std: np.ndarray
    grad: np.ndarray
    forward_gain: np.ndarray
    backward_gain: np.ndarray
    log_var_q: np.ndarray = field(repr=False)
    log_var_grad: np.ndarray = field(repr=False)
    #: ln q and ln grad, computed in log space: finite where q or grad over- or underflow
    log_q: np.ndarray | None = field(default=None, repr=False)
    log_grad: np.ndarray | None = field(default=None, repr=False)

    @property
    def depth(self) -> int:
        return int(self.q.size)

    def rate(self, which: str = "q") -> float:
        """Per-layer log growth over the deep half of the net (layers L/2..L), where the
        transient from the input has died and only the exponential part remains: of q going
        forward (``"q"``), of the gradient variance going backward from layer L to L/2
        (``"grad"``). Read from the log-space values, so a signal that explodes past 1e308
        still has its exact rate."""
        logs = self.log_q if which == "q" else self.log_grad
        if logs is None or self.depth < 2:
            return half_rate(self.q if which == "q" else self.grad, forward=which == "q")
        half = self.depth // 2
        start, end = (logs[half - 1], logs[-1]) if which == "q" else (logs[-1], logs[half - 1])
        if math.isinf(start) or math.isinf(end):  # an exact zero (a dead signal): as before
            return half_rate(self.q if which == "q" else self.grad, forward=which == "q")
        return float(end - start) / (self.depth - half)


def half_rate(values: np.ndarray, *, forward: bool, tiny: float = TINY) -> float:
    """Per-layer log growth between layer L/2 and layer L of ``values`` (per layer, 1..L),
    in the direction the signal travels: forward from L/2 to L, backward from L to L/2.
    -inf when the end value underflows (a signal that was 0 all along is dead too), +inf
    when only the start does."""
    values = np.asarray(values, dtype=float)
    depth = values.size
    half = depth // 2
    if depth < 2:
        return 0.0
    start, end = (values[half - 1], values[-1]) if forward else (values[-1], values[half - 1])
    if end <= tiny:
        return -math.inf
    if start <= tiny:
        return math.inf
    return (math.log(end) - math.log(start)) / (depth - half)


def _as_layers(value: float | Sequence[float], depth: int, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.size == 1:
        arr = np.full(depth, float(arr[0]))
    if arr.size != depth:
        raise ValueError(
            f"{name} has {arr.size} entries for depth {depth}: pass one value or one per layer."
        )
    if np.any(arr < 0) or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite and >= 0, got {arr}.")
    return arr


def predict(
    activation: str | Activation,
    depth: int,
    sigma_w2: float | Sequence[float] = 1.0,
    sigma_b2: float | Sequence[float] = 0.0,
    *,
    q0: float = 1.0,
    widths: Sequence[int] | None = None,
    weight_var: Sequence[float] | None = None,
) -> MeanField:
    """Mean-field prediction through ``depth`` layers from inputs of second moment ``q0``.

    Give ``sigma_w2`` (s^2 times fan_in, per layer or one value) or ``weight_var`` (the
    weights' variance s_l^2, with ``widths`` n_0..n_L). ``widths`` also sets the backward
    factor s_l^2 n_l and the finite-width fluctuation law (default: 100 everywhere)."""
    act = get_activation(activation)
    depth = _validate.integer("depth", depth, minimum=1)
    if widths is None:
        widths = [100] * (depth + 1)
    widths = [_validate.integer("width", w, minimum=1) for w in widths]
    if len(widths) != depth + 1:
        raise ValueError(
            f"widths needs depth + 1 = {depth + 1} entries (input and each layer),"
            f" got {len(widths)}."
        )
    n = np.asarray(widths, dtype=float)
    if weight_var is not None:
        s2 = _as_layers(weight_var, depth, "weight_var")
        fwd, bwd = s2 * n[:-1], s2 * n[1:]
    else:
        fwd = _as_layers(sigma_w2, depth, "sigma_w2")
        bwd = fwd * n[1:] / n[:-1]
    b2 = _as_layers(sigma_b2, depth, "sigma_b2")
    q0 = _validate.real("q0", q0, positive=True)

    q = np.empty(depth)
    mean, second = np.empty(depth), np.empty(depth)
    log_q, log_grad = np.empty(depth), np.empty(depth)
    log_m2 = math.log(q0)
    # the recursions run in log space (an exploding signal's q passes 1e308 within a few
    # dozen layers); q and grad themselves overflow to inf or underflow to 0, which every
    # caller reads as exploded or vanished: the answer, not a fault to warn about
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        for l in range(depth):
            log_q[l] = np.logaddexp(_log(fwd[l]) + log_m2, _log(b2[l]))
            q[l] = math.exp(log_q[l]) if log_q[l] <= LOG_MAX else math.inf
            log_m2 = log_moment(act, log_q[l], "phi2")
            if log_q[l] <= math.log(Q_BIG):
                mean[l], second[l] = moment(act, q[l], "phi"), moment(act, q[l], "phi2")
            else:  # past Q_BIG: the second moment from its logarithm (inf beyond floats)
                second[l] = math.exp(log_m2) if log_m2 <= LOG_MAX else math.inf
                mean[l] = moment(act, Q_BIG, "phi") * math.sqrt(
                    second[l] / moment(act, Q_BIG, "phi2")
                )
        log_g = 0.0  # readout: unit variance per output unit
        for l in range(depth - 1, -1, -1):
            log_grad[l] = log_moment(act, log_q[l], "dphi2") + log_g
            log_g = _log(bwd[l]) + log_grad[l]
        grad = np.where(log_grad <= LOG_MAX, np.exp(np.minimum(log_grad, LOG_MAX)), np.inf)
        var_q, var_g = finite_width(act, q, fwd, b2, widths, q0)
        std = np.sqrt(np.maximum(second - mean**2, 0.0))
    return MeanField(
        str(act), q0, q, mean, second, std, grad, fwd, bwd, var_q, var_g, log_q, log_grad
    )


#: ln of the largest float (q beyond it is inf as a float, finite as a logarithm).
LOG_MAX = math.log(np.finfo(float).max)
#: Moments are integrated up to this q (fourth moments, ~q^2, stay far from overflow);
#: beyond, continued by their log-slope there (exact
#: for the piecewise-linear family, asymptotically exact for the others, whose moments
#: become powers of q).
Q_BIG = 1e100


def _log(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf


def log_moment(activation: str | Activation, log_q: float, kind: str) -> float:
    """ln E[g(sqrt(q) z)] for q = exp(log_q), finite where q itself would overflow: past
    Q_BIG continued by the log-slope at Q_BIG."""
    act = get_activation(activation)
    if math.isinf(log_q) and log_q < 0:
        return _log(moment(act, 0.0, kind))
    if log_q <= math.log(Q_BIG):
        return _log(moment(act, math.exp(log_q), kind))
    return _log(moment(act, Q_BIG, kind)) + _log_slope(act, Q_BIG, kind) * (log_q - math.log(Q_BIG))


def finite_width(act: Activation, q: np.ndarray, fwd: np.ndarray, b2: np.ndarray,
                 widths: Sequence[int], q0: float) -> tuple[np.ndarray, np.ndarray]:
    """Variance of log(measured / mean-field) per layer for one input at finite width.

    Given layer l-1, the n_l pre-activations are iid N(0, Q_l), so the post-activation mean
    square over n units has relative variance (kappa - 1)/n, kappa = E[phi^4]/E[phi^2]^2,
    and a deviation propagates with the log-slope of the length map. The measured
    q_l (mean of h^2 over units) adds chi-square noise 2/n_l. Backward, each layer adds
    (3 kappa' - 1)/n with kappa' = E[phi'^4]/E[phi'^2]^2 (gradient independence), plus the
    forward deviation through d ln E[phi'^2]/d ln q. For ReLU both give 5/n per layer
    (docs/theory.md: log(q_L/q_MF) has variance about 5(L-1)/n)."""
    depth = q.size
    n = np.asarray(widths, dtype=float)
    # past Q_BIG the shape statistics (kurtosis, log-slopes) are those at Q_BIG: the moments
    # are powers of q there
    qc = np.minimum(q, Q_BIG)
    var_cond = np.empty(depth)  # variance of ln Q_l (conditional variance of h_l)
    v = 2.0 / n[0]  # the input's own mean square over n_0 Gaussian entries
    for l in range(depth):
        if l > 0:
            m2 = moment(act, qc[l - 1], "phi2")
            m4 = moment(act, qc[l - 1], "phi4")
            kappa = m4 / (m2 * m2) if m2 > 0 else 1.0
            # part of q_l that came through phi (the rest is the bias): (q_l - b_l^2) / q_l
            share = (1.0 if math.isinf(q[l]) else (q[l] - b2[l]) / q[l]) if q[l] > 0 else 0.0
            slope = share * _log_slope(act, qc[l - 1], "phi2")
            v = slope * slope * v + share * share * (kappa - 1.0) / n[l]
        var_cond[l] = v
    var_q = var_cond + 2.0 / n[1:]
    var_g = np.empty(depth)
    acc = 0.0
    for l in range(depth - 1, -1, -1):
        d2, d4 = moment(act, qc[l], "dphi2"), moment(act, qc[l], "dphi4")
        kappa_d = d4 / (d2 * d2) if d2 > 0 else 1.0
        coupling = _log_slope(act, qc[l], "dphi2")
        acc += (3.0 * kappa_d - 1.0) / n[l + 1] + coupling * coupling * var_cond[l]
        var_g[l] = acc
    return var_q, var_g


def correlation_map(activation: str | Activation, c: float, q: float, sigma_w2: float,
                    sigma_b2: float = 0.0) -> float:
    """Correlation of two inputs' pre-activations after one layer, both at second moment q:
    (sigma_w^2 E[phi(u1) phi(u2)] + sigma_b^2) / q' with corr(u1, u2) = c. Closed form
    (arc-cosine kernel) for the piecewise-linear family; 2-d quadrature otherwise."""
    act = get_activation(activation)
    c = max(-1.0, min(1.0, float(c)))
    q_next = length_map(act, q, sigma_w2, sigma_b2)
    if act.slopes is not None:
        a, b = act.slopes

        def k(r: float) -> float:  # E[relu(u1) relu(u2)] for corr r
            return (
                q / (2 * math.pi) * (math.sqrt(max(0.0, 1 - r * r)) + (math.pi - math.acos(r)) * r)
            )

        cross = (a * a + b * b) * k(c) - 2 * a * b * k(-c)
    else:
        s, r = math.sqrt(q), math.sqrt(max(0.0, 1 - c * c))
        norm = 1.0 / (2 * math.pi)

        def f(z2: float, z1: float) -> float:
            u1, u2 = s * z1, s * (c * z1 + r * z2)
            return float(act.phi(np.array([u1]))[0] * act.phi(np.array([u2]))[0]) * norm * math.exp(
                -0.5 * (z1 * z1 + z2 * z2))

        # 2-d quadrature is slower than the 1-d pieces: a looser 1e-10 relative tolerance
        cross, _ = integrate.dblquad(f, -Z_MAX, Z_MAX, -Z_MAX, Z_MAX, epsabs=1e-12, epsrel=1e-10)
    return (sigma_w2 * cross + sigma_b2) / q_next
