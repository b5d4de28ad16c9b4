"""Statistical primitives. Each takes samples and the claimed ``Law`` and returns a
``CheckResult`` with its statistic, threshold, p-value, alpha, n and minimum detectable
effect (MDE) at power 0.99, so a verdict always says how much it could have seen.

``ValueError`` is for bad input; a failed check is a ``CheckResult`` with ``passed=False``.
"""

from __future__ import annotations

import functools
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


def cdf(x: np.ndarray, law: Law) -> np.ndarray:
    """The claimed CDF at x (the probability integral transform: uniform on (0, 1) if x
    follows ``law``), with scipy.special directly for the families initcheck knows; the
    frozen scipy distribution otherwise."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    if law.family == "normal":
        return special.ndtr((flat - law.mean) / law.std)
    if law.family == "uniform":
        return np.clip((flat - law.low) / (law.high - law.low), 0.0, 1.0)
    if law.family == "truncated_normal":
        a, b = ((law.low - law.parent_mean) / law.parent_std,
                (law.high - law.parent_mean) / law.parent_std)
        lo = special.ndtr(a)
        z = (flat - law.parent_mean) / law.parent_std
        return np.clip((special.ndtr(z) - lo) / (special.ndtr(b) - lo), 0.0, 1.0)
    if law.family == "orthogonal" and max(law.matrix_shape) > 1:
        half = (max(law.matrix_shape) - 1) / 2  # (x/g + 1)/2 ~ Beta(half, half)
        return special.betainc(half, half, np.clip((flat / law.gain + 1) / 2, 0.0, 1.0))
    return np.asarray(law.dist.cdf(flat), dtype=np.float64)


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

    From n = (z_{a/2} + z_b)^2 (kappa - 1) / (4 d^2) (DESIGN.md section 5).
    """
    zb = float(special.ndtri(power))
    return (z_two_sided(alpha) + zb) * math.sqrt((kurtosis - 1.0) / (4.0 * n))


@dataclass(frozen=True)
class Summary:
    """Sufficient statistics of one tensor for the moment tests, in claimed sigmas:
    z = (x - mean) / std, with n, sum z, sum z^2, max |z| and the law's kurtosis. Computed
    once per tensor; pooled tests add them up."""

    n: int
    total: float
    squares: float
    max_abs: float
    kurtosis: float


def summarize(x: np.ndarray, law: Law) -> Summary:
    """The ``Summary`` of ``x`` under ``law`` (one pass for each statistic, no copies of
    already standardized float64 input)."""
    z = np.asarray(x, dtype=np.float64).ravel()
    if law.mean != 0 or law.std != 1:
        z = (z - law.mean) / law.std
    return Summary(z.size, float(z.sum()), float(z @ z), float(max(z.max(), -z.min())),
                   law.kurtosis)


def _summaries(pairs: list[tuple[np.ndarray, Law]]) -> list[Summary]:
    return [summarize(x, law) for x, law in pairs]


def sigma_chi2(x: np.ndarray, law: Law, alpha: float, *, name: str = "std") -> CheckResult:
    """Exact chi-square test of a normal's sigma: sum((x-mean)^2)/sigma^2 ~ chi2(n)."""
    return sigma_chi2_test([summarize(x, law)], alpha, name=name)


def sigma_chi2_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "std"
) -> CheckResult:
    """``sigma_chi2_test`` of (tensor, law) pairs."""
    return sigma_chi2_test(_summaries(pairs), alpha, name=name)


def sigma_chi2_test(summaries: list[Summary], alpha: float, *, name: str = "std") -> CheckResult:
    """Chi-square test of sigma pooled over tensors: a sum of independent chi-squares is
    chi-square with the summed degrees of freedom, so small tensors add their power."""
    alpha = check_alpha(alpha)
    total = sum(s.squares for s in summaries)
    n = sum(s.n for s in summaries)
    lo, hi = special.chdtri(n, 1 - alpha / 2), special.chdtri(n, alpha / 2)
    p = float(min(1.0, 2 * min(special.chdtr(n, total), special.chdtrc(n, total))))
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
    return sigma_moment_test([summarize(x, law)], alpha, name=name)


