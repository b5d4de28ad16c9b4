"""Sibling conventions: the same family read by another framework's rule. When a claim
fails, ``matches`` tests the samples already drawn against each sibling (untruncated vs
truncated variance scaling, truncation bounds in std units vs absolute, logical vs torch's
grouped fans), so a failure can say which convention the samples do follow."""

from __future__ import annotations

from dataclasses import dataclass

from initcheck.checks import battery as checks
from initcheck.checks.contexts import Tensors
from initcheck.claims.laws import Law
from initcheck.claims.specs import Spec, spec as make_spec
from initcheck.core.fans import Fans

#: The untruncated variance-scaling specs and the fan mode each divides by.
_MODES = {"he_normal": None, "xavier_normal": "fan_avg", "lecun_normal": "fan_in"}
#: Checks a sibling must pass, each at an equal share of the alpha it is given.
_CHECKS = (checks.mean, checks.std, checks.distribution)


@dataclass(frozen=True)
class Sibling:
    """Another convention of the claimed family: its spec, the fan convention it reads
    shapes by, and what it is, in a few words."""

    spec: Spec
    convention: str
    meaning: str

    def __str__(self) -> str:
        fans = "" if self.convention == "logical" else f" with convention={self.convention!r}"
        return f"{self.spec!r}{fans} ({self.meaning})"


def _fans(law: Law) -> Fans:
    if law.fans is None:
        raise ValueError(f"a {law.family} law of a fan-free claim has no fans to rescale.")
    return law.fans


def siblings(claim: Spec, ctx: Tensors, convention: str) -> list[Sibling]:
    """The other conventions of ``claim``'s family that could explain the samples."""
    out: list[Sibling] = []
    p = dict(claim.params)
    law = next(iter(ctx.laws.values()))
    if claim.name in _MODES or (claim.name == "variance_scaling" and p["distribution"] == "normal"):
        mode = str(p.get("mode") or _MODES[claim.name])
        scale = p.get("scale") or round(law.std**2 * _fans(law).fan(mode), 12)  # gain^2
        out.append(
            Sibling(
                make_spec(
                    "variance_scaling", scale=scale, mode=mode, distribution="truncated_normal"
                ),
                convention,
                "truncated at 2 std and corrected, as jax, keras, flax and timm mean it",
            )
        )
    elif claim.name == "variance_scaling" and p["distribution"] == "truncated_normal":
        out.append(Sibling(make_spec("variance_scaling", scale=p["scale"], mode=p["mode"],
                                     distribution="normal"), convention,
                           "untruncated, as torch and the papers mean it"))
    elif claim.name == "truncated_normal" and "lower" in p:
        out.append(Sibling(make_spec("truncated_normal", std=p["std"], mean=p["mean"],
                                     a=p["lower"], b=p["upper"]), convention,
                           "bounds absolute, as torch's trunc_normal_ takes them"))
    elif claim.name == "truncated_normal":
        # the same numbers read as std units: a torch call written for jax's meaning
        out.append(Sibling(make_spec("truncated_normal", std=p["std"], mean=p["mean"],
                                     lower=p["a"], upper=p["b"]), convention,
                           "bounds in std units, as jax and keras take them"))
    if ctx.layout.groups > 1 and claim.needs_fans:
        other = "torch" if convention == "logical" else "logical"
        out.append(Sibling(claim, other, "torch's fans: groups ignored" if other == "torch"
                           else "logical fans: each unit's true connectivity"))
    return out


def matches(claim: Spec, ctx: Tensors, convention: str, alpha: float) -> list[Sibling]:
    """The siblings whose mean, std and distribution tests the samples pass at ``alpha``."""
    found = []
    for sib in siblings(claim, ctx, convention):
        try:
            laws = {s: sib.spec.law(ctx.shape(s), ctx.layout, convention=sib.convention)
                    for s in ctx.laws}
        except ValueError:  # the sibling does not fit these shapes
            continue
        other = ctx.relabelled(laws)
        if all(check(other, alpha / len(_CHECKS)).passed for check in _CHECKS):
            found.append(sib)
    return found
