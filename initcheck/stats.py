"""Statistical primitives. Each takes samples and the claimed ``Law`` and returns a
``CheckResult`` with its statistic, threshold, p-value, alpha, n and minimum detectable
effect (MDE) at power 0.99, so a verdict always says how much it could have seen.

``ValueError`` is for bad input; a failed check is a ``CheckResult`` with ``passed=False``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from scipy import special, stats

from initcheck import _validate
from initcheck.specs import Law

#: Power at which minimum detectable effects are stated.
POWER = 0.99


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; new fields get defaults so callers never break.

    ``observed``/``expected`` are in the check's own unit (a std ratio, a mean in sigmas,
    a count); ``mde`` is the smallest effect in that unit detected with probability
    ``POWER`` at this ``alpha`` and ``n`` (nan where no single number applies).
    """

    name: str
    passed: bool
    statistic: float
    threshold: float
    pvalue: float
    alpha: float
    n: int
    mde: float
    detail: str
    observed: float = math.nan
    expected: float = math.nan
    shape: tuple[int, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape) if self.shape is not None else None
        return d


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in (0, 1), else a ValueError that says so."""
    a = _validate.real("alpha", alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {a}. A false-alarm rate such as 1e-6.")
    return a


def z_two_sided(alpha: float) -> float:
    """Critical |z| of a two-sided test at level alpha."""
    return float(stats.norm.isf(alpha / 2))


def sigma_mde(n: int, alpha: float, kurtosis: float, power: float = POWER) -> float:
    """Relative std error d detected with ``power`` by a two-sided test of the variance.

    From n = (z_{a/2} + z_b)^2 (kappa - 1) / (4 d^2) (DESIGN.md section 5).
    """
    zb = float(stats.norm.isf(1 - power))
    return (z_two_sided(alpha) + zb) * math.sqrt((kurtosis - 1.0) / (4.0 * n))


def _centered(x: np.ndarray, law: Law) -> np.ndarray:
    return np.asarray(x, dtype=np.float64).ravel() - law.mean


def sigma_chi2(x: np.ndarray, law: Law, alpha: float, *, name: str = "std") -> CheckResult:
    """Exact chi-square test of a normal's sigma: sum((x-mean)^2)/sigma^2 ~ chi2(n)."""
    return sigma_chi2_pooled([(x, law)], alpha, name=name)


def sigma_chi2_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "std"
) -> CheckResult:
    """Chi-square test of sigma pooled over tensors: a sum of independent chi-squares is
    chi-square with the summed degrees of freedom, so small tensors add their power."""
    alpha = check_alpha(alpha)
    total, n = 0.0, 0
    for x, law in pairs:
        c = _centered(x, law)
        total += float(np.dot(c, c)) / law.std**2
        n += c.size
    lo, hi = stats.chi2.ppf(alpha / 2, n), stats.chi2.isf(alpha / 2, n)
    p = float(min(1.0, 2 * min(stats.chi2.cdf(total, n), stats.chi2.sf(total, n))))
    ratio = math.sqrt(total / n)
    return CheckResult(
        name, lo <= total <= hi, total, float(hi), p, alpha, n, sigma_mde(n, alpha, 3.0),
        f"std/claimed = {ratio:.4f}, acceptance [{math.sqrt(lo / n):.4f}, {math.sqrt(hi / n):.4f}]"
        " (exact chi-square)",
        observed=ratio, expected=1.0,
    )


def sigma_moment(x: np.ndarray, law: Law, alpha: float, *, name: str = "std") -> CheckResult:
    """z-test of sigma for non-normal families: mean((x-mean)^2) has variance
    sigma^4 (kappa - 1) / n, kappa the spec's kurtosis."""
    return sigma_moment_pooled([(x, law)], alpha, name=name)


