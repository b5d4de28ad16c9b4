"""Value resolution: values on a grid coarser than their dtype holds (a float32 tensor whose
values carry bfloat16's mantissa, an inverse-CDF sampler fed 16-bit uniforms, float32
values in a float64 tensor). Among m values drawn from a continuous law and rounded to the
dtype, the number of repeated values is about Poisson with mean C(m, 2) sum_c p_c^2 over the
dtype's rounding cells c; a grid b bits coarser multiplies it by about 2^b.

The null allows ``SLACK_BITS`` of resolution lost, since correct samplers lose some: jax's
normal (erfinv of 23-bit uniforms) repeats 8.5x as often as float32 allows (3.1 bits),
torch's ``uniform_`` 3x (1.6 bits). The test is one-sided and its MDE is in bits."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from initcheck.claims.specs import Law
from initcheck.core import _validate
from initcheck.core.results import POWER, CheckResult
from initcheck.stats.moments import check_alpha

#: Resolution a correct sampler may lose, in bits, before values count as too coarse.
SLACK_BITS = 4
#: Gauss-Legendre nodes per binade for the integral of the density squared.
NODES = 16
#: Binades below the law's scale that still count (each lower one adds 4x less).
BINADES = 40
#: The test applies where repeats are rare under the claim (a fine grid): expected repeats
#: below this fraction of the sample (float16 and bfloat16 grids are too coarse to judge).
MAX_REPEAT_FRACTION = 0.05


@functools.lru_cache(maxsize=1024)
def repeat_rate(law: Law, dtype: np.dtype) -> float:
    """sum over the dtype's rounding cells of P(cell)^2, for the law's continuous density:
    per binade [2^e, 2^(e+1)) of |x| the cells are 2^(e - mantissa bits) wide, so the sum is
    sum_e width_e * integral over the binade of f(x)^2 (Gauss-Legendre, both signs)."""
    info = _validate.finfo(dtype)
    reach = max(abs(law.low), abs(law.high)) if law.bounded else abs(law.mean) + 12 * law.std
    top = math.ceil(math.log2(reach)) if reach > 0 else 0
    e = np.arange(top - BINADES, top + 1, dtype=np.float64)
    lo, hi = 2.0**e, 2.0 ** (e + 1)
    a = np.clip(np.concatenate([lo, -hi]), law.low, law.high)  # both signs, inside the support
    b = np.clip(np.concatenate([hi, -lo]), law.low, law.high)
    width = np.concatenate([2.0 ** (e - info.nmant)] * 2)
    nodes, weights = np.polynomial.legendre.leggauss(NODES)
    x = (a + b)[:, None] / 2 + (b - a)[:, None] / 2 * nodes  # one density call for all
    f = law.dist.pdf(x)
    return float((width * (b - a) / 2 * ((f * f) @ weights)).sum())


def match_probability(law: Law, dtype: np.dtype) -> float:
    """P(two independent draws of one element are equal in ``dtype``): 1 for a constant, the
    sum of squared probabilities for a discrete law (a 1x1 orthogonal is +-gain), and
    ``repeat_rate`` for a continuous one. Tiny tensors in a coarse dtype repeat by chance."""
    if law.family == "constant":
        return 1.0
    if law.discrete:
        return float(np.sum(np.asarray(law.dist.pk, dtype=np.float64) ** 2))
    return min(1.0, repeat_rate(law, np.dtype(dtype)))


@dataclass(frozen=True)
class Repeats:
    """One sample's share of the resolution test: repeated values, the repeats rounding
    alone gives, and the sample's size."""

    repeats: int
    expected: float
    n: int


def repeats(x: np.ndarray, law: Law, grid: np.dtype | None = None) -> Repeats | None:
    """``Repeats`` of a sample of ``law`` on the grid of ``grid`` (default: the sample's own
    dtype); None where that grid is too coarse to judge (half precision, a law on the grid,
    or many repeats expected) or the claim has no density."""
    x = np.asarray(x).ravel()
    m = x.size
    grid = np.dtype(grid or x.dtype)
    if (
        m < 2
        or law.make_dist is None
        or law.grid is not None
        or grid.kind != "f"
        or grid.itemsize < 4
    ):
        return None
    mu = m * (m - 1) / 2 * repeat_rate(law, grid)
    if not mu <= MAX_REPEAT_FRACTION * m:
        return None
    return Repeats(m - np.unique(x).size, mu, m)


def resolution_test(parts: list[Repeats | None], alpha: float, *,
                    name: str = "resolution") -> CheckResult:
    """Repeated values among the samples (pooled, ``repeats``) against 2^SLACK_BITS times
    the rounding's own: Poisson, one-sided."""
    alpha = check_alpha(alpha)
    use = [p for p in parts if p is not None]
    if not use:
        return CheckResult.skipped(name, alpha,
                                   "no sample with a grid fine enough to judge (half precision)")
    found = sum(p.repeats for p in use)
    expected = sum(p.expected for p in use)
    n = sum(p.n for p in use)
    null = expected * 2.0**SLACK_BITS
    p = float(special.pdtrc(found - 1, null)) if found > 0 else 1.0
    crit = float(special.pdtrik(1 - alpha, null))  # repeats the null exceeds with prob. alpha
    zb = float(special.ndtri(POWER))
    detected = (math.sqrt(crit) + zb / 2) ** 2  # mean repeats caught with prob. POWER
    lost = math.log2(found / expected) if found > 0 else 0.0
    return CheckResult(
        name=name, passed=p >= alpha, statistic=float(found), threshold=math.ceil(crit),
        pvalue=p, alpha=alpha, n=n, mde=math.log2(max(detected, 1.0) / expected),
        detail=f"{found} repeated values among {n}; rounding alone gives {expected:.3g}"
               f" (resolution lost: {lost:.1f} bits, {SLACK_BITS} allowed; at most"
               f" {math.ceil(crit)} repeats)",
        observed=lost, expected=0.0)
