"""The structured space of claims ``identify`` searches: families and the variance each
draws at "scale / fan", fan rules (mode, layout, convention, and the classic mistakes:
receptive field ignored, square kernel assumed, torch vs keras layout), named gains and
fixed stds, and the spec each point of the space stands for, named where a name exists."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from initcheck.claims.laws import TRUNCATED_STD_2, Law, normal_law, truncated_law, uniform_law
from initcheck.claims.specs import Spec, spec as make_spec
from initcheck.core.fans import FAN_MODES, LAYOUTS, Fans, Layout, compute_fans
from initcheck.theory.torch_gains import torch_gain

#: Named gains: torch's table and the derived ones; scale = gain^2.
GAINS: dict[str, float] = {
    "1": 1.0,
    "sqrt(2)": math.sqrt(2.0),
    "5/3": 5 / 3,
    "3/4": 0.75,
    "leaky_relu(0.01)": torch_gain("leaky_relu", 0.01),
    "leaky_relu(0.2)": torch_gain("leaky_relu", 0.2),
    "leaky_relu(sqrt(5))": torch_gain("leaky_relu", math.sqrt(5.0)),
}
#: Fixed stds with names (no fan): the reference article's small and large inits, transformers'
#: initializer_range 0.02, keras's RandomNormal and TruncatedNormal default 0.05.
FIXED_STDS: dict[str, float] = {"0.01": 0.01, "0.02": 0.02, "0.05": 0.05, "1": 1.0}
#: Families searched, and the variance of a draw at "scale / fan" relative to scale / fan
#: (the claims' families are ``initcheck.claims.specs.FAMILIES``).
SEARCHED_FAMILIES: dict[str, float] = {
    "normal": 1.0, "uniform": 1.0, "truncated_normal": 1.0,  # jax/keras: corrected
    "truncated_normal_uncorrected": TRUNCATED_STD_2**2,  # torch: parent std sqrt(scale/fan)
}
#: Kurtosis of each family (from its law), and n times the variance of the sample kurtosis:
#: families whose kurtosis the samples' is more than KURTOSIS_Z standard errors from are not
#: searched. The spread is mu8 - mu4^2 - 4 mu4 mu6 + 4 mu4^3 (delta method, standardized
#: moments of a symmetric law): 24 for the normal, 1.32 for the uniform; the truncated
#: normal's 5.2 is wider than its exact 3.85, which keeps it searched near the boundary.
_TRUNCATED_KURTOSIS = truncated_law(0.0, 1.0, -2.0, 2.0).kurtosis
KURTOSIS = {"normal": (normal_law(0.0, 1.0).kurtosis, 24.0),
            "uniform": (uniform_law(-1.0, 1.0).kurtosis, 1.32),
            "truncated_normal": (_TRUNCATED_KURTOSIS, 5.2),
            "truncated_normal_uncorrected": (_TRUNCATED_KURTOSIS, 5.2)}
KURTOSIS_Z = 8.0
@dataclass(frozen=True)
class FanRule:
    """A fan rule: how a shape's fan is read (mode, layout, convention, variant)."""

    mode: str | None  # None: no fan (a fixed std)
    layout: Layout
    convention: str = "logical"
    variant: str = "exact"  # or "no_receptive_field", "square_kernel"

    def fan(self, shape: tuple[int, ...]) -> float:
        """The fan of ``shape`` by this rule (ValueError where the rule cannot read it);
        cached, since a search reads each rule's fan of each shape many times."""
        return _rule_fan(self, tuple(shape))

    def _fan(self, shape: tuple[int, ...]) -> float:
        if self.mode is None:
            return 1.0
        fans = compute_fans(shape, self.layout, convention=self.convention, vectors="length")
        if self.variant != "exact" and len(shape) > 2:
            k = fans.receptive_field
            if self.variant == "no_receptive_field":
                new_k = 1
            else:  # the first kernel axis, taken as every kernel axis's length
                ins, outs, batch = self.layout.axis_sets(len(shape))
                spatial = [a for a in range(len(shape)) if a not in (*ins, *outs, *batch)]
                new_k = shape[spatial[0]] ** len(spatial) if spatial else 1
            fans = Fans(fans.fan_in // k * new_k, fans.fan_out // k * new_k, new_k)
        return fans.fan(self.mode)

    def describe(self) -> str:
        if self.mode is None:
            return "a fixed std"
        parts = [f"mode={self.mode!r}"]
        if self.convention != "logical":
            parts.append(f"{self.convention}'s fans")
        if self.variant != "exact":
            parts.append(self.variant.replace("_", " ") if self.variant != "square_kernel"
                         else "a square kernel assumed")
        return ", ".join(parts)


@functools.lru_cache(maxsize=2**16)
def _rule_fan(rule: FanRule, shape: tuple[int, ...]) -> float:
    return rule._fan(shape)


def family_law(family: str, var: float) -> Law:
    std = math.sqrt(var)
    if family == "normal":
        return normal_law(0.0, std)
    if family == "uniform":
        r = math.sqrt(3 * var)
        return uniform_law(-r, r)
    # both truncated families: cut at +-2 parent std, the parent widened to give ``var``
    return truncated_law(0.0, std / TRUNCATED_STD_2, -2.0, 2.0)


def _fitted(x: float) -> float:
    """A fitted value to the 4 significant digits it carries."""
    return float(f"{x:.4g}")


def _exact(x: float) -> float:
    """A named value as it is, its last-bit noise removed (sqrt(2) squared is 2)."""
    near = round(x, 9)
    return near if math.isclose(x, near, rel_tol=1e-14) else x


def candidate_spec(
    family: str, rule: FanRule, gain: float, named: str | None
) -> tuple[Spec | None, str]:
    """The spec (and its Python) a candidate stands for, named where a name exists. A
    fitted gain's parameters carry the precision of the fit (4 significant digits: a fit's
    standard error is ~1% at the default sizes); a named one's are exact."""
    tidy = _fitted if named is None else _exact
    scale = gain * gain
    if rule.variant != "exact":
        return None, f"{family} with scale {scale:.6g}/{rule.mode} ({rule.describe()})"
    if rule.mode is None:
        std = gain
        if family == "normal" and named is not None:
            s = {"0.01": make_spec("small_normal"), "1": make_spec("large_normal")}.get(
                named, make_spec("normal", std=std))
        elif family == "normal":
            s = make_spec("normal", std=tidy(std))
        elif family == "uniform":
            r = tidy(math.sqrt(3) * std)
            s = make_spec("uniform", low=-r, high=r)
        elif family == "truncated_normal":
            parent = FIXED_STDS[named] if named is not None else tidy(std / TRUNCATED_STD_2)
            s = make_spec("truncated_normal", std=parent)
        else:
            std = tidy(std)
            s = make_spec("truncated_normal", std=std, a=-2 * std, b=2 * std)
        return s, repr(s)
    if family == "truncated_normal_uncorrected":  # the same law as a corrected one
        s = make_spec("variance_scaling", scale=tidy(scale * TRUNCATED_STD_2**2),
                      mode=rule.mode, distribution="truncated_normal")
        return s, f"{s!r} (scale {scale:.6g} truncated without the 0.8796 correction)"
    dist = "normal" if family == "normal" else family
    s = make_spec("variance_scaling", scale=tidy(scale), mode=rule.mode, distribution=dist)
    if named is not None and family in ("normal", "uniform"):
        s = _named_spec(family, rule.mode, named, gain) or s
    return s, repr(s)


def _named_spec(kind: str, mode: str | None, named: str, gain: float) -> Spec | None:
    """The familiar name of a variance-scaling claim with a named gain, where one exists:
    LeCun (fan_in, 1), Glorot/Xavier (fan_avg, any gain), He/Kaiming (fan_in or fan_out;
    ReLU's sqrt 2, a leaky slope, or any gain)."""
    if mode == "fan_in" and named == "1":
        return make_spec(f"lecun_{kind}")
    if mode == "fan_avg":
        return make_spec(f"xavier_{kind}", **({} if named == "1" else {"gain": gain}))
    if mode in ("fan_in", "fan_out"):
        if named == "sqrt(2)":
            return make_spec(f"he_{kind}", mode=mode)
        if named.startswith("leaky_relu"):
            slope = {"leaky_relu(0.01)": 0.01, "leaky_relu(0.2)": 0.2}.get(named, math.sqrt(5.0))
            return make_spec(f"he_{kind}", mode=mode, nonlinearity="leaky_relu", a=slope)
        return make_spec(f"he_{kind}", mode=mode, gain=gain)
    return None


def rules(layout: Layout) -> list[FanRule]:
    other = LAYOUTS["keras" if layout.name == "torch" else "torch"]
    out = [FanRule(None, layout)]
    for lay in (layout, replace(other, groups=layout.groups, transposed=layout.transposed)):
        for conv in ("logical", "torch", "keras"):
            for variant in ("exact", "no_receptive_field", "square_kernel"):
                out += [FanRule(m, lay, conv, variant) for m in FAN_MODES]
    return out


__all__ = [
    "SEARCHED_FAMILIES",
    "FIXED_STDS",
    "GAINS",
    "KURTOSIS",
    "KURTOSIS_Z",
    "FanRule",
    "candidate_spec",
    "family_law",
    "rules",
]
