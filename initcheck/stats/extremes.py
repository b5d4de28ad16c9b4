"""Values at and beyond the edges: hard checks (finite, support), the exact edge test (the
samples reach the claimed bounds), the Gaussian extreme-value test of the tails, and the
binomial test of mass piled exactly on a bound (atoms)."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special, stats

from initcheck.claims.specs import Law
from initcheck.core import _validate
from initcheck.core.results import CheckResult
from initcheck.sharding.array import ShardedArray, as_sharded
from initcheck.sharding.partials import Summary
from initcheck.stats.distribution import cdf
from initcheck.stats.moments import check_alpha

#: Floor of an atom's probability, so that a bound no rounding reaches keeps a valid
#: binomial law (any count > 0 then fails).
MIN_ATOM_PROBABILITY = 1e-300
#: Random bits behind a float32 draw of the coarsest generator real frameworks use: jax (so
#: flax and keras on it) draws 23, torch's CPU generator 24. A uniform bit pattern of 0 maps
#: to the lower bound itself, so a bound is hit with probability 2**-23 per element, far more
#: than float32's rounding near it (a false FAIL once in 150 checks of a keras ResNet50).
GENERATOR_BITS = 23


def finite(x: np.ndarray | ShardedArray, *, name: str = "finite") -> CheckResult:
    """Hard check: no NaN or Inf anywhere."""
    arr = as_sharded(x)
    bad = arr.count(lambda v: ~np.isfinite(v))
    return CheckResult.hard(name, bad == 0, n=arr.size, statistic=float(bad),
                            detail=f"{bad} of {arr.size} values are NaN or Inf",
                            observed=float(bad), expected=0.0)


def support(x: np.ndarray | ShardedArray, law: Law, *, name: str = "support") -> CheckResult:
    """Hard check: every element inside the claimed [low, high] (deterministic, alpha 0).

    Bounds are compared after rounding to the sample's dtype, as a correct sampler's
    output is rounded too."""
    arr = as_sharded(x)
    lo = float(np.asarray(law.low, dtype=arr.dtype)) if math.isfinite(law.low) else -math.inf
    hi = float(np.asarray(law.high, dtype=arr.dtype)) if math.isfinite(law.high) else math.inf
    outside = arr.count(lambda v: (v < lo) | (v > hi))
    xmin, xmax = arr.extremes()
    held = (
        f"every value is {xmin:.6g}" if xmin == xmax else f"observed range [{xmin:.6g}, {xmax:.6g}]"
    )
    if lo == hi:  # an exact value is claimed: say what the tensor holds instead
        detail = f"{outside} of {arr.size} values are not the claimed {lo:.6g}; {held}"
    else:
        detail = f"{outside} of {arr.size} outside [{lo:.6g}, {hi:.6g}]; {held}"
    return CheckResult.hard(name, outside == 0, n=arr.size, statistic=float(outside),
                            detail=detail, observed=float(outside), expected=0.0)


def edge_test(x: np.ndarray, law: Law, alpha: float, *, name: str = "edge") -> CheckResult:
    """Exact test that samples reach the claimed bounds. Catches a bound set too wide for
    the samples (the std used as the bound, a narrower distribution than claimed)."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    u_min, u_max = (float(v) for v in cdf(np.array([flat.min(), flat.max()]), law))
    return edge_test_of(u_min, u_max, flat.size, alpha, name=name)


def edge_test_of(
    u_min: float, u_max: float, n: int, alpha: float, *, name: str = "edge"
) -> CheckResult:
    """The edge test in probability space. With u = F(x) uniform under the claim and
    d = min(u_min, 1 - u_max) the closest approach of n samples to a bound,
    P(D >= d) = (1 - 2d)^n exactly; reject when that is below alpha, i.e. when d exceeds
    eps/2 with eps = 1 - alpha^(1/n)."""
    alpha = check_alpha(alpha)
    d = max(0.0, min(u_min, 1.0 - u_max))
    p = math.exp(n * math.log1p(-2 * d)) if d < 0.5 else 0.0
    eps = -math.expm1(math.log(alpha) / n)
    return CheckResult(
        name=name, passed=p >= alpha, statistic=d, threshold=eps / 2, pvalue=p, alpha=alpha,
        n=n, mde=eps / 2,
        detail=f"closest approach to a bound: {d:.3g} of the probability mass (at most"
               f" {eps / 2:.3g}); P(that far | claim) = {p:.3g}",
        observed=d, expected=0.0,
    )


