"""Specs: the distribution an initializer claims, as a function of the weight's fans.

A ``Spec`` is what a check compares samples against. ``spec.law(shape, layout)`` resolves it
for one shape into a ``Law``: exact mean, std, support, kurtosis and a scipy frozen
distribution of one element. Glorot/He/LeCun are one-line specialisations of
``variance_scaling``; every factory validates its arguments when called.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from initcheck.claims import laws
from initcheck.claims.laws import NORMAL_KURTOSIS, TRUNCATED_STD_2, UNIFORM_KURTOSIS, Law
from initcheck.core import _validate
from initcheck.core.fans import DEFAULT_LAYOUT, FAN_MODES, Fans, Layout, compute_fans, get_layout
from initcheck.core.text import short
from initcheck.theory.torch_gains import NONLINEARITIES, torch_gain

T = TypeVar("T")

FAMILIES: tuple[str, ...] = ("constant", "normal", "uniform", "truncated_normal", "orthogonal")
DISTRIBUTIONS: tuple[str, ...] = ("normal", "truncated_normal", "uniform")

__all__ = [
    "ALIASES", "DISTRIBUTIONS", "FAMILIES", "NORMAL_KURTOSIS", "SPECS", "TRUNCATED_STD_2",
    "UNIFORM_KURTOSIS", "Law", "Spec", "canonical_name", "spec", *(
        "constant", "zeros", "ones", "normal", "small_normal", "large_normal", "uniform",
        "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "lecun_normal",
        "lecun_uniform", "truncated_normal", "orthogonal", "variance_scaling"),
]


@dataclass(frozen=True, eq=False)
class Spec:
    """What an initializer claims. Make one with ``initcheck.spec(name, **params)``."""

    name: str
    family: str
    params: Mapping[str, Any]
    formula: str
    needs_fans: bool
    _resolve: Callable[[Fans | None, tuple[int, int] | None], Law] = field(repr=False)

    def law(
        self,
        shape: tuple[int, ...],
        layout: str | Layout = DEFAULT_LAYOUT,
        *,
        groups: int | None = None,
        transposed: bool | None = None,
        convention: str = "logical",
        vectors: str | None = None,
    ) -> Law:
        """The element law for a weight of ``shape`` in ``layout`` (see ``compute_fans``)."""
        dims = _validate.shape(shape)
        lay = get_layout(layout, groups=groups, transposed=transposed)
        fans = None
        if self.needs_fans:
            fans = compute_fans(dims, lay, convention=convention, vectors=vectors)
        matrix = None
        if self.family == "orthogonal":
            if len(dims) < 2:
                raise ValueError(
                    f"orthogonal needs a weight of rank >= 2, got shape {dims!r}."
                    " Orthogonality is between units; a vector has one unit."
                )
            # Units along the layout's literal out axis, as torch (dim 0) and jax
            # (column_axis=-1) both flatten them.
            units = math.prod(dims[a] for a in lay.unit_axes(len(dims)))
            matrix = (units, math.prod(dims) // units)
        return self._resolve(fans, matrix)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Spec) and (self.name, dict(self.params)) == (
            other.name,
            dict(other.params),
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(sorted(self.params.items()))))

    def __repr__(self) -> str:
        args = "".join(f", {k}={short(v) if isinstance(v, float) else repr(v)}"
                       for k, v in self.params.items())
        return f"spec({self.name!r}{args})"

    def __str__(self) -> str:
        return f"{self.name}: {self.formula}"


# ------------------------------------------------------------------------- factories


def _fixed(name: str, law: Law, formula: str, **params: Any) -> Spec:
    return Spec(name, law.family, params, formula, False, lambda fans, matrix: law)


def constant(value: float = 0.0) -> Spec:
    """Every element equal to ``value``: the reference article's section 1, symmetry never
    broken."""
    value = _validate.real("value", value)
    return _fixed("constant", laws.constant_law(value), f"{value:g} everywhere", value=value)


def zeros() -> Spec:
    """All zeros."""
    return _fixed("zeros", laws.constant_law(0.0), "0 everywhere")


def ones() -> Spec:
    """All ones."""
    return _fixed("ones", laws.constant_law(1.0), "1 everywhere")


def normal(mean: float = 0.0, std: float = 1.0) -> Spec:
    """N(mean, std^2), independent of the fans."""
    mean, std = _validate.real("mean", mean), _validate.real("std", std, positive=True)
    return _fixed(
        "normal", laws.normal_law(mean, std), f"N({mean:g}, {std:g}^2)", mean=mean, std=std
    )


def small_normal() -> Spec:
    """The reference article's small random init: N(0, 0.01^2). Vanishes in deep tanh nets."""
    return _fixed("small_normal", laws.normal_law(0.0, 0.01), "N(0, 0.01^2)")


