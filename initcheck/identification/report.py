"""The identification wing's result type: ``Candidate``, one explanation of what samples
follow, as ``identify`` ranks them. Frozen and built by keyword, as every result
(``initcheck.core.results``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from initcheck.claims.laws import Law
from initcheck.claims.specs import Spec
from initcheck.core.fans import get_layout
from initcheck.core.results import Explanation, Result, _jsonable
from initcheck.core.text import wrap
from initcheck.identification.claim_space import SEARCHED_FAMILIES, FanRule, family_law


@dataclass(frozen=True, kw_only=True)
class Candidate(Result):
    """One explanation of what the samples follow, as ``identify`` ranks them.

    Attributes:
        claim: Python for the claim (``spec('he_normal', mode='fan_out', ...)``).
        spec: the ``Spec`` (None for a fan rule no spec expresses).
        convention: the fan convention the claim is read with.
        layout: the layout shapes are read in.
        family: the distribution family.
        gain: the fitted gain.
        named: whether the gain is a named one (1, sqrt 2, 5/3, ...).
        std_ratio: the observed std over the candidate's.
        std_ratio_se: its standard error.
        pvalue: the smallest Bonferroni-adjusted p-value of its tests.
        loglik: the log-likelihood of the tested values.
        explanation: one line on what it is.
        rule: the fan rule in words.
        fan_rule: the fan rule itself (None for constant and orthogonal candidates).
        same_law: the other claims that give exactly this law on the samples' shapes
            (LeCun and He fan_out where fan_out = 2 fan_in), simplest first.

    Example:
        >>> import initcheck as ic
        >>> ic.identify("xavier_uniform", shapes=[(256, 128)])[0].family
        'uniform'
    """

    SCHEMA: ClassVar[str] = "initcheck.candidate/1"

    claim: str
    spec: Spec | None
    convention: str
    layout: str
    family: str
    gain: float
    named: bool
    std_ratio: float
    std_ratio_se: float
    pvalue: float
    loglik: float
    explanation: str
    #: the fan rule, in words (mode, convention, variant, layout)
    rule: str = ""
    #: the fan rule itself (None for constant and orthogonal candidates)
    fan_rule: FanRule | None = field(default=None, repr=False, compare=False)
    #: the other claims giving exactly this law on these shapes, simplest first
    same_law: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"schema": self.SCHEMA, "claim": self.claim, "convention": self.convention,
                          "layout": self.layout, "family": self.family, "gain": self.gain,
                          "named": self.named, "std_ratio": self.std_ratio,
                          "std_ratio_se": self.std_ratio_se, "pvalue": self.pvalue,
                          "loglik": self.loglik, "explanation": self.explanation,
                          "rule": self.rule, "same_law": list(self.same_law)})

    def law(self, shape: tuple[int, ...]) -> Law:
        """The law this candidate gives a tensor of ``shape`` (its fan rule and gain)."""
        if self.fan_rule is None:  # constant, orthogonal: a spec of their own
            if self.spec is None:
                raise ValueError("a candidate without a fan rule carries its own spec.")
            return self.spec.law(shape, get_layout(self.layout))
        return family_law(
            self.family, self.gain**2 * SEARCHED_FAMILIES[self.family] / self.fan_rule.fan(shape)
        )

    def as_explanation(self) -> Explanation:
        """This candidate as one line of a failure's diagnosis."""
        fit = ("" if self.family in ("constant", "orthogonal")  # exact: no ratio to show
               or not math.isfinite(self.std_ratio)  # nothing to scale (a zero tensor)
               else f"std ratio {self.std_ratio:.3f} +- {self.std_ratio_se:.3f}"
                    f" (p = {self.pvalue:.3g}): ")
        return Explanation(claim=self.claim, evidence=(
            f"{fit}{self.explanation}" + (f"; the same law as {', '.join(self.same_law)}"
                                      if self.same_law else "")))

    def __str__(self) -> str:
        return wrap(str(self.as_explanation()), indent=4)


__all__ = ["Candidate"]
