"""Moment tests of scale and location, from per-tensor sufficient statistics: one pass over
a tensor gives its ``Summary`` (``initcheck.sharding.partials``); the sigma and mean tests pool
summaries across tensors.
Also the alpha check and the minimum detectable effects every test reports."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from initcheck.core import _validate
from initcheck.core.results import POWER, CheckResult
from initcheck.sharding.partials import Summary


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float in (0, 1), else a ValueError that says so."""
    a = _validate.real("alpha", alpha)
    if not 0.0 < a < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {a}. A false-alarm rate such as 1e-6.")
    return a


def z_two_sided(alpha: float) -> float:
    """Critical |z| of a two-sided test at level alpha."""
    return -float(special.ndtri(alpha / 2))


def sigma_mde(n: int, alpha: float, kurtosis: float, power: float = POWER) -> float:
    """Relative std error d detected with ``power`` by a two-sided test of the variance.

    From n = (z_{a/2} + z_b)^2 (kappa - 1) / (4 d^2) (docs/statistics.md, "Power").
    """
    zb = float(special.ndtri(power))
    return (z_two_sided(alpha) + zb) * math.sqrt((kurtosis - 1.0) / (4.0 * n))


def sigma_chi2_test(summaries: list[Summary], alpha: float, *, name: str = "std") -> CheckResult:
    """Exact chi-square test of a normal's sigma pooled over tensors: sum((x-mean)^2)/sigma^2
    is chi-square with the summed degrees of freedom, so small tensors add their power."""
    alpha = check_alpha(alpha)
    total = sum(s.squares for s in summaries)
    n = sum(s.n for s in summaries)
    lo, hi = special.chdtri(n, 1 - alpha / 2), special.chdtri(n, alpha / 2)
    p = float(min(1.0, 2 * min(special.chdtr(n, total), special.chdtrc(n, total))))
    ratio = math.sqrt(total / n)
    return CheckResult(
        name=name, passed=bool(lo <= total <= hi), statistic=total, threshold=float(hi),
        pvalue=p, alpha=alpha, n=n, mde=sigma_mde(n, alpha, 3.0),
        detail=f"std/claimed = {ratio:.4f}, acceptance [{math.sqrt(lo / n):.4f},"
               f" {math.sqrt(hi / n):.4f}] (exact chi-square)",
        observed=ratio, expected=1.0,
    )


def sigma_moment_test(summaries: list[Summary], alpha: float, *, name: str = "std") -> CheckResult:
    """z-test of sigma for non-normal families, pooled over tensors: mean((x-mean)^2) has
    variance sigma^4 (kappa - 1) / n, kappa the spec's kurtosis."""
    alpha = check_alpha(alpha)
    excess = sum(s.squares - s.n for s in summaries)  # sum of (z^2 - 1)
    var = sum(s.n * (s.kurtosis - 1.0) for s in summaries)
    n = sum(s.n for s in summaries)
    kappa = sum(s.n * s.kurtosis for s in summaries) / n
    z = excess / math.sqrt(var)
    crit = z_two_sided(alpha)
    ratio = math.sqrt(max(0.0, 1.0 + excess / n))
    return CheckResult(
        name=name, passed=abs(z) <= crit, statistic=z, threshold=crit,
        pvalue=float(2 * special.ndtr(-abs(z))), alpha=alpha, n=n,
        mde=sigma_mde(n, alpha, kappa),
        detail=f"std/claimed = {ratio:.4f}, z = {z:.2f}, |z| <= {crit:.2f} (moment test,"
               f" kurtosis {kappa:.3f})",
        observed=ratio, expected=1.0,
    )


def mean_test(summaries: list[Summary], alpha: float, *, name: str = "mean") -> CheckResult:
    """The mean z-test pooled over tensors: sum of (x - mean)/sigma over every element is
    N(0, n) under the claim (exact for normal, CLT otherwise), so the shift is measured in
    claimed sigmas."""
    alpha = check_alpha(alpha)
    total = sum(s.total for s in summaries)
    n = sum(s.n for s in summaries)
    shift = total / n
    z = total / math.sqrt(n)
    crit = z_two_sided(alpha)
    zb = float(special.ndtri(POWER))
    return CheckResult(
        name=name, passed=abs(z) <= crit, statistic=z, threshold=crit,
        pvalue=float(2 * special.ndtr(-abs(z))), alpha=alpha, n=n,
        mde=(crit + zb) / math.sqrt(n),
        detail=f"mean - claimed = {shift:+.4f} sigma, z = {z:.2f}, |z| <= {crit:.2f}",
        observed=shift, expected=0.0,
    )


#: Fewest elements the fourth-moment test judges: below it the skewness of the sample
#: kurtosis (about 10/sqrt(n) for a normal) makes even an Edgeworth-corrected tail loose.
KURTOSIS_MIN_N = 10_000


def _influence_moments(m: tuple[float, ...]) -> tuple[float, float]:
    """E[L^2] and E[L^3] of the sample kurtosis's influence function L = z^4 - 2 k z^2 + k
    (k = E[z^4]): b2 - k is the mean of L to first order (delta method)."""
    k = m[4]
    poly = np.polynomial.Polynomial([k, 0.0, -2.0 * k, 0.0, 1.0])
    expect = lambda p: float(sum(c * m[j] for j, c in enumerate(p.coef)))  # noqa: E731
    return expect(poly**2), expect(poly**3)


def kurtosis_test(summaries: list[Summary], moments: list[tuple[float, ...]], alpha: float, *,
                  name: str = "fourth_moment") -> CheckResult:
    """Heavy or light tails at the right std: the sample kurtosis b2 = m4 / m2^2 of each
    tensor (scale-free: a std error does not enter) against its law's, pooled as
    sum n (b2 - k) over tensors. ``moments`` are each law's standardized moments E[z^k],
    k = 0..12 (``Law.standard_moments``): the statistic's variance and skewness come from
    them (delta method), and the p-value is Edgeworth-corrected for that skewness. The MDE
    is in excess kurtosis."""
    alpha = check_alpha(alpha)
    # a tensor with every value at the claimed mean has no kurtosis (std sees it)
    pairs = [(s, m) for s, m in zip(summaries, moments) if s.squares > 0]
    n = sum(s.n for s, _ in pairs)
    if n < KURTOSIS_MIN_N:
        return CheckResult.skipped(name, alpha, f"{n} elements: too few for the fourth moment"
                                   f" (at least {KURTOSIS_MIN_N})", n=n)
    t = var = third = 0.0
    for s, m in pairs:
        m2, m4 = s.squares / s.n, s.fourth / s.n
        v, k3 = _influence_moments(m)
        t += s.n * (m4 / m2**2 - m[4])
        var += s.n * v
        third += s.n * k3
    sd = math.sqrt(var)
    z, gamma = t / sd, third / var**1.5
    corr = float(np.exp(-z * z / 2) / math.sqrt(2 * math.pi)) * gamma / 6 * (z * z - 1)
    upper, lower = float(special.ndtr(-z)) + corr, float(special.ndtr(z)) - corr
    p = float(min(1.0, max(0.0, 2 * min(upper, lower))))
    crit = z_two_sided(alpha)
    excess = t / n
    return CheckResult(
        name=name, passed=p >= alpha, statistic=z, threshold=crit, pvalue=p, alpha=alpha, n=n,
        mde=(crit + float(special.ndtri(POWER))) * sd / n,
        detail=f"kurtosis - claimed = {excess:+.4f}, z = {z:.2f} (Edgeworth, skewness"
               f" {gamma:.3f}), |z| <= {crit:.2f}",
        observed=excess, expected=0.0)