def sigma_moment_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "std"
) -> CheckResult:
    """The moment z-test of sigma pooled over tensors (sum of standardized excesses)."""
    alpha = check_alpha(alpha)
    excess, var, n, kappa_sum = 0.0, 0.0, 0, 0.0
    for x, law in pairs:
        c = _centered(x, law)
        m = c.size
        excess += float(np.dot(c, c)) / law.std**2 - m  # sum of (x^2/s^2 - 1)
        var += m * (law.kurtosis - 1.0)
        kappa_sum += m * law.kurtosis
        n += m
    z = excess / math.sqrt(var)
    crit = z_two_sided(alpha)
    p = float(2 * stats.norm.sf(abs(z)))
    ratio = math.sqrt(1.0 + excess / n)
    return CheckResult(
        name, abs(z) <= crit, z, crit, p, alpha, n, sigma_mde(n, alpha, kappa_sum / n),
        f"std/claimed = {ratio:.4f}, z = {z:.2f}, |z| <= {crit:.2f} (moment test,"
        f" kurtosis {kappa_sum / n:.3f})",
        observed=ratio, expected=1.0,
    )


def mean_z(x: np.ndarray, law: Law, alpha: float, *, name: str = "mean") -> CheckResult:
    """z-test of the mean in units of the claimed std (exact for normal, CLT otherwise)."""
    return mean_z_pooled([(x, law)], alpha, name=name)


def mean_z_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "mean"
) -> CheckResult:
    """The mean z-test pooled over tensors: sum of (x - mean)/sigma over every element is
    N(0, n) under the claim, so the shift is measured in claimed sigmas."""
    alpha = check_alpha(alpha)
    total, n = 0.0, 0
    for x, law in pairs:
        c = _centered(x, law)
        total += float(c.sum()) / law.std
        n += c.size
    shift = total / n
    z = total / math.sqrt(n)
    crit = z_two_sided(alpha)
    zb = float(stats.norm.isf(1 - POWER))
    return CheckResult(
        name, abs(z) <= crit, z, crit, float(2 * stats.norm.sf(abs(z))), alpha, n,
        (crit + zb) / math.sqrt(n),
        f"mean - claimed = {shift:+.4f} sigma, z = {z:.2f}, |z| <= {crit:.2f}",
        observed=shift, expected=0.0,
    )


def support(x: np.ndarray, law: Law, *, name: str = "support") -> CheckResult:
    """Hard check: every element inside the claimed [low, high] (deterministic, alpha 0).

    Bounds are compared after rounding to the sample's dtype, as a correct sampler's
    output is rounded too."""
    arr = np.asarray(x)
    lo = float(np.asarray(law.low, dtype=arr.dtype)) if math.isfinite(law.low) else -math.inf
    hi = float(np.asarray(law.high, dtype=arr.dtype)) if math.isfinite(law.high) else math.inf
    flat = arr.ravel()
    outside = int(np.count_nonzero((flat < lo) | (flat > hi)))
    xmin, xmax = float(flat.min()), float(flat.max())
    return CheckResult(
        name, outside == 0, float(outside), 0.0, 1.0 if outside == 0 else 0.0, 0.0, flat.size,
        math.nan,
        f"{outside} of {flat.size} outside [{lo:.6g}, {hi:.6g}]; observed range"
        f" [{xmin:.6g}, {xmax:.6g}]",
        observed=float(outside), expected=0.0,
    )


def edge(x: np.ndarray, law: Law, alpha: float, *, name: str = "edge") -> CheckResult:
    """Exact test that samples reach the claimed bounds: with d the smallest distance of any
    sample to the nearer bound, P(all n samples farther than d) = (1 - mass within d)^n.
    Catches a bound set too wide (e.g. the std used as the bound, sqrt(24) for sqrt(6))."""
    alpha = check_alpha(alpha)
    flat = np.asarray(x, dtype=np.float64).ravel()
    n = flat.size
    d = max(0.0, min(float(flat.min()) - law.low, law.high - float(flat.max())))
    width = law.high - law.low
    near = float(law.dist.cdf(law.low + d) + law.dist.sf(law.high - d)) if d < width / 2 else 1.0
    p = math.exp(n * math.log1p(-near)) if near < 1 else 0.0
    # eps at which the test rejects for a uniform: (1 - eps)^n = alpha
    eps = -math.expm1(math.log(alpha) / n)
    return CheckResult(
        name, p >= alpha, d / (width / 2), eps, p, alpha, n, eps,
        f"closest approach to a bound {d / (width / 2):.3g} half-widths; P(that far | claim)"
        f" = {p:.3g}",
        observed=d / (width / 2), expected=0.0,
    )