def large_normal() -> Spec:
    """The reference article's large random init: N(0, 1). Saturates tanh, explodes ReLU."""
    return _fixed("large_normal", laws.normal_law(0.0, 1.0), "N(0, 1)")


def uniform(low: float = 0.0, high: float = 1.0) -> Spec:
    """U[low, high), independent of the fans (torch ``uniform_``'s default is [0, 1))."""
    low, high = _validate.real("low", low), _validate.real("high", high)
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}. Swap them.")
    return _fixed(
        "uniform", laws.uniform_law(low, high), f"U[{low:g}, {high:g})", low=low, high=high
    )


def truncated_normal(
    std: float = 1.0,
    mean: float = 0.0,
    *,
    lower: float | None = None,
    upper: float | None = None,
    a: float | None = None,
    b: float | None = None,
) -> Spec:
    """N(mean, std^2) truncated (resampled, never clamped) to a window.

    ``std`` is the std of the parent normal. Give the window either in parent-std units,
    ``lower``/``upper`` (jax and keras: default -2, 2), or as absolute bounds ``a``/``b``
    (torch's ``trunc_normal_``). With std=1, mean=0 both defaults are torch's [-2, 2].
    """
    std, mean = _validate.real("std", std, positive=True), _validate.real("mean", mean)
    if (a is None) != (b is None):
        raise ValueError("truncated_normal needs both absolute bounds a and b, or neither.")
    if a is not None:
        if lower is not None or upper is not None:
            raise ValueError(
                "truncated_normal: pass the window either in std units (lower, upper) or as"
                " absolute bounds (a, b), not both."
            )
        a, b = _validate.real("a", a), _validate.real("b", b)
        if not a < b:
            raise ValueError(f"truncated_normal needs a < b, got a={a}, b={b}.")
        lo, hi = (a - mean) / std, (b - mean) / std
        law = laws.truncated_law(mean, std, lo, hi)
        formula = f"N({mean:g}, {std:g}^2) truncated to [{a:g}, {b:g}]"
        return _fixed("truncated_normal", law, formula, std=std, mean=mean, a=a, b=b)
    lo = -2.0 if lower is None else _validate.real("lower", lower)
    hi = 2.0 if upper is None else _validate.real("upper", upper)
    if not lo < hi:
        raise ValueError(f"truncated_normal needs lower < upper, got {lo} and {hi}.")
    law = laws.truncated_law(mean, std, lo, hi)
    formula = f"N({mean:g}, {std:g}^2) truncated to mean + [{lo:g}, {hi:g}] std"
    return _fixed("truncated_normal", law, formula, std=std, mean=mean, lower=lo, upper=hi)


def variance_scaling(
    scale: float = 1.0, mode: str = "fan_in", distribution: str = "truncated_normal"
) -> Spec:
    """Variance ``scale / fan(mode)`` in the given distribution (jax/keras semantics).

    ``truncated_normal`` cuts at +-2 parent stds and widens the parent by 1/0.8796 so the
    variance is exactly the one named; ``uniform`` uses the bound sqrt(3 * variance).
    """
    scale = _validate.real("scale", scale, positive=True)
    mode = _validate.choice("mode", mode, FAN_MODES)
    distribution = _validate.choice("distribution", distribution, DISTRIBUTIONS)
    return _scaled("variance_scaling", scale, mode, distribution,
                   dict(scale=scale, mode=mode, distribution=distribution))


