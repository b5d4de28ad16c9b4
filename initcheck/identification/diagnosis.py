"""One answer to "what do the samples follow instead?", for every failure message (verify,
check_tensor, check_model, audits): the claim's sibling conventions the samples pass
(``conventions.matches``) and the named laws they look like (``identify``'s ranking).
"""

from __future__ import annotations

from initcheck.checks.contexts import Tensors
from initcheck.claims.specs import Spec
from initcheck.core.results import Diagnosis, Explanation
from initcheck.identification import conventions
from initcheck.identification.search import all_finite, explain

#: Explanations shown, at most (one per family and fan rule).
SHOWN = 3
#: Families whose claims have sibling conventions to try.
WITH_SIBLINGS = ("normal", "truncated_normal")


def diagnose(ctx: Tensors, claim: Spec, alpha: float, *, convention: str = "logical",
             siblings: bool = True) -> Diagnosis:
    """What the values of ``ctx`` follow instead of ``claim``.

    Args:
        ctx: the tensors (drawn or given) that failed ``claim``.
        claim: what they were meant to follow.
        alpha: the false-alarm rate the sibling tests and the ranking spend.
        convention: the fan convention ``claim`` was read with.
        siblings: try the claim's sibling conventions too (truncated or not, other fans).

    Returns:
        A ``Diagnosis``: the siblings the samples pass (None where none are tried) and up to
        ``SHOWN`` explanations, best first; none when the best is the claim itself (a
        failure of another kind: structure, dependence), or when a value is NaN or Inf.
    """
    if not all_finite(ctx):  # NaN or Inf: no law explains them, and a fit would mislead
        return Diagnosis()
    matches = None
    if siblings and claim.family in WITH_SIBLINGS:
        matches = tuple(str(s) for s in conventions.matches(claim, ctx, convention, alpha))
    found = explain(ctx, alpha)
    shown: list[Explanation] = []
    if not (found and found[0].spec == claim):
        kinds: set[tuple[str, str]] = set()
        for c in found:  # one per family and fan rule: near-equal gains say nothing new
            if (c.family, c.rule) not in kinds and len(shown) < SHOWN:
                kinds.add((c.family, c.rule))
                shown.append(c.as_explanation())
    return Diagnosis(matches=matches, looks_like=tuple(shown))
