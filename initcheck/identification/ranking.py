"""How ``identify`` orders the candidates its tests accept: simplest first, unless a more
complex one fits significantly better.

Two candidates' log-likelihoods on one sample differ by chance: for two normal laws whose
variances differ by a fraction d, by about sqrt(2 n) d nats, so a fixed tie window in nats
lets a contrived rule (a 5/3 gain over fan_geo_avg, a square kernel assumed) win over the
simple one on half the seeds. Instead each comparison is Vuong's test for non-nested
models: the pointwise log-likelihood ratio, its sum over its standard error (a free gain
pays half a log n, Schwarz's correction). A candidate is outranked by a simpler one unless
it beats it at z > ``MARGIN_Z`` and by more than ``MARGIN_NATS``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Vuong z a more complex candidate must exceed to rank above a simpler one (one-sided
#: p = 0.00135 per comparison: a simple law is displaced by noise about once in 740 pairs).
MARGIN_Z = 3.0
#: ...and the log-likelihood ratio it must win by, in nats (a likelihood ratio of e^3, about
#: 20): two laws closer than the data can resolve (He over fan_geo_avg with the leaky 0.01
#: gain, 0.01% from LeCun on a 64x256 kernel) have a pointwise ratio of almost no spread, so
#: Vuong's z alone would rank them by a difference of no consequence.
MARGIN_NATS = 3.0


@dataclass(frozen=True)
class Scored:
    """A candidate with what its rank is computed from.

    Attributes:
        prior: the simplicity key (smaller is simpler).
        pointwise: the log-likelihood of each tested value under it.
        penalty: nats its free parameters cost (half a log n per fitted gain).
        item: what is ranked (carried through).
    """

    prior: tuple[int, ...]
    pointwise: np.ndarray
    penalty: float
    item: object

    @property
    def loglik(self) -> float:
        return float(np.sum(self.pointwise)) - self.penalty


def vuong_z(better: Scored, worse: Scored) -> float:
    """Vuong's z for ``better`` over ``worse`` on the same values (penalties included):
    positive when ``better`` fits better; +-inf when the ratio is a nonzero constant."""
    d = better.pointwise - worse.pointwise
    lr = float(np.sum(d)) - (better.penalty - worse.penalty)
    sd = float(np.std(d)) * math.sqrt(d.size)
    if sd == 0.0 or not math.isfinite(sd):
        return 0.0 if lr == 0 else math.copysign(math.inf, lr)
    return lr / sd


def rank(scored: list[Scored]) -> list[Scored]:
    """``scored`` best first: the best-fitting candidate and every candidate it does not beat
    (at ``MARGIN_Z`` and by ``MARGIN_NATS``) form the first tier, simplest first; then the
    rest, the same way."""
    rest = list(scored)
    out: list[Scored] = []
    while rest:
        top = max(rest, key=lambda s: s.loglik)
        tier = [s for s in rest if s is top or top.loglik - s.loglik <= MARGIN_NATS
                or vuong_z(top, s) <= MARGIN_Z]
        tier.sort(key=lambda s: (s.prior, -s.loglik))
        out += tier
        rest = [s for s in rest if all(s is not t for t in tier)]
    return out


__all__ = ["MARGIN_NATS", "MARGIN_Z", "Scored", "rank", "vuong_z"]