def _needs(value: T | None) -> T:
    """What ``Spec.law`` resolved for a spec that needs it (fans, or an orthogonal matrix)."""
    if value is None:
        raise ValueError("this spec needs the weight's fans (or matrix shape) to resolve its law.")
    return value


def _scaled(name: str, scale: float, mode: str, distribution: str, params: dict[str, Any]) -> Spec:
    var = f"{scale:.6g}/{mode}"
    formula = {
        "normal": f"N(0, {var})",
        "uniform": f"U(-r, r), r = sqrt(3*{var})",
        "truncated_normal": f"N(0, ({var})/0.8796^2) truncated at +-2 std",
    }[distribution]
    family = "normal" if distribution == "normal" else distribution
    return Spec(
        name,
        family,
        params,
        formula,
        True,
        lambda fans, matrix: laws.variance_scaling_law(scale, mode, distribution, _needs(fans)),
    )


def xavier_normal(gain: float = 1.0) -> Spec:
    """Glorot & Bengio 2010: N(0, gain^2 * 2 / (fan_in + fan_out)). Suits tanh/sigmoid."""
    gain = _validate.real("gain", gain, positive=True)
    return _scaled("xavier_normal", gain**2, "fan_avg", "normal", dict(gain=gain))


def xavier_uniform(gain: float = 1.0) -> Spec:
    """Glorot & Bengio 2010: U(-r, r), r = gain * sqrt(6 / (fan_in + fan_out))."""
    gain = _validate.real("gain", gain, positive=True)
    return _scaled("xavier_uniform", gain**2, "fan_avg", "uniform", dict(gain=gain))


def _he_gain(
    gain: float | None, nonlinearity: str | None, a: float
) -> tuple[float, dict[str, Any]]:
    if gain is not None:
        if nonlinearity is not None:
            raise ValueError("pass either gain or nonlinearity (which sets the gain), not both.")
        gain = _validate.real("gain", gain, positive=True)
        return gain, dict(gain=gain)
    nonlinearity = "relu" if nonlinearity is None else nonlinearity
    nonlinearity = _validate.choice("nonlinearity", nonlinearity, NONLINEARITIES)
    a = _validate.real("a", a)
    if nonlinearity == "leaky_relu" and a != 0.0:
        return torch_gain("leaky_relu", a), dict(nonlinearity=nonlinearity, a=a)
    if nonlinearity == "leaky_relu":  # slope 0 is ReLU: one spec, one name for it
        return torch_gain("relu"), dict(nonlinearity="relu")
    if a != 0.0:
        raise ValueError(f"a={a} is leaky_relu's slope; pass nonlinearity='leaky_relu' with it.")
    return torch_gain(nonlinearity), dict(nonlinearity=nonlinearity)


def he_normal(
    mode: str = "fan_in", nonlinearity: str | None = None, a: float = 0.0, gain: float | None = None
) -> Spec:
    """He et al. 2015: N(0, gain^2 / fan(mode)); gain sqrt(2) for ReLU (torch's
    ``kaiming_normal_``: gain from ``nonlinearity`` and leaky slope ``a``, or given)."""
    mode = _validate.choice("mode", mode, FAN_MODES)
    g, params = _he_gain(gain, nonlinearity, a)
    return _scaled("he_normal", g**2, mode, "normal", dict(mode=mode, **params))


def he_uniform(
    mode: str = "fan_in", nonlinearity: str | None = None, a: float = 0.0, gain: float | None = None
) -> Spec:
    """He et al. 2015, uniform: U(-r, r), r = gain * sqrt(3 / fan(mode))."""
    mode = _validate.choice("mode", mode, FAN_MODES)
    g, params = _he_gain(gain, nonlinearity, a)
    return _scaled("he_uniform", g**2, mode, "uniform", dict(mode=mode, **params))


def _torch_nonlinearity(nonlinearity: str | None, gain: float | None) -> str | None:
    """torch's kaiming_* default: nonlinearity='leaky_relu' (with a=0, ReLU's gain), unless a
    gain is given in its place."""
    return "leaky_relu" if nonlinearity is None and gain is None else nonlinearity


