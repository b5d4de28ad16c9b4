"""Activations: phi and phi' as vectorized NumPy functions, with what the theory needs to
integrate them exactly (kinks, piecewise-linear slopes) and what the simulator reports
(saturation, dead units). Register your own with ``register``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from initcheck.core import _validate

Array = np.ndarray

#: SELU's constants (Klambauer et al. 2017), fixed so that N(0, 1) maps to mean 0, var 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946


@dataclass(frozen=True, eq=False)
class Activation:
    """An activation. ``kinks`` are points where phi' jumps (integrals are split there);
    ``slopes=(a, b)`` marks phi(u) = a*u for u < 0 and b*u for u > 0, whose Gaussian
    moments have closed forms; ``saturated(y)`` flags outputs in a flat region;
    ``output_range`` bounds the outputs (for histograms); ``torch_name`` is its key in
    torch's gain table."""

    name: str
    phi: Callable[[Array], Array] = field(repr=False)
    dphi: Callable[[Array], Array] = field(repr=False)
    kinks: tuple[float, ...] = ()
    slopes: tuple[float, float] | None = None
    saturated: Callable[[Array], Array] | None = field(default=None, repr=False)
    output_range: tuple[float, float] | None = None
    torch_name: str | None = None
    params: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        args = ", ".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}({args})" if args else self.name


def _piecewise_linear(name: str, a: float, b: float, torch_name: str | None,
                      params: dict[str, float] | None = None) -> Activation:
    def phi(u: Array) -> Array:
        u = np.asarray(u)
        return np.where(u > 0, b * u, a * u)

    def dphi(u: Array) -> Array:
        u = np.asarray(u)
        return np.asarray(np.where(u > 0, b, a) * np.ones_like(u, dtype=np.result_type(u, float)))

    kinks = () if a == b else (0.0,)
    return Activation(name, phi, dphi, kinks, (a, b), None, None, torch_name, params or {})


def linear() -> Activation:
    """phi(u) = u."""
    return _piecewise_linear("linear", 1.0, 1.0, "linear")


def relu() -> Activation:
    """max(0, u)."""
    return _piecewise_linear("relu", 0.0, 1.0, "relu")


def leaky_relu(a: float = 0.01) -> Activation:
    """u for u > 0, a*u otherwise (torch's default slope 0.01)."""
    a = _validate.real("a", a)
    return _piecewise_linear("leaky_relu", a, 1.0, "leaky_relu", {"a": a})


def _tanh_dphi(u: Array) -> Array:
    t = np.tanh(u)
    return np.asarray(1.0 - t * t)


def tanh() -> Activation:
    """tanh; saturated where |tanh| > 0.99."""
    return Activation("tanh", np.tanh, _tanh_dphi, (), None, lambda y: np.abs(y) > 0.99,
                      (-1.0, 1.0), "tanh")


def _sigmoid_dphi(u: Array) -> Array:
    s = special.expit(u)
    return np.asarray(s * (1.0 - s))


def sigmoid() -> Activation:
    """1 / (1 + e^-u); saturated outside (0.01, 0.99)."""
    return Activation("sigmoid", special.expit, _sigmoid_dphi, (), None,
                      lambda y: (y < 0.01) | (y > 0.99), (0.0, 1.0), "sigmoid")


def elu(alpha: float = 1.0) -> Activation:
    """u for u > 0, alpha (e^u - 1) otherwise."""
    alpha = _validate.real("alpha", alpha, positive=True)
    return _elu("elu", 1.0, alpha, None, {"alpha": alpha})


