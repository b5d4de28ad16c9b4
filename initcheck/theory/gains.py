"""Gains derived from the mean-field theory (``initcheck.theory.meanfield``), each satisfying
its own definition for every activation, or saying why it cannot:

- ``forward``: q = 1 is a fixed point: sigma_w^2 E[phi(z)^2] + sigma_b^2 = 1;
- ``backward``: chi_1 = 1 at q = 1: sigma_w^2 E[phi'(z)^2] = 1;
- ``edge_of_chaos``: a fixed point q* > 0 with chi_1(q*) = 1, i.e. a root of
  q - E[phi(sqrt q z)^2] / E[phi'(sqrt q z)^2] = sigma_b^2 with sigma_w^2 = 1 / E[phi'^2]
  (Schoenholz et al. 2017). With sigma_b = 0 odd-like activations (tanh, elu, selu, gelu,
  silu) have only the degenerate solution q* -> 0, reported as such with its limit gain
  1 / sqrt((phi'(0-)^2 + phi'(0+)^2) / 2); piecewise-linear ones are critical at every q;
  softplus has none.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import optimize

from initcheck.core import _validate
from initcheck.core.results import Result, _jsonable
from initcheck.theory.activations import Activation, get as get_activation
from initcheck.theory.meanfield import chi1, fixed_point, moment

CRITERIA: tuple[str, ...] = ("forward", "backward", "edge_of_chaos")
#: The edge of chaos is searched for q* in [Q_MIN, Q_MAX] (a log grid, then brentq).
Q_MIN, Q_MAX = 1e-8, 1e8
#: Grid points per decade of q in that search.
PER_DECADE = 4
#: phi'(0-) and phi'(0+) are read this close to 0 (the limit q -> 0 of E[phi'^2]).
EPSILON = 1e-300


@dataclass(frozen=True, kw_only=True)
class Gain(Result):
    """A gain (weight std x sqrt(fan_in)) for an activation and a criterion, and what it does:
    the fixed point the forward signal reaches from q = 1, chi_1 and the output std there.
    ``float(gain)`` is the number.

    Attributes:
        activation: the activation, as text.
        criterion: ``forward``, ``backward``, ``edge_of_chaos``, or ``given`` for a gain
            whose effect was asked.
        value: the gain (nan where the criterion has no solution).
        q_star: the fixed point of the forward variance from q = 1.
        chi1: chi_1 at q_star.
        output_std: the post-activation std at q_star.
        sigma_b: the bias std.
        q_def: the q at which the criterion is defined.
        chi1_def: chi_1 at q_def.
        degenerate: the criterion holds only in the limit q* -> 0.
        note: why there is no gain, or what is special about it.

    Example:
        >>> import initcheck as ic
        >>> g = ic.gain("relu")
        >>> round(float(g), 4), g.q_star
        (1.4142, 1.0)
    """

    SCHEMA: ClassVar[str] = "initcheck.gain_value/1"

    activation: str
    criterion: str
    value: float
    q_star: float
    chi1: float
    output_std: float
    sigma_b: float = 0.0
    q_def: float = math.nan
    chi1_def: float = math.nan
    degenerate: bool = False
    note: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"schema": self.SCHEMA, **asdict(self)})

    def __str__(self) -> str:
        if math.isnan(self.value):
            return f"{self.activation} {self.criterion}: no gain ({self.note})"
        text = (
            f"{self.activation} {self.criterion}: gain {self.value:.6g} -> q* {self.q_star:.4g},"
            f" chi_1 {self.chi1:.4g}, output std {self.output_std:.4g}"
        )
        return text + (f" ({self.note})" if self.note else "")


def gain_effect(activation: str | Activation, value: float, criterion: str = "given",
                sigma_b: float = 0.0) -> Gain:
    """What gain ``value`` does: q* from q = 1, chi_1 and the output std at q*."""
    act = get_activation(activation)
    sw2, sb2 = value * value, sigma_b * sigma_b
    q = fixed_point(act, sw2, sb2, 1.0)
    c1, std = _at(act, q, sw2)
    return Gain(
        activation=str(act),
        criterion=criterion,
        value=value,
        q_star=q,
        chi1=c1,
        output_std=std,
        sigma_b=sigma_b,
        q_def=1.0,
        chi1_def=chi1(act, 1.0, sw2),
    )


def _at(act: Activation, q: float, sw2: float) -> tuple[float, float]:
    if not math.isfinite(q):
        return math.inf, math.inf
    return chi1(act, q, sw2), math.sqrt(
        max(0.0, moment(act, q, "phi2") - moment(act, q, "phi") ** 2)
    )


def gain(activation: str | Activation, criterion: str = "forward", *, sigma_b: float = 0.0,
         **params: object) -> Gain:
    """The gain (weight std x sqrt(fan_in)) that meets ``criterion`` for ``activation``, exactly.

    Args:
        activation: a registered activation's name or an ``Activation``.
        criterion: ``"forward"`` (q = 1 is a fixed point), ``"backward"`` (chi_1 = 1 at q = 1)
            or ``"edge_of_chaos"`` (chi_1 = 1 at the fixed point q*).
        sigma_b: the bias std.
        **params: the activation's parameters (``a`` for leaky_relu, ``alpha`` for elu).

    Returns:
        A ``Gain``; ``float(gain(...))`` is the number, as torch's ``calculate_gain`` returns
        one, and ``nan`` (with a note) where the criterion has no solution.

    Raises:
        ValueError: an unknown activation or criterion (the message lists them), a negative
            sigma_b, a parameter the activation does not take.

    Example:
        >>> round(float(gain("relu")), 6)
        1.414214
        >>> gain("selu", "edge_of_chaos").degenerate
        True
    """
    act = get_activation(activation, **params)
    if "target" in params:  # the 0.2 name of ``criterion``
        warnings.warn("gain(target=...) was renamed gain(criterion=...) in initcheck 0.3; the"
                      " old name goes in 0.4", DeprecationWarning, stacklevel=2)
        criterion = str(params.pop("target"))
    criterion = _validate.choice("criterion", criterion, CRITERIA)
    sigma_b = _validate.real("sigma_b", sigma_b)
    if sigma_b < 0:
        raise ValueError(f"sigma_b must be >= 0, got {sigma_b}: it is a standard deviation.")
    sb2 = sigma_b * sigma_b
    if criterion == "forward":
        if sb2 >= 1:
            return _none(act, criterion, sigma_b, f"sigma_b^2 = {sb2:g} >= 1 alone exceeds q* = 1")
        sw2 = (1 - sb2) / moment(act, 1.0, "phi2")
        return _with(gain_effect(act, math.sqrt(sw2), criterion, sigma_b), 1.0, act, sw2)
    if criterion == "backward":
        sw2 = 1 / moment(act, 1.0, "dphi2")
        return _with(gain_effect(act, math.sqrt(sw2), criterion, sigma_b), 1.0, act, sw2)
    return _edge_of_chaos(act, sigma_b)


def _with(g: Gain, q_def: float, act: Activation, sw2: float, **changes: Any) -> Gain:
    from dataclasses import replace

    return replace(g, q_def=q_def, chi1_def=chi1(act, q_def, sw2), **changes)


def _none(act: Activation, criterion: str, sigma_b: float, why: str) -> Gain:
    return Gain(activation=str(act), criterion=criterion, value=math.nan, q_star=math.nan,
                chi1=math.nan, output_std=math.nan, sigma_b=sigma_b, note=why)


def _h(act: Activation, q: float, sb2: float) -> float:
    """q - E[phi^2] / E[phi'^2] - sigma_b^2: zero at an edge-of-chaos fixed point."""
    return q - moment(act, q, "phi2") / moment(act, q, "dphi2") - sb2


def _edge_of_chaos(act: Activation, sigma_b: float) -> Gain:
    sb2 = sigma_b * sigma_b
    if act.slopes is not None:  # E[phi^2] = q E[phi'^2]: critical at every q, or nowhere
        sw2 = 1 / moment(act, 1.0, "dphi2")
        if sb2 > 0:
            return _none(
                act,
                "edge_of_chaos",
                sigma_b,
                "piecewise linear: chi_1 = 1 needs sigma_b = 0 (then every q* is critical)",
            )
        g = gain_effect(act, math.sqrt(sw2), "edge_of_chaos")
        return _with(g, g.q_star, act, sw2, note="critical at every q*")
    grid = np.logspace(math.log10(Q_MIN), math.log10(Q_MAX),
                       int(PER_DECADE * math.log10(Q_MAX / Q_MIN)) + 1)
    values = [_h(act, float(q), sb2) for q in grid]
    for lo, hi, hlo, hhi in zip(grid[:-1], grid[1:], values[:-1], values[1:]):
        if hlo == 0 or hlo * hhi < 0:
            q = float(lo) if hlo == 0 else float(optimize.brentq(
                lambda x: _h(act, x, sb2), lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps))
            sw2 = 1 / moment(act, q, "dphi2")
            c1, std = _at(act, q, sw2)
            return Gain(
                activation=str(act),
                criterion="edge_of_chaos",
                value=math.sqrt(sw2),
                q_star=q,
                chi1=c1,
                output_std=std,
                sigma_b=sigma_b,
                q_def=q,
                chi1_def=c1,
            )
    zero = float(act.phi(np.float64(0.0)))
    if sb2 == 0 and zero == 0 and abs(values[0]) < 1e-6 * grid[0]:
        # only q* -> 0 solves it: chi_1 -> sigma_w^2 (phi'(0-)^2 + phi'(0+)^2) / 2
        d2 = (
            float(act.dphi(np.float64(-EPSILON))) ** 2 + float(act.dphi(np.float64(EPSILON))) ** 2
        ) / 2
        value = 1 / math.sqrt(d2)
        return Gain(
            activation=str(act),
            criterion="edge_of_chaos",
            value=value,
            q_star=0.0,
            chi1=1.0,
            output_std=0.0,
            sigma_b=0.0,
            q_def=0.0,
            chi1_def=1.0,
            degenerate=True,
            note="degenerate: chi_1 = 1 only as q* -> 0 (the signal dies); give sigma_b > 0",
        )
    return _none(
        act,
        "edge_of_chaos",
        sigma_b,
        f"no fixed point q* in [{Q_MIN:g}, {Q_MAX:g}] with chi_1 = 1 at sigma_b = {sigma_b:g}",
    )


__all__ = ["Gain", "CRITERIA", "gain", "gain_effect"]