def kaiming_normal(
    mode: str = "fan_in", nonlinearity: str | None = None, a: float = 0.0, gain: float | None = None
) -> Spec:
    """``he_normal`` with ``torch.nn.init.kaiming_normal_``'s defaults: nonlinearity
    'leaky_relu' and a=0, so ``kaiming_normal(a=math.sqrt(5))`` reads as torch's."""
    return he_normal(mode, _torch_nonlinearity(nonlinearity, gain), a, gain)


def kaiming_uniform(
    mode: str = "fan_in", nonlinearity: str | None = None, a: float = 0.0, gain: float | None = None
) -> Spec:
    """``he_uniform`` with ``torch.nn.init.kaiming_uniform_``'s defaults (torch's Linear and
    Conv layers use ``kaiming_uniform(a=math.sqrt(5))``)."""
    return he_uniform(mode, _torch_nonlinearity(nonlinearity, gain), a, gain)


def lecun_normal() -> Spec:
    """LeCun 1998: N(0, 1 / fan_in); with SELU, self-normalizing (Klambauer et al. 2017).
    jax and keras truncate it: ``variance_scaling(1, 'fan_in', 'truncated_normal')``."""
    return _scaled("lecun_normal", 1.0, "fan_in", "normal", {})


def lecun_uniform() -> Spec:
    """LeCun 1998, uniform: U(-r, r), r = sqrt(3 / fan_in)."""
    return _scaled("lecun_uniform", 1.0, "fan_in", "uniform", {})


def orthogonal(gain: float = 1.0) -> Spec:
    """Saxe et al. 2014: gain * Q, Q Haar-distributed with orthonormal units (QR with the
    sign fix); units along the layout's out axis."""
    gain = _validate.real("gain", gain, positive=True)
    return Spec("orthogonal", "orthogonal", dict(gain=gain), f"{gain:g} * Haar orthogonal", False,
                lambda fans, matrix: laws.orthogonal_law(gain, _needs(matrix)))


#: Canonical spec names and their factories.
SPECS: dict[str, Callable[..., Spec]] = {
    f.__name__: f
    for f in (
        zeros, ones, constant, small_normal, large_normal, normal, uniform,
        xavier_normal, xavier_uniform, he_normal, he_uniform, lecun_normal, lecun_uniform,
        truncated_normal, orthogonal, variance_scaling,
    )
}
#: Other names frameworks and papers use for the same specs.
ALIASES: dict[str, str] = {
    "glorot_normal": "xavier_normal",
    "glorot_uniform": "xavier_uniform",
    "kaiming_normal": "he_normal",
    "kaiming_uniform": "he_uniform",
    "zero": "zeros",
    "trunc_normal": "truncated_normal",
}


def canonical_name(name: str) -> str:
    """The canonical name for ``name`` or an alias; unknown names list the known ones."""
    if isinstance(name, str) and name in ALIASES:
        return ALIASES[name]
    return _validate.choice("name", name, [*SPECS, *ALIASES])


def spec(name: str | Spec, **params: Any) -> Spec:
    """A ``Spec`` by name (aliases accepted) with its parameters, validated now.

    Args:
        name: a spec's name (``initcheck.initializers.names()`` lists them) or a ``Spec``.
        **params: its parameters (``mode``, ``gain``, ``std``, ...).

    Returns:
        The ``Spec``: what an initializer claims, as a function of a weight's fans.

    Raises:
        ValueError: an unknown name or parameter, or a value out of range (the message lists
            the allowed ones).

    Example:
        >>> spec("he_normal", mode="fan_out")
        spec('he_normal', mode='fan_out', nonlinearity='relu')
    """
    if isinstance(name, Spec):
        if params:
            raise ValueError(f"{name!r} is already a Spec; pass a name to set parameters.")
        return name
    factory = TORCH_NAMES.get(name) or SPECS[canonical_name(name)]
    accepted = list(inspect.signature(factory).parameters)
    _validate.keywords(f"spec {name!r}", params, accepted)
    return factory(**params)


#: Names under which a spec follows torch's signature and defaults, not initcheck's.
TORCH_NAMES: dict[str, Callable[..., Spec]] = {
    f.__name__: f for f in (kaiming_normal, kaiming_uniform)
}
