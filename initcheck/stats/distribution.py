"""The shape of the distribution: the claimed CDF (probability integral transform) and the
one-sample Kolmogorov-Smirnov test on the transformed values, with its exact p-value."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from scipy import special, stats

from initcheck.claims.specs import Law
from initcheck.core.results import POWER, CheckResult
from initcheck.core.seeding import generator
from initcheck.stats.moments import check_alpha

#: Above this n the KS p-value uses Stephens' corrected Kolmogorov limit: scipy's exact
#: finite-n law can take 100 ms there, and the two agree to about 1e-3 relative.
KS_EXACT_MAX = 10_000
#: Up to this n the critical D a KS result reports is the exact law's (under 1 ms).
EXACT_CRITICAL_MAX = 1000


def cdf(x: np.ndarray, law: Law) -> np.ndarray:
    """The claimed CDF at x (the probability integral transform: uniform on (0, 1) if x
    follows ``law``), with scipy.special directly for the families initcheck knows; the
    frozen scipy distribution otherwise."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    if law.discrete:  # a 1x1 orthogonal is +-gain; a law on a dtype's grid
        return _randomized(flat, law.dist)
    if law.family == "normal":
        return special.ndtr((flat - law.mean) / law.std)
    if law.family == "uniform":
        return np.clip((flat - law.low) / (law.high - law.low), 0.0, 1.0)
    if law.family == "truncated_normal":
        mean, std = law.parent()
        a, b = (law.low - mean) / std, (law.high - mean) / std
        lo = special.ndtr(a)
        z = (flat - mean) / std
        return np.clip((special.ndtr(z) - lo) / (special.ndtr(b) - lo), 0.0, 1.0)
    if law.family == "orthogonal" and max(law.orthogonal()[0]) > 1:
        matrix, gain = law.orthogonal()
        half = (max(matrix) - 1) / 2  # (x/g + 1)/2 ~ Beta(half, half)
        return special.betainc(half, half, np.clip((flat / gain + 1) / 2, 0.0, 1.0))
    return np.asarray(law.dist.cdf(flat), dtype=np.float64)


def _randomized(flat: np.ndarray, dist: Any) -> np.ndarray:
    """The randomized transform of a discrete law (a law on a dtype's grid, +-gain):
    F(x-) + V p(x), V ~ U(0, 1) independent of x, is exactly uniform under the claim, where
    F(x) alone is not. V comes from a fixed stream, so the tests stay deterministic."""
    mass = np.asarray(dist.pmf(flat), dtype=np.float64)
    below = np.asarray(dist.cdf(flat), dtype=np.float64) - mass
    return below + generator(0, "randomized pit", flat.size).random(flat.size) * mass


def ks_test(u: np.ndarray, alpha: float, *, name: str = "distribution") -> CheckResult:
    """KS test that probability-transformed values ``u = F(x)`` are uniform on (0, 1), with
    scipy's exact finite-n p-value (``kstwo``; see ``ks_pvalue``). D is computed from the
    sorted values as ``scipy.stats.kstest`` does, without its dispatch overhead. Test raw
    samples with ``ks_test(cdf(x, law), alpha)``."""
    alpha = check_alpha(alpha)
    u = np.sort(np.asarray(u, dtype=np.float64).ravel())
    n = u.size
    i = np.arange(1, n + 1) / n
    d = float(max(np.max(i - u), np.max(u - (i - 1 / n))))
    p = ks_pvalue(d, n)
    # the reported critical D: the exact law's below EXACT_CRITICAL_MAX elements (the limit
    # passes 1, where no D can reach it, at small n), Kolmogorov's limit beyond (inverting
    # the exact law costs more than the test there); the verdict uses the exact p-value
    crit = (float(stats.kstwo.isf(alpha, n)) if n <= EXACT_CRITICAL_MAX
            else _kolmogorov_isf(alpha) / math.sqrt(n))
    # a true sup-distance this far beyond the critical value is seen with prob. >= POWER:
    # the empirical CDF at the worst point has std <= 1/(2 sqrt(n))
    mde = crit + float(special.ndtri(POWER)) / (2 * math.sqrt(n))
    return CheckResult(
        name=name, passed=p >= alpha, statistic=d, threshold=crit, pvalue=p, alpha=alpha, n=n,
        mde=mde, detail=f"KS D = {d:.5f}, D <= {crit:.5f}", observed=d, expected=0.0,
    )


@functools.lru_cache(maxsize=64)
def _kolmogorov_isf(alpha: float) -> float:
    return float(stats.kstwobign.isf(alpha))


def ks_pvalue(d: float, n: int) -> float:
    """P(D_n >= d) for the one-sample KS statistic: exact (scipy ``kstwo``) up to
    KS_EXACT_MAX, else Kolmogorov's law at (sqrt(n) + 0.12 + 0.11/sqrt(n)) d (Stephens 1970)."""
    if n <= KS_EXACT_MAX:
        return float(stats.kstwo.sf(d, n))
    rn = math.sqrt(n)
    return float(stats.kstwobign.sf((rn + 0.12 + 0.11 / rn) * d))
