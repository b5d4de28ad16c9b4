"""Two-sample tests: do two tensors follow the same law? What ``compare_models`` runs on each
pair of tensors matched across two models (a refactor, a library upgrade, a port). Only the
marginal distribution is compared, so a tensor stored transposed, or with its axes in
another order, compares as it is.

- scale: log(s_a^2 / s_b^2) is asymptotically normal with variance (k_a - 1)/n_a +
  (k_b - 1)/n_b, k the sample kurtosis (so it holds for uniform and truncated laws, not only
  the normal); the ratio s_a / s_b is reported with its 99% interval;
- pooled scale: the inverse-variance weighted mean of the log ratios of a group of tensors,
  for a shift every tensor of the group shares (one config value read by all of them);
- mean: Welch's z on the difference of the means;
- distribution: scipy's two-sample Kolmogorov-Smirnov test on at most ``KS_MAX`` evenly
  spaced values of each (exact where scipy computes it exactly).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from initcheck.core.results import CheckResult
from initcheck.stats.moments import check_alpha
from initcheck.stats.thinning import thin

#: At most this many values of each tensor enter the two-sample KS test.
KS_MAX = 2**15
#: Elements read at a time for the moments (float64 working copy of 8 MiB).
CHUNK = 2**20


@dataclass(frozen=True)
class Moments:
    """A tensor's count, mean, variance (about its mean) and kurtosis, and whether every value
    is one constant (``constant`` holds it then)."""

    n: int
    mean: float
    var: float
    kurtosis: float
    constant: float | None


def moments(x: np.ndarray) -> Moments:
    """The ``Moments`` of ``x``, in float64 chunks."""
    flat = np.asarray(x).ravel()
    n = flat.size
    if n == 0:
        raise ValueError("a tensor with no elements has no moments.")
    first = float(flat[0])
    total = 0.0
    same = True
    for s in range(0, n, CHUNK):
        z = flat[s:s + CHUNK].astype(np.float64)
        total += float(z.sum())
        same = same and bool(np.all(z == first))
    mean = total / n
    m2 = m4 = 0.0
    for s in range(0, n, CHUNK):
        z = flat[s:s + CHUNK].astype(np.float64) - mean
        z2 = z * z
        m2 += float(z2.sum())
        m4 += float(z2 @ z2)
    var = m2 / n
    kurt = (m4 / n) / var**2 if var > 0 else math.nan
    return Moments(n, mean, var, kurt, first if same else None)


def _se_log_var(m: Moments) -> float:
    return (max(m.kurtosis, 1.0) - 1.0) / m.n


def scale_ratio_test(a: Moments, b: Moments, alpha: float, *, name: str = "scale") -> CheckResult:
    """Is std(a) = std(b)? The observed ratio std(a)/std(b) with its 99% interval."""
    alpha = check_alpha(alpha)
    if a.var == 0 or b.var == 0:
        return CheckResult.skipped(name, alpha, "a constant tensor has no scale to compare",
                                   n=a.n + b.n)
    log_ratio = math.log(a.var / b.var)
    se = math.sqrt(_se_log_var(a) + _se_log_var(b))
    z = log_ratio / se if se > 0 else math.inf * np.sign(log_ratio)
    p = float(2 * sps.norm.sf(abs(z)))
    ratio = math.exp(log_ratio / 2)
    half = sps.norm.isf(0.005) * se / 2
    q = sps.norm.isf(alpha / 2)
    mde = math.expm1(q * se / 2)  # the relative std difference detectable at this alpha
    return CheckResult(name=name, passed=p >= alpha, statistic=z, threshold=q, pvalue=p,
                       alpha=alpha, n=a.n + b.n, mde=mde, observed=ratio, expected=1.0,
                       detail=f"std ratio {ratio:.4f} [{ratio * math.exp(-half):.4f},"
                              f" {ratio * math.exp(half):.4f}] (99%)",
                       extra={"ratio_low": ratio * math.exp(-half),
                              "ratio_high": ratio * math.exp(half)})


def pooled_scale_test(pairs: list[tuple[Moments, Moments]], alpha: float, *,
                      name: str = "pooled_scale") -> CheckResult:
    """Is the std ratio 1 across a group? The weighted mean of the tensors' log variance
    ratios (weights 1/variance): powerful against one ratio shared by the whole group."""
    alpha = check_alpha(alpha)
    usable = [(a, b) for a, b in pairs if a.var > 0 and b.var > 0]
    if len(usable) < 2:
        return CheckResult.skipped(name, alpha, "fewer than two tensors to pool")
    w = np.array([1.0 / (_se_log_var(a) + _se_log_var(b)) for a, b in usable])
    lr = np.array([math.log(a.var / b.var) for a, b in usable])
    est = float(w @ lr / w.sum())
    se = 1.0 / math.sqrt(float(w.sum()))
    z = est / se
    p = float(2 * sps.norm.sf(abs(z)))
    ratio = math.exp(est / 2)
    return CheckResult(name=name, passed=p >= alpha, statistic=z, threshold=sps.norm.isf(alpha / 2),
                       pvalue=p, alpha=alpha, n=sum(a.n + b.n for a, b in usable),
                       mde=math.expm1(sps.norm.isf(alpha / 2) * se / 2), observed=ratio,
                       expected=1.0, detail=f"std ratio {ratio:.4f} over {len(usable)} tensors")


def mean_diff_test(a: Moments, b: Moments, alpha: float, *, name: str = "mean") -> CheckResult:
    """Is mean(a) = mean(b)? Welch's z, in units of the pooled std."""
    alpha = check_alpha(alpha)
    se = math.sqrt(a.var / a.n + b.var / b.n)
    if se == 0:
        return CheckResult.skipped(name, alpha, "both tensors constant: compared exactly",
                                   n=a.n + b.n)
    z = (a.mean - b.mean) / se
    p = float(2 * sps.norm.sf(abs(z)))
    scale = math.sqrt((a.var + b.var) / 2)
    return CheckResult(name=name, passed=p >= alpha, statistic=z, threshold=sps.norm.isf(alpha / 2),
                       pvalue=p, alpha=alpha, n=a.n + b.n,
                       mde=sps.norm.isf(alpha / 2) * se / scale if scale else math.nan,
                       observed=(a.mean - b.mean) / scale if scale else math.nan, expected=0.0,
                       detail=f"means {a.mean:.4g} vs {b.mean:.4g}")