def tails(x: np.ndarray, law: Law, alpha: float, *, name: str = "tails") -> CheckResult:
    """Extreme-value test for unbounded (normal) claims: M = max|x - mean|/sigma. Under the
    claim P(M <= m) = (1 - 2 Phi(-m))^n exactly; too large M means outliers (a 1000-sigma
    value), too small means clamped tails. Two-sided."""
    alpha = check_alpha(alpha)
    c = _centered(x, law)
    n = c.size
    m = float(np.max(np.abs(c))) / law.std
    log_cdf = n * math.log1p(-2 * float(stats.norm.sf(m))) if m > 0 else -math.inf
    p_low = math.exp(log_cdf)
    p_high = -math.expm1(log_cdf)
    p = min(1.0, 2 * min(p_low, p_high))
    # acceptance band for M: quantiles alpha/2 and 1 - alpha/2 of the maximum
    def quantile(q: float) -> float:
        return float(stats.norm.isf((1 - q ** (1 / n)) / 2))
    lo, hi = quantile(alpha / 2), quantile(1 - alpha / 2)
    return CheckResult(
        name, p >= alpha, m, hi, p, alpha, n, math.nan,
        f"max|x - mean| = {m:.3f} sigma, acceptance [{lo:.3f}, {hi:.3f}] for n = {n}",
        observed=m, expected=quantile(0.5),
    )


def atoms(x: np.ndarray, law: Law, alpha: float, *, name: str = "tails") -> CheckResult:
    """Mass piled at the bounds of a bounded claim (clamping instead of truncating):
    the count of samples within one dtype ulp of a bound against its binomial law."""
    alpha = check_alpha(alpha)
    arr = np.asarray(x)
    flat = arr.astype(np.float64).ravel()
    n = flat.size
    dt = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float64)
    ulp_lo, ulp_hi = (float(np.spacing(np.asarray(abs(b), dtype=dt))) for b in (law.low, law.high))
    count = int(np.count_nonzero((flat <= law.low + ulp_lo) | (flat >= law.high - ulp_hi)))
    p1 = float(law.dist.cdf(law.low + ulp_lo) + law.dist.sf(law.high - ulp_hi))
    p1 = min(1.0, max(p1, 1e-300))
    p = float(stats.binom.sf(count - 1, n, p1)) if count > 0 else 1.0
    crit = int(stats.binom.isf(alpha, n, p1))
    return CheckResult(
        name, p >= alpha, float(count), float(crit), p, alpha, n, math.nan,
        f"{count} of {n} within one ulp of a bound; expected {n * p1:.3g}, at most {crit}",
        observed=float(count), expected=n * p1,
    )


def ks(x: np.ndarray, law: Law, alpha: float, *, name: str = "distribution") -> CheckResult:
    """Exact one-sample Kolmogorov-Smirnov test against the claimed element law (scipy),
    an omnibus for the shape of the distribution."""
    alpha = check_alpha(alpha)
    flat = np.asarray(x, dtype=np.float64).ravel()
    n = flat.size
    res = stats.kstest(flat, law.dist.cdf, method="auto")
    crit = float(stats.kstwo.isf(alpha, n))
    # a true sup-distance this far beyond the critical value is seen with prob. >= POWER:
    # the empirical CDF at the worst point has std <= 1/(2 sqrt(n))
    mde = crit + float(special.ndtri(POWER)) / (2 * math.sqrt(n))
    return CheckResult(
        name, float(res.pvalue) >= alpha, float(res.statistic), crit, float(res.pvalue), alpha,
        n, mde, f"KS D = {res.statistic:.5f}, D <= {crit:.5f}",
        observed=float(res.statistic), expected=0.0,
    )


def finite(x: np.ndarray, *, name: str = "finite") -> CheckResult:
    """Hard check: no NaN or Inf anywhere."""
    arr = np.asarray(x)
    bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    return CheckResult(
        name, bad == 0, float(bad), 0.0, 1.0 if bad == 0 else 0.0, 0.0, arr.size, math.nan,
        f"{bad} of {arr.size} values are NaN or Inf",
        observed=float(bad), expected=0.0,
    )