def sigma_moment_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "std"
) -> CheckResult:
    """``sigma_moment_test`` of (tensor, law) pairs."""
    return sigma_moment_test(_summaries(pairs), alpha, name=name)


def sigma_moment_test(summaries: list[Summary], alpha: float, *, name: str = "std") -> CheckResult:
    """The moment z-test of sigma pooled over tensors (sum of standardized excesses)."""
    alpha = check_alpha(alpha)
    excess = sum(s.squares - s.n for s in summaries)  # sum of (z^2 - 1)
    var = sum(s.n * (s.kurtosis - 1.0) for s in summaries)
    n = sum(s.n for s in summaries)
    kappa = sum(s.n * s.kurtosis for s in summaries) / n
    z = excess / math.sqrt(var)
    crit = z_two_sided(alpha)
    p = float(2 * special.ndtr(-abs(z)))
    ratio = math.sqrt(max(0.0, 1.0 + excess / n))
    return CheckResult(
        name, abs(z) <= crit, z, crit, p, alpha, n, sigma_mde(n, alpha, kappa),
        f"std/claimed = {ratio:.4f}, z = {z:.2f}, |z| <= {crit:.2f} (moment test,"
        f" kurtosis {kappa:.3f})",
        observed=ratio, expected=1.0,
    )


def mean_z(x: np.ndarray, law: Law, alpha: float, *, name: str = "mean") -> CheckResult:
    """z-test of the mean in units of the claimed std (exact for normal, CLT otherwise)."""
    return mean_test([summarize(x, law)], alpha, name=name)


def mean_z_pooled(
    pairs: list[tuple[np.ndarray, Law]], alpha: float, *, name: str = "mean"
) -> CheckResult:
    """``mean_test`` of (tensor, law) pairs."""
    return mean_test(_summaries(pairs), alpha, name=name)


def mean_test(summaries: list[Summary], alpha: float, *, name: str = "mean") -> CheckResult:
    """The mean z-test pooled over tensors: sum of (x - mean)/sigma over every element is
    N(0, n) under the claim, so the shift is measured in claimed sigmas."""
    alpha = check_alpha(alpha)
    total = sum(s.total for s in summaries)
    n = sum(s.n for s in summaries)
    shift = total / n
    z = total / math.sqrt(n)
    crit = z_two_sided(alpha)
    zb = float(special.ndtri(POWER))
    return CheckResult(
        name, abs(z) <= crit, z, crit, float(2 * special.ndtr(-abs(z))), alpha, n,
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
    """Exact test that samples reach the claimed bounds. Catches a bound set too wide for
    the samples (the std used as the bound, a narrower distribution than claimed)."""
    flat = np.asarray(x, dtype=np.float64).ravel()
    u_min, u_max = (float(v) for v in cdf(np.array([flat.min(), flat.max()]), law))
    return edge_from_extremes(u_min, u_max, flat.size, alpha, name=name)


def edge_from_extremes(
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
        name, p >= alpha, d, eps / 2, p, alpha, n, eps / 2,
        f"closest approach to a bound: {d:.3g} of the probability mass (at most {eps / 2:.3g});"
        f" P(that far | claim) = {p:.3g}", observed=d, expected=0.0,
    )


def tails(x: np.ndarray, law: Law, alpha: float, *, name: str = "tails") -> CheckResult:
    """``tails_test`` of one tensor."""
    return tails_test([summarize(x, law)], alpha, name=name)


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
        name, p >= alpha, m, hi, p, alpha, n, math.nan,
        f"max|x - mean| = {m:.3f} sigma, acceptance [{lo:.3f}, {hi:.3f}] for n = {n}",
        observed=m, expected=quantile(0.5),
    )


