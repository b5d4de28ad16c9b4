"""The propagation property: through a deep net, forward variance and backward gradient
variance neither vanish nor explode.

Two parts, both required:

1. **The design verdict, exact.** The mean-field prediction for the claimed spec and the
   activation gives the per-layer log growth of q (forward) and of the gradient variance
   (backward) over the second half of the net, where transients have died and only the
   exponential part remains. Both must lie within +-RATE_MAX: variance changing by at most
   a factor of 100 over 50 layers. Polynomial decay (tanh at the critical point, where
   q ~ 1/(2l)) passes; exponential decay or growth fails. No noise: this part has power 1.
2. **The simulation agrees with the theory.** A net of finite width is simulated; at every
   layer log(measured / predicted) must lie in the finite-width band of
   ``theory.finite_width`` (variance V_l for one input; the batch mean lies between the
   single-input bias -V/2 and 0). Bonferroni over layers and directions. A sampler whose
   draws do not follow its claim (or whose units are not independent) fails here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from initcheck import stats
from initcheck.claims.specs import Spec
from initcheck.core import _validate
from initcheck.core.contract import Adapter, InitializerLike
from initcheck.core.defaults import DEFAULT_BATCH, DEFAULT_DEPTH, DEFAULT_WIDTH, PROPAGATION_FACTOR
from initcheck.core.results import POWER, CheckResult
from initcheck.propagation.report import Trace
from initcheck.propagation.simulation import simulate
from initcheck.theory import meanfield as theory
from initcheck.theory.activations import Activation, get as get_activation
from initcheck.theory.meanfield import TINY

#: Variance may change by at most this factor over BAND_DEPTH layers.
BAND_FACTOR = PROPAGATION_FACTOR
BAND_DEPTH = 50
RATE_MAX = math.log(BAND_FACTOR) / BAND_DEPTH  # 0.0921 per layer: a factor 1.096

__all__ = ["BAND_DEPTH", "BAND_FACTOR", "DEFAULT_BATCH", "DEFAULT_DEPTH", "DEFAULT_WIDTH",
           "RATE_MAX", "PropagationOptions", "check"]


@dataclass(frozen=True)
class PropagationOptions:
    """The net the propagation property is checked through: ``depth`` dense layers of
    ``width`` units under ``activation``, ``batch`` inputs, bias std ``bias``. Validated
    when made; ``activation`` may be a name or an ``Activation``."""

    activation: str | Activation
    depth: int = DEFAULT_DEPTH
    width: int = DEFAULT_WIDTH
    batch: int = DEFAULT_BATCH
    bias: float = 0.0

    def __post_init__(self) -> None:
        # frozen: validated values are written through object.__setattr__
        set_ = object.__setattr__
        set_(self, "activation", get_activation(self.activation))
        set_(self, "depth", _validate.integer("depth", self.depth, minimum=2))
        set_(self, "width", _validate.integer("width", self.width))
        set_(self, "batch", _validate.integer("batch", self.batch))
        bias = _validate.real("bias", self.bias)
        if bias < 0:
            raise ValueError(f"bias is the bias std and must be >= 0, got {bias}.")
        set_(self, "bias", bias)


def check(
    init: InitializerLike | Adapter,
    claim: Spec,
    options: PropagationOptions,
    alpha: float,
    seed: int,
    *,
    trace: Trace | None = None,
) -> tuple[CheckResult, Trace]:
    """The ``propagation`` CheckResult for ``init`` claiming ``claim`` through the net of
    ``options``, and the simulated ``Trace`` it judged."""
    alpha = stats.check_alpha(alpha)
    if trace is None:
        trace = simulate(init, options.activation, depth=options.depth, width=options.width,
                         batch=options.batch, seed=seed, bias=options.bias, backward=True,
                         expect=claim, dtype=np.float64)
    mf = trace.prediction
    n = trace.batch * sum(trace.widths[1:])
    if mf is None:
        return CheckResult(name="propagation", passed=False, statistic=math.nan,
                           threshold=RATE_MAX, pvalue=0.0, alpha=alpha, n=n, mde=math.nan,
                           detail="; ".join(trace.notes) or "no prediction"), trace
    if not trace.complete or any(s.grad_second is None for s in trace.layers):
        return CheckResult(
            name="propagation", passed=False, statistic=math.inf, threshold=RATE_MAX, pvalue=0.0,
            alpha=alpha, n=n, mde=math.nan,
            detail=f"the signal did not survive the net: {'; '.join(trace.notes)}",
            observed=math.inf, expected=mf.rate("q")), trace

    rate_q, rate_g = mf.rate("q"), mf.rate("grad")
    design_ok = abs(rate_q) <= RATE_MAX and abs(rate_g) <= RATE_MAX
    measured_q = trace.column("q")
    measured_g = trace.column("grad_second")
    half = trace.depth // 2
    m_rate_q = theory.half_rate(measured_q, forward=True, tiny=TINY)
    m_rate_g = theory.half_rate(measured_g, forward=False, tiny=TINY)

    # consistency with the theory, layer by layer
    tests = 2 * trace.depth
    worst_p, worst = 1.0, ""
    for label, measured, predicted, var in (
        ("forward q", measured_q, mf.q, mf.log_var_q),
        ("backward gradient", measured_g, mf.grad, mf.log_var_grad),
    ):
        for l in range(trace.depth):
            p = _layer_pvalue(measured[l], predicted[l], var[l])
            if p < worst_p:
                worst_p, worst = (
                    p,
                    (
                        f"{label} at layer {l + 1}: measured {measured[l]:.4g},"
                        f" predicted {predicted[l]:.4g} (log sd {math.sqrt(var[l]):.3g})"
                    ),
                )
    p_fit = min(1.0, tests * worst_p)
    fit_ok = p_fit >= alpha
    z = -float(special.ndtri(alpha / (2 * tests))) + float(special.ndtri(POWER))
    mde = z * math.sqrt(float(mf.log_var_q[-1])) / trace.depth  # per-layer log sigma_w^2 error

    def factor(r: float) -> str:
        return "0" if r == -math.inf else f"x{math.exp(r):.4g}"

    lines = [f"per-layer variance growth over layers {half}-{trace.depth}: forward q"
             f" {factor(m_rate_q)} measured, {factor(rate_q)} predicted; backward gradient"
             f" {factor(m_rate_g)} measured, {factor(rate_g)} predicted; band"
             f" [x{math.exp(-RATE_MAX):.3f}, x{math.exp(RATE_MAX):.3f}] (a factor"
             f" {BAND_FACTOR:g} over {BAND_DEPTH} layers)"]
    lines.append(_explain(trace, mf, rate_q, rate_g, get_activation(options.activation)))
    lines.append(
        (
            "simulation within the finite-width band of the mean-field prediction"
            if fit_ok
            else "simulation outside the finite-width band of the mean-field prediction"
        )
        + f" (worst: {worst or 'none'}; p = {p_fit:.3g})"
    )
    observed = m_rate_g if abs(rate_g) > abs(rate_q) else m_rate_q
    expected = rate_g if abs(rate_g) > abs(rate_q) else rate_q
    return CheckResult(
        name="propagation", passed=design_ok and fit_ok, statistic=observed, threshold=RATE_MAX,
        pvalue=p_fit if design_ok else 0.0, alpha=alpha, n=n, mde=mde, detail="; ".join(lines),
        observed=observed, expected=expected,
        extra={"rate_q": rate_q, "rate_grad": rate_g, "measured_rate_q": m_rate_q,
               "measured_rate_grad": m_rate_g, "design_ok": design_ok, "fit_ok": fit_ok,
               "activation": trace.activation, "depth": trace.depth, "width": trace.widths[1],
               "batch": trace.batch}), trace


def _layer_pvalue(measured: float, predicted: float, var: float) -> float:
    if not math.isfinite(measured):
        return 0.0
    if predicted <= TINY or measured <= TINY:
        return 1.0 if (predicted <= TINY) == (measured <= TINY) else 0.0
    d = math.log(measured / predicted)
    sd = math.sqrt(var)
    outside = d if d > 0 else (-var / 2 - d if d < -var / 2 else 0.0)
    return float(2 * special.ndtr(-outside / sd)) if outside > 0 else 1.0


def _explain(trace: Trace, mf: Any, rate_q: float, rate_g: float, act: Activation) -> str:
    """One sentence on why, in the theory's terms (``act`` the Activation itself: its
    printed form, ``leaky_relu(a=0.01)``, is not a name to look up again)."""
    q_last, q_half = float(mf.q[-1]), float(mf.q[trace.depth // 2 - 1])
    sw2 = float(mf.forward_gain[-1])
    scales = theory.depth_scales(act, sw2, trace.bias ** 2, q0=float(mf.q[0]))
    parts = [
        f"sigma_w^2 = {sw2:.4g}, chi_1 at the last layer ="
        f" {mf.backward_gain[-1] * theory.moment(act, q_last, 'dphi2'):.4g}"
    ]
    if str(act) == "tanh" and abs(sw2 - 1.0) < 1e-9 and trace.bias == 0:
        parts.append(f"tanh at the critical point: q decays polynomially, not exponentially"
                     f" (q_{trace.depth}/q_{trace.depth // 2} = {q_last / q_half:.3f}; q ~ 1/(2l)),"
                     " chi_1 -> 1")
    elif rate_q < -RATE_MAX:
        parts.append("the forward signal vanishes exponentially")
    elif rate_q > RATE_MAX:
        parts.append("the forward signal explodes exponentially")
    if rate_g > RATE_MAX:
        parts.append(f"gradients explode (chaotic phase, chi_1 = {scales.chi1:.4g} > 1)")
    elif rate_g < -RATE_MAX:
        parts.append("gradients vanish (ordered phase, chi_1 < 1)")
    return ", ".join(parts)