def ks_two_sample_test(x: np.ndarray, y: np.ndarray, alpha: float, *,
                       name: str = "distribution") -> CheckResult:
    """Do ``x`` and ``y`` share a distribution? scipy's two-sample KS on evenly spaced
    subsets of at most ``KS_MAX`` values each."""
    alpha = check_alpha(alpha)
    u = thin(np.asarray(x).ravel(), KS_MAX).astype(np.float64)
    v = thin(np.asarray(y).ravel(), KS_MAX).astype(np.float64)
    r = sps.ks_2samp(u, v)
    crit = math.sqrt(-math.log(alpha / 2) * (u.size + v.size) / (2 * u.size * v.size))
    return CheckResult(name=name, passed=float(r.pvalue) >= alpha, statistic=float(r.statistic),
                       threshold=crit, pvalue=float(r.pvalue), alpha=alpha, n=u.size + v.size,
                       mde=crit, observed=float(r.statistic), expected=0.0,
                       detail=f"two-sample KS D = {float(r.statistic):.4f}")


def equal_constants(a: Moments, b: Moments, *, name: str = "exact_values") -> CheckResult:
    """Hard check where either side is one constant: both hold the same one."""
    same = a.constant is not None and b.constant is not None and a.constant == b.constant
    def what(m: Moments) -> str:
        return f"every value {m.constant:g}" if m.constant is not None else "varying values"
    return CheckResult.hard(name, same, n=a.n + b.n, detail=f"{what(a)} vs {what(b)}",
                            observed=0.0 if same else 1.0, expected=0.0)


__all__ = ["KS_MAX", "Moments", "equal_constants", "ks_two_sample_test", "mean_diff_test",
           "moments", "pooled_scale_test", "scale_ratio_test"]