def atoms(x: np.ndarray, law: Law, alpha: float, *, name: str = "tails") -> CheckResult:
    """Mass piled exactly on the bounds of a bounded claim (clamping instead of truncating):
    the count of samples equal to a bound, rounded to the sample's dtype, against its
    binomial law. A correct sampler lands there only by rounding, with probability the
    claimed mass within half a grid step of the bound (large for bfloat16, tiny for
    float32); clamping piles the whole tail there."""
    alpha = check_alpha(alpha)
    arr = np.asarray(x)
    dt = arr.dtype if arr.dtype.kind == "f" or arr.dtype.name in _validate.ML_FLOATS else np.dtype(np.float64)
    flat = arr.astype(np.float64).ravel()
    n = flat.size
    p1, count = 0.0, 0
    for bound in (law.low, law.high):
        b = float(np.asarray(bound, dtype=dt).astype(np.float64))  # the bound as stored
        down, up = neighbours(b, dt)
        # values that round to b, inside the support
        lo, hi = max(law.low, (down + b) / 2), min(law.high, (b + up) / 2)
        if hi > lo:
            c = cdf(np.array([lo, hi]), law)
            p1 += float(c[1] - c[0])
        count += int(np.count_nonzero(flat == b))
    p1 = min(1.0, max(p1, 1e-300))
    p = float(special.bdtrc(count - 1, n, p1)) if count > 0 else 1.0
    crit_k = float(special.bdtrik(1 - alpha, n, p1))
    crit = math.ceil(crit_k) if math.isfinite(crit_k) else int(stats.binom.isf(alpha, n, p1))
    return CheckResult(
        name, p >= alpha, float(count), float(crit), p, alpha, n, math.nan,
        f"{count} of {n} exactly on a bound ({dt}); expected {n * p1:.3g} from rounding,"
        f" at most {crit}", observed=float(count), expected=n * p1,
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


def ks(x: np.ndarray, law: Law, alpha: float, *, name: str = "distribution") -> CheckResult:
    """One-sample Kolmogorov-Smirnov test of ``x`` against the claimed element law: the
    omnibus for the shape of the distribution."""
    u = cdf(np.asarray(x, dtype=np.float64).ravel(), law)
    return ks_uniform(u, alpha, name=name)


def ks_uniform(u: np.ndarray, alpha: float, *, name: str = "distribution") -> CheckResult:
    """KS test that probability-transformed values ``u = F(x)`` are uniform on (0, 1), with
    scipy's exact finite-n p-value (``kstwo``; see ``ks_pvalue``). D is computed from the
    sorted values as ``scipy.stats.kstest`` does, without its dispatch overhead."""
    alpha = check_alpha(alpha)
    u = np.sort(np.asarray(u, dtype=np.float64).ravel())
    n = u.size
    i = np.arange(1, n + 1) / n
    d = float(max(np.max(i - u), np.max(u - (i - 1 / n))))
    p = ks_pvalue(d, n)
    # the reported critical D is Kolmogorov's limit (inverting the exact law costs more than
    # the test); the verdict uses the exact p-value
    crit = _kolmogorov_isf(alpha) / math.sqrt(n)
    # a true sup-distance this far beyond the critical value is seen with prob. >= POWER:
    # the empirical CDF at the worst point has std <= 1/(2 sqrt(n))
    mde = crit + float(special.ndtri(POWER)) / (2 * math.sqrt(n))
    return CheckResult(
        name, p >= alpha, d, crit, p, alpha, n, mde, f"KS D = {d:.5f}, D <= {crit:.5f}",
        observed=d, expected=0.0,
    )


@functools.lru_cache(maxsize=64)
def _kolmogorov_isf(alpha: float) -> float:
    return float(stats.kstwobign.isf(alpha))


#: Above this n the KS p-value uses Stephens' corrected Kolmogorov limit: scipy's exact
#: finite-n law can take 100 ms there, and the two agree to about 1e-3 relative.
KS_EXACT_MAX = 10_000


def ks_pvalue(d: float, n: int) -> float:
    """P(D_n >= d) for the one-sample KS statistic: exact (scipy ``kstwo``) up to
    KS_EXACT_MAX, else Kolmogorov's law at (sqrt(n) + 0.12 + 0.11/sqrt(n)) d (Stephens 1970)."""
    if n <= KS_EXACT_MAX:
        return float(stats.kstwo.sf(d, n))
    rn = math.sqrt(n)
    return float(stats.kstwobign.sf((rn + 0.12 + 0.11 / rn) * d))


def finite(x: np.ndarray, *, name: str = "finite") -> CheckResult:
    """Hard check: no NaN or Inf anywhere."""
    arr = np.asarray(x)
    bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    return CheckResult(
        name, bad == 0, float(bad), 0.0, 1.0 if bad == 0 else 0.0, 0.0, arr.size, math.nan,
        f"{bad} of {arr.size} values are NaN or Inf",
        observed=float(bad), expected=0.0,
    )


# ------------------------------------------------------------------ symmetry breaking

#: Shortest slice compared for exact duplicates: two independent continuous float32 vectors
#: of 3 elements coincide with probability below 1e-18; float16 needs 8.
MIN_DUPLICATE_LENGTH = {2: 8, 4: 3, 8: 3}
#: Shortest slice whose cosine is judged: below it the Beta null of Gaussian entries is
#: too far from the truth for other families.
MIN_COSINE_LENGTH = 16
#: At most this many slices per axis enter a Gram matrix (evenly spaced, deterministic).
MAX_SLICES = 128


def spaced(n: int, most: int) -> np.ndarray:
    """At most ``most`` evenly spaced indices into ``range(n)`` (deterministic thinning:
    elements are iid under the claim, so any fixed subset is a sample)."""
    if n <= most:
        return np.arange(n)
    return np.linspace(0, n - 1, most).round().astype(np.int64)


def thin(x: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` evenly spaced elements of a flat array."""
    return x if x.size <= most else x[spaced(x.size, most)]


def slices(x: np.ndarray, axis: int, max_slices: int | None = None) -> np.ndarray:
    """The tensor cut along ``axis``: one row per index, flattened (a unit along the out
    axis, an input along the in axis, a kernel tap along a spatial axis)."""
    x = np.asarray(x)
    if max_slices is not None and x.shape[axis] > max_slices:
        # pick the slices first, so only they are copied
        x = np.take(x, spaced(x.shape[axis], max_slices), axis)
    return np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)


def duplicates(tensors: list[tuple[str, np.ndarray]], *, name: str = "distinct_units") -> CheckResult:
    """Hard check: no two slices along any axis are identical (identical units, tiled slices,
    a constant tensor). Slices shorter than ``MIN_DUPLICATE_LENGTH`` are not compared."""
    found, compared, n = [], 0, 0
    for label, x in tensors:
        minimum = MIN_DUPLICATE_LENGTH.get(x.dtype.itemsize, 3)
        n += x.size
        for axis in range(x.ndim):
            if x.shape[axis] < 2 or x.size // x.shape[axis] < minimum:
                continue
            compared += 1
            dup = _count_repeated_rows(slices(x, axis))
            if dup:
                found.append(f"{label} axis {axis}: {dup} of {x.shape[axis]} slices repeat another")
    detail = "; ".join(found[:3]) if found else f"no identical slices ({compared} axes compared)"
    return CheckResult(name, not found, float(len(found)), 0.0, 0.0 if found else 1.0, 0.0, n,
                       math.nan, detail, observed=float(len(found)), expected=0.0)


def _count_repeated_rows(rows: np.ndarray) -> int:
    """Rows equal to an earlier row. Rows are keyed by a fixed random projection (equal rows
    have equal keys); rows with equal keys are then compared exactly."""
    r = np.asarray(rows, dtype=np.float64)
    keys = r @ np.random.default_rng(0).standard_normal(r.shape[1])
    order = np.argsort(keys, kind="stable")
    same_key = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    return sum(bool(np.array_equal(r[order[i]], r[order[i + 1]])) for i in same_key)


def _cosine_pvalue(c: float, d: int) -> float:
    """P(|cos| >= c) for two independent isotropic vectors in R^d: cos^2 ~ Beta(1/2, (d-1)/2)."""
    return float(special.betaincc(0.5, (d - 1) / 2, min(c, 1.0) ** 2))


def max_cosine(
    groups: list[tuple[str, np.ndarray]], alpha: float, *, name: str = "unit_correlation"
) -> CheckResult:
    """Largest |cos| between rows of each (k, d) matrix of centred slices, against its null:
    cos^2 ~ Beta(1/2, (d-1)/2) for independent isotropic rows, Bonferroni over the pairs and
    the groups. Catches correlated units and near-copies (seed reuse) that equality misses.
    A zero row (a slice entirely at the claimed mean) fails outright."""
    alpha = check_alpha(alpha)
    usable = [(lbl, m) for lbl, m in groups if m.shape[0] >= 2 and m.shape[1] >= MIN_COSINE_LENGTH]
    if not usable:
        return CheckResult(name, True, math.nan, math.nan, 1.0, alpha, 0, math.nan,
                           "no slices long enough to compare", extra={"skipped": True})
    worst_p, worst, n = 1.0, ("", 0.0, 0), 0
    for label, m in usable:
        m = np.asarray(m, dtype=np.float64)
        norms = np.linalg.norm(m, axis=1)
        n += m.size
        if np.any(norms == 0):
            return CheckResult(name, False, 1.0, math.nan, 0.0, alpha, n, math.nan,
                               f"{label}: a slice is all at the claimed mean (zero vector)",
                               observed=1.0, expected=0.0)
        u = m / norms[:, None]
        gram = np.abs(u @ u.T)
        np.fill_diagonal(gram, 0.0)
        c = float(gram.max())
        k, d = m.shape
        pairs = k * (k - 1) // 2
        p = min(1.0, pairs * _cosine_pvalue(c, d))
        if p <= worst_p:
            worst_p, worst = p, (label, c, d)
    p = min(1.0, worst_p * len(usable))
    label, c, d = worst
    # |cos| the null exceeds with probability alpha at the worst group's size (Bonferroni)
    crit = math.sqrt(special.betainccinv(0.5, (d - 1) / 2, alpha / len(usable) / max(1, MAX_SLICES**2 // 2)))
    return CheckResult(name, p >= alpha, c, crit, p, alpha, n, crit,
                       f"max |cos| = {c:.4f} ({label}, length {d}); P(that large | independent)"
                       f" = {p:.3g}", observed=c, expected=0.0)


def spectrum(
    matrices: list[tuple[str, np.ndarray]], alpha: float, *, name: str = "spectrum"
) -> CheckResult:
    """Largest singular value of each standardized (m, n) weight matrix against the bound for
    matrices of independent entries: s_max <= sqrt(m) + sqrt(n) + t with probability
    >= 1 - exp(-t^2/2) (Davidson-Szarek for Gaussian entries; entries with kurtosis <= 3
    concentrate at least as well). Catches low-rank structure (a rank-one spike) that leaves
    the std intact. s_max comes from power iteration (a lower bound: never a false alarm)."""
    alpha = check_alpha(alpha)
    worst_p, worst, n = 1.0, ("", 0.0, 0.0), 0
    for label, m in matrices:
        m = np.asarray(m, dtype=np.float64)
        n += m.size
        s = _top_singular_value(m)
        edge_ = math.sqrt(m.shape[0]) + math.sqrt(m.shape[1])
        p = math.exp(-((s - edge_) ** 2) / 2) if s > edge_ else 1.0
        if p <= worst_p:
            worst_p, worst = p, (label, s, edge_)
    k = max(1, len(matrices))
    p = min(1.0, worst_p * k)
    label, s, edge_ = worst
    t = math.sqrt(2 * math.log(k / alpha))
    return CheckResult(name, p >= alpha, s, edge_ + t, p, alpha, n, t,
                       f"s_max = {s:.2f} sigma ({label}); independent entries stay below"
                       f" {edge_:.2f} + {t:.2f}", observed=s, expected=edge_)


def _top_singular_value(m: np.ndarray, iterations: int = 40, rtol: float = 1e-3) -> float:
    """Power iteration on M^T M from a fixed start, stopped when the estimate settles; exact
    SVD for small matrices. Power iteration approaches s_max from below."""
    if min(m.shape) <= 64:
        return float(np.linalg.norm(m, 2))
    v = np.random.default_rng(0).standard_normal(m.shape[1])
    s = 0.0
    for _ in range(iterations):
        mv = m @ v
        s_new = float(np.linalg.norm(mv)) / float(np.linalg.norm(v))
        if s_new == 0.0:
            return 0.0
        if abs(s_new - s) <= rtol * s_new:
            return s_new
        s, v = s_new, m.T @ (mv / s_new)
    return s


def equal(a: np.ndarray, b: np.ndarray, *, should_be: bool, name: str, what: str) -> CheckResult:
    """Hard check that two draws are identical (same seed) or not (fresh seeds)."""
    same = bool(np.array_equal(a, b, equal_nan=True))
    ok = same == should_be
    detail = f"{what}: {'identical' if same else 'different'}"
    return CheckResult(name, ok, float(same), float(should_be), 1.0 if ok else 0.0, 0.0, a.size,
                       math.nan, detail, observed=float(same), expected=float(should_be))


# ------------------------------------------------------------------------- orthogonal


def unit_matrix(x: np.ndarray, out_axis: int) -> np.ndarray:
    """The (units, fan) matrix of a weight: units along ``out_axis``, as orthogonal
    initializers flatten them."""
    return slices(x, out_axis % x.ndim)


def orthonormality(
    tensors: list[tuple[str, np.ndarray, float]], *, name: str = "orthogonal"
) -> CheckResult:
    """Hard check Q Q^T = g^2 I on the smaller side of each (units, fan) matrix, within the
    rounding of its dtype (30 ulps times sqrt of the long side)."""
    worst, worst_label, n, ok = 0.0, "", 0, True
    for label, q, gain in tensors:
        eps = _validate.eps(q.dtype)
        m = np.asarray(q, dtype=np.float64) / gain
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        err = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
        tol = 30 * eps * math.sqrt(max(m.shape))
        n += q.size
        ok &= err <= tol
        if err / tol >= worst:
            worst, worst_label = err / tol, f"{label}: max |Q Q^T / g^2 - I| = {err:.3g}, tolerance {tol:.3g}"
    return CheckResult(name, ok, worst, 1.0, 1.0 if ok else 0.0, 0.0, n, math.nan, worst_label,
                       observed=worst, expected=0.0)


def haar(matrices: list[np.ndarray], gain: float, alpha: float, *, name: str = "haar") -> CheckResult:
    """Is Q Haar? The diagonal of a Haar (units, fan) matrix sums to a variable with mean 0
    and variance min/max (entries of a uniform unit vector are uncorrelated). QR without the
    sign fix biases every Q_ii to one sign: the sum over several draws drifts by about
    0.8 sqrt(min) per draw."""
    alpha = check_alpha(alpha)
    total, var, n = 0.0, 0.0, 0
    for q in matrices:
        m = np.asarray(q, dtype=np.float64) / gain
        k, big = min(m.shape), max(m.shape)
        total += float(np.trace(m[:k, :k]))
        var += k / big
        n += m.size
    z = total / math.sqrt(var)
    crit = z_two_sided(alpha)
    return CheckResult(name, abs(z) <= crit, z, crit, float(2 * special.ndtr(-abs(z))), alpha, n,
                       (crit + float(special.ndtri(POWER))) * math.sqrt(var),
                       f"sum of diagonals over {len(matrices)} draws = {total:.3f}, z = {z:.2f},"
                       f" |z| <= {crit:.2f} under Haar", observed=total, expected=0.0)