def tails_test(summaries: list[Summary], alpha: float, *, name: str = "tails") -> CheckResult:
    """Extreme-value test for unbounded (normal) claims: M = max|x - mean|/sigma over every
    element. Under the claim P(M <= m) = (1 - 2 Phi(-m))^n exactly; too large M means
    outliers (a 1000-sigma value), too small means clamped tails. Two-sided."""
    alpha = check_alpha(alpha)
    n = sum(s.n for s in summaries)
    m = max(s.max_abs for s in summaries)
    log_cdf = n * math.log1p(-2 * float(special.ndtr(-m))) if m > 0 else -math.inf
    p_low = math.exp(log_cdf)
    p_high = -math.expm1(log_cdf)
    p = min(1.0, 2 * min(p_low, p_high))

    def quantile(q: float) -> float:  # of the maximum
        return -float(special.ndtri(-math.expm1(math.log(q) / n) / 2))

    lo, hi = quantile(alpha / 2), quantile(1 - alpha / 2)
    return CheckResult(
        name=name, passed=p >= alpha, statistic=m, threshold=hi, pvalue=p, alpha=alpha, n=n,
        mde=math.nan,
        detail=f"max|x - mean| = {m:.3f} sigma, acceptance [{lo:.3f}, {hi:.3f}] for n = {n}",
        observed=m, expected=quantile(0.5),
    )


def atoms_test(
    x: np.ndarray | ShardedArray, law: Law, alpha: float, *, name: str = "atoms"
) -> CheckResult:
    """Mass piled exactly on the bounds of a bounded claim (clamping instead of truncating):
    the count of samples equal to a bound, rounded to the sample's dtype, against its
    binomial law. A correct sampler lands there by rounding, with probability the claimed
    mass within half a grid step of the bound (large for bfloat16, tiny for float32), or
    because its generator's bit pattern 0 maps there (``GENERATOR_BITS``: 2**-23 per bound);
    clamping piles the whole tail there."""
    alpha = check_alpha(alpha)
    arr = as_sharded(x)
    dt = (
        arr.dtype
        if arr.dtype.kind == "f" or arr.dtype.name in _validate.ML_FLOATS
        else np.dtype(np.float64)
    )
    n = arr.size
    p1, count = 0.0, 0
    if law.grid is not None:  # a law on the dtype's grid: its bounds are values it holds
        p1 = float(np.sum(law.dist.pmf(np.array([law.low, law.high]))))
        count = arr.count(lambda v: (v == law.low) | (v == law.high))
    for bound in (law.low, law.high) if law.grid is None else ():
        b = float(np.asarray(bound, dtype=dt).astype(np.float64))  # the bound as stored
        down, up = neighbours(b, dt)
        # values that round to b, inside the support
        lo, hi = max(law.low, (down + b) / 2), min(law.high, (b + up) / 2)
        if hi > lo:
            c = cdf(np.array([lo, hi]), law)
            p1 += float(c[1] - c[0])
        p1 += 2.0**-GENERATOR_BITS  # the generator's own grid reaches the bound
        count += arr.count(functools.partial(np.equal, b))
    p1 = min(1.0, max(p1, MIN_ATOM_PROBABILITY))
    p = float(special.bdtrc(count - 1, n, p1)) if count > 0 else 1.0
    crit_k = float(special.bdtrik(1 - alpha, n, p1))
    crit = math.ceil(crit_k) if math.isfinite(crit_k) else int(stats.binom.isf(alpha, n, p1))
    return CheckResult(
        name=name, passed=p >= alpha, statistic=float(count), threshold=float(crit), pvalue=p,
        alpha=alpha, n=n, mde=math.nan,
        detail=f"{count} of {n} exactly on a bound ({dt}); expected {n * p1:.3g} from"
               f" rounding, at most {crit}",
        observed=float(count), expected=n * p1,
    )


def neighbours(v: float, dt: np.dtype) -> tuple[float, float]:
    """The representable values of ``dt`` just below and just above ``v`` (itself
    representable), as float64."""
    a = abs(v)
    step = float(np.spacing(np.asarray(a, dtype=dt)))
    probe = float(np.asarray(a - step / 2, dtype=dt).astype(np.float64))
    smaller = probe if probe != a else a - step  # the step halves below a power of two
    bigger = a + step
    return (smaller, bigger) if v >= 0 else (-bigger, -smaller)