def _elu(name: str, scale: float, alpha: float, torch_name: str | None,
         params: dict[str, float]) -> Activation:
    def phi(u: Array) -> Array:
        u = np.asarray(u, dtype=float)
        return scale * np.where(u > 0, u, alpha * np.expm1(np.minimum(u, 0.0)))

    def dphi(u: Array) -> Array:
        u = np.asarray(u, dtype=float)
        return scale * np.where(u > 0, 1.0, alpha * np.exp(np.minimum(u, 0.0)))

    kinks = () if alpha == 1.0 else (0.0,)  # phi' jumps at 0 unless alpha = 1
    return Activation(name, phi, dphi, kinks, None, None, None, torch_name, params)


def selu() -> Activation:
    """lambda * elu_alpha with Klambauer et al.'s constants (self-normalizing with LeCun)."""
    return _elu("selu", SELU_LAMBDA, SELU_ALPHA, "selu", {})


def gelu() -> Activation:
    """u Phi(u), the exact (erf) form."""
    return Activation(
        "gelu",
        lambda u: u * special.ndtr(u),
        lambda u: special.ndtr(u) + u * np.exp(-0.5 * np.square(u)) / math.sqrt(2 * math.pi),
    )


def silu() -> Activation:
    """u sigma(u) (swish)."""
    def dphi(u: Array) -> Array:
        s = special.expit(u)
        return np.asarray(s * (1.0 + u * (1.0 - s)))
    return Activation("silu", lambda u: u * special.expit(u), dphi)


def softplus() -> Activation:
    """log(1 + e^u)."""
    return Activation("softplus", lambda u: np.logaddexp(0.0, u), special.expit)


_FACTORIES: dict[str, Callable[..., Activation]] = {
    f.__name__: f
    for f in (linear, sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, silu, softplus)
}
_ALIASES = {"identity": "linear", "swish": "silu", "logistic": "sigmoid"}


def names() -> list[str]:
    """Registered activation names."""
    return list(_FACTORIES)


def get(name: str | Activation, **params: Any) -> Activation:
    """An activation by name with its parameters (``get('leaky_relu', a=0.2)``); unknown names
    list the known ones."""
    if isinstance(name, Activation):
        if params:
            raise ValueError(f"{name} is already an Activation; pass a name to set parameters.")
        return name
    if isinstance(name, str) and name in _ALIASES:
        name = _ALIASES[name]
    factory = _FACTORIES[_validate.choice("activation", name, _FACTORIES)]
    _validate.keywords(f"activation {name!r}", params, list(inspect.signature(factory).parameters))
    key = (name, tuple(sorted(params.items())))
    if key not in _INSTANCES:  # one object per (name, params): theory caches key on it
        _INSTANCES[key] = factory(**params)
    return _INSTANCES[key]


_INSTANCES: dict[tuple[object, ...], Activation] = {}


def register(
    name: str,
    phi: Callable[[Array], Array],
    dphi: Callable[[Array], Array],
    *,
    kinks: tuple[float, ...] = (),
    saturated: Callable[[Array], Array] | None = None,
    output_range: tuple[float, float] | None = None,
    replace: bool = False,
) -> Activation:
    """Register a user activation (phi and its derivative phi', vectorized). ``kinks`` are
    the points where phi' jumps: the theory splits its integrals there."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"activation name must be a non-empty string, got {name!r}.")
    if name in _FACTORIES and not replace:
        raise ValueError(f"activation {name!r} exists; pass replace=True to redefine it.")
    if not callable(phi) or not callable(dphi):
        raise ValueError("phi and dphi must be callables taking and returning arrays.")
    probe = np.linspace(-3.0, 3.0, 7)
    for label, f in (("phi", phi), ("dphi", dphi)):
        out = np.asarray(f(probe), dtype=float)
        if out.shape != probe.shape or not np.all(np.isfinite(out)):
            raise ValueError(f"{label} of {name!r} must map an array to a finite array of the"
                             f" same shape; on {probe} it gave {out}.")
    act = Activation(name, phi, dphi, tuple(float(k) for k in kinks), None, saturated, output_range)
    _FACTORIES[name] = lambda: act
    _INSTANCES.pop((name, ()), None)
    return act
