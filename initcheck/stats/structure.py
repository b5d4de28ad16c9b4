"""Structure across a tensor's slices: symmetry breaking (no two identical slices), unit
correlation (largest cosine against its Beta null), the spectrum (largest singular value
against Davidson-Szarek), and the equality checks of reproducibility. The evenly spaced thinning
every check shares is ``initcheck.stats.thinning``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import special

from initcheck.core.results import POWER, CheckResult
from initcheck.sharding.array import ShardedArray, as_sharded
from initcheck.sharding.merge import all_slice_keys
from initcheck.stats.moments import check_alpha
from initcheck.stats.thinning import MAX_SLICES

#: Shortest slice compared for exact duplicates, by bytes per element: two independent
#: continuous float32 vectors of 3 elements coincide with probability below 1e-18; float16
#: needs 8.
MIN_DUPLICATE_LENGTH = {2: 8, 4: 3, 8: 3}
#: Shortest slice whose cosine is judged: below it the Beta null of Gaussian entries is
#: too far from the truth for other families.
MIN_COSINE_LENGTH = 16
#: Matrices with a side at most this long get an exact SVD norm; longer ones power iteration.
EXACT_NORM_MAX_SIDE = 64
#: Power iteration: at most this many steps (from a fixed start it settles in ~10-20 on
#: iid matrices) ...
POWER_ITERATIONS = 40
#: ... stopped once the estimate moves by less than this relative amount in a step (the
#: spectrum test's threshold is ~2 sigma wide, so 0.1% is far inside it).
POWER_RTOL = 1e-3


def duplicates(tensors: list[tuple[str, np.ndarray | ShardedArray]], *,
               name: str = "distinct_units") -> CheckResult:
    """Hard check: no two slices along any axis are identical (identical units, tiled slices,
    a constant tensor). Slices shorter than ``MIN_DUPLICATE_LENGTH`` are not compared. The
    keys of every compared axis are computed first, all together (sharded: one merge)."""
    pairs: list[tuple[str, ShardedArray, int]] = []
    n = 0
    for label, x in ((label, as_sharded(x)) for label, x in tensors):
        minimum = MIN_DUPLICATE_LENGTH.get(x.dtype.itemsize, 3)
        n += x.size
        pairs += [(label, x, axis) for axis in range(x.ndim)
                  if x.shape[axis] >= 2 and x.size // x.shape[axis] >= minimum]
    keys = all_slice_keys([x for _, x, _ in pairs], [axis for _, _, axis in pairs])
    found: list[str] = []
    failed: list[str] = []
    for (label, x, axis), k in zip(pairs, keys):
        dup = _count_repeated_slices(x, axis, k)
        if dup:
            found.append(f"{label} axis {axis}: {dup} of {x.shape[axis]} slices repeat another")
            failed += [label] if label not in failed else []
    detail = "; ".join(found[:3]) if found else f"no identical slices ({len(pairs)} axes compared)"
    return CheckResult.hard(name, not found, n=n, statistic=float(len(found)), detail=detail,
                            observed=float(len(found)), expected=0.0,
                            extra={"failed": failed} if failed else None)


def _count_repeated_slices(x: ShardedArray, axis: int, keys: np.ndarray) -> int:
    """Slices along ``axis`` equal, bit for bit, to an earlier one: equal ``slice_keys``,
    then compared (a key collision is only a comparison more; -0.0 and 0.0 differ here, a
    difference no initializer repeats). Only the candidate pairs' slices are read whole."""
    order = np.argsort(keys, kind="stable")
    same = np.flatnonzero(keys[order][1:] == keys[order][:-1])
    return sum(bool(np.array_equal(*x.take(axis, [order[i], order[i + 1]]).swapaxes(0, axis)))
               for i in same)


def _cosine_pvalue(c: float, d: int) -> float:
    """P(|cos| >= c) for two independent isotropic vectors in R^d: cos^2 ~ Beta(1/2, (d-1)/2)."""
    return float(special.betaincc(0.5, (d - 1) / 2, min(c, 1.0) ** 2))


@dataclass(frozen=True)
class CosinePart:
    """One (k, d) group's share of ``max_cosine``: its largest |cos| (None if a row is all
    at the claimed mean) and its size; small and picklable, so a rank can send it."""

    label: str
    cosine: float | None
    k: int
    d: int
    #: the first row all at the claimed mean (its index among the rows given), if any
    zero_row: int | None = None


def cosine_part(label: str, m: np.ndarray) -> CosinePart | None:
    """``CosinePart`` of a (k, d) matrix of centred slices (None if too small to judge)."""
    if m.shape[0] < 2 or m.shape[1] < MIN_COSINE_LENGTH:
        return None
    m = np.asarray(m)
    if m.dtype.itemsize < 4:
        m = m.astype(np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", m, m, dtype=np.float64))
    if np.any(norms == 0):
        k, d = m.shape
        return CosinePart(label, None, k, d, zero_row=int(np.flatnonzero(norms == 0)[0]))
    # the Gram matrix in the rows' own precision (float32 rows: |cos| off by ~1e-6, far
    # inside the threshold of >= 0.04 at the longest rows compared); no normalized copy
    gram = np.abs(m @ m.T) / np.outer(norms, norms)
    np.fill_diagonal(gram, 0.0)
    return CosinePart(label, float(gram.max()), *m.shape)


def max_cosine_test(
    groups: list[tuple[str, np.ndarray]], alpha: float, *, name: str = "unit_correlation"
) -> CheckResult:
    """Largest |cos| between rows of each (k, d) matrix of centred slices, against its null:
    cos^2 ~ Beta(1/2, (d-1)/2) for independent isotropic rows, Bonferroni over the pairs and
    the groups. Catches correlated units and near-copies (seed reuse) that equality misses.
    A zero row (a slice entirely at the claimed mean) fails outright."""
    return max_cosine_test_of([cosine_part(label, m) for label, m in groups], alpha, name=name)


def max_cosine_test_of(parts: Iterable[CosinePart | None], alpha: float, *,
                  name: str = "unit_correlation") -> CheckResult:
    """``max_cosine`` from the groups' ``cosine_part``s (computed wherever each group is)."""
    alpha = check_alpha(alpha)
    usable = [p for p in parts if p is not None]
    if not usable:
        return CheckResult.skipped(name, alpha, "no slices long enough to compare")
    worst_p, worst, n = 1.0, ("", 0.0, 0), 0
    for part in usable:
        n += part.k * part.d
        if part.cosine is None:
            return CheckResult(name=name, passed=False, statistic=1.0, threshold=math.nan,
                               pvalue=0.0, alpha=alpha, n=n, mde=math.nan, observed=1.0,
                               expected=0.0, detail=f"{part.label}: slice {part.zero_row}"
                               " is all at the claimed mean (a zero vector once centred)")
        p = min(1.0, part.k * (part.k - 1) // 2 * _cosine_pvalue(part.cosine, part.d))
        if p <= worst_p:
            worst_p, worst = p, (part.label, part.cosine, part.d)
    return _cosine_verdict(name, alpha, worst_p, *worst, n=n, groups=len(usable))


def _cosine_verdict(name: str, alpha: float, worst_p: float, label: str, c: float, d: int, *,
                    n: int, groups: int) -> CheckResult:
    """The largest cosine's verdict, Bonferroni over the ``groups`` compared."""
    p = min(1.0, worst_p * groups)
    # |cos| the null exceeds with probability alpha at the worst group's size (Bonferroni)
    crit = math.sqrt(
        special.betainccinv(0.5, (d - 1) / 2, alpha / groups / max(1, MAX_SLICES**2 // 2))
    )
    return CheckResult(name=name, passed=p >= alpha, statistic=c, threshold=crit, pvalue=p,
                       alpha=alpha, n=n, mde=crit,
                       detail=f"max |cos| = {c:.4f} ({label}, length {d}); P(that large |"
                              f" independent) = {p:.3g}",
                       observed=c, expected=0.0, extra={"where": label})


#: Elements per step of ``pair_cosine``'s float64 accumulation.
PAIR_CHUNK = 2**20


def pair_cosine_test(a: np.ndarray, b: np.ndarray, center: float, alpha: float, *, label: str,
                name: str = "independent_calls") -> CheckResult:
    """``max_cosine`` of the two rows (a - center, b - center), accumulated in float64
    chunks: no float64 copy of either tensor is made."""
    alpha = check_alpha(alpha)
    x, y = np.asarray(a).ravel(), np.asarray(b).ravel()
    d = x.size
    if d < MIN_COSINE_LENGTH:
        return max_cosine_test([], alpha, name=name)
    dot = xx = yy = 0.0
    for start in range(0, d, PAIR_CHUNK):
        u = x[start:start + PAIR_CHUNK].astype(np.float64) - center
        v = y[start:start + PAIR_CHUNK].astype(np.float64) - center
        dot, xx, yy = dot + float(u @ v), xx + float(u @ u), yy + float(v @ v)
    if xx == 0 or yy == 0:
        return CheckResult(name=name, passed=False, statistic=1.0, threshold=math.nan, pvalue=0.0,
                           alpha=alpha, n=2 * d, mde=math.nan,
                           detail=f"{label}: a draw is all at the claimed mean (zero vector)",
                           observed=1.0, expected=0.0)
    c = abs(dot) / math.sqrt(xx * yy)
    return _cosine_verdict(
        name, alpha, min(1.0, _cosine_pvalue(c, d)), label, c, d, n=2 * d, groups=1
    )


@dataclass(frozen=True)
class SpectrumPart:
    """One matrix's share of ``spectrum``: its largest singular value and its shape."""

    label: str
    s_max: float
    rows: int
    cols: int


def spectrum_part(label: str, m: np.ndarray) -> SpectrumPart:
    """``SpectrumPart`` of a standardized matrix (float32 and float64 kept, others float64)."""
    m = np.asarray(m)
    if m.dtype not in (np.float32, np.float64):
        m = m.astype(np.float64)
    return SpectrumPart(label, top_singular_value(m), *m.shape)


def spectrum_test(
    matrices: Iterable[tuple[str, np.ndarray]], alpha: float, *, name: str = "spectrum"
) -> CheckResult:
    """Largest singular value of each standardized (m, n) weight matrix against the bound for
    matrices of independent entries: s_max <= sqrt(m) + sqrt(n) + t with probability
    >= 1 - exp(-t^2/2) (Davidson-Szarek for Gaussian entries; entries with kurtosis <= 3
    concentrate at least as well). Catches low-rank structure (a rank-one spike) that leaves
    the std intact. s_max comes from power iteration (a lower bound: never a false alarm)."""
    # one at a time: a generator keeps one matrix in memory
    return spectrum_test_of((spectrum_part(label, m) for label, m in matrices), alpha, name=name)


def spectrum_test_of(
    parts: Iterable[SpectrumPart], alpha: float, *, name: str = "spectrum"
) -> CheckResult:
    """``spectrum`` from the matrices' ``spectrum_part``s (computed wherever each matrix is)."""
    alpha = check_alpha(alpha)
    worst_p, worst, n, count = 1.0, ("", 0.0, 0.0), 0, 0
    for part in parts:
        n += part.rows * part.cols
        count += 1
        edge_ = math.sqrt(part.rows) + math.sqrt(part.cols)
        p = math.exp(-((part.s_max - edge_) ** 2) / 2) if part.s_max > edge_ else 1.0
        if p <= worst_p:
            worst_p, worst = p, (part.label, part.s_max, edge_)
    k = max(1, count)
    p = min(1.0, worst_p * k)
    label, s, edge_ = worst
    t = math.sqrt(2 * math.log(k / alpha))
    return CheckResult(name=name, passed=p >= alpha, statistic=s, threshold=edge_ + t, pvalue=p,
                       alpha=alpha, n=n, mde=t,
                       detail=f"s_max = {s:.2f} sigma ({label}); independent entries stay below"
                              f" {edge_:.2f} + {t:.2f}",
                       observed=s, expected=edge_, extra={"where": label})


def top_singular_value(m: np.ndarray) -> float:
    """The largest singular value: exact for small matrices, else power iteration on M^T M
    from a fixed start, stopped when the estimate settles (it approaches s_max from below)."""
    if min(m.shape) <= EXACT_NORM_MAX_SIDE:
        return float(np.linalg.norm(m, 2))
    v = np.asarray(
        np.random.default_rng(0).standard_normal(m.shape[1]), dtype=m.dtype
    )  # no upcast of m
    v /= np.linalg.norm(v)
    s = 0.0
    for _ in range(POWER_ITERATIONS):
        mv = m @ v
        s_new = float(np.linalg.norm(mv))  # ||M v|| with ||v|| = 1
        if s_new == 0.0:
            return 0.0
        if abs(s_new - s) <= POWER_RTOL * s_new:
            return s_new
        s, v = s_new, m.T @ mv
        v /= np.linalg.norm(v)  # kept unit: no overflow in float32
    return s


def equal(a: np.ndarray, b: np.ndarray, *, should_be: bool, name: str, what: str) -> CheckResult:
    """Hard check that two draws are identical (same seed) or not (fresh seeds)."""
    same = bool(np.array_equal(a, b, equal_nan=True))
    return CheckResult.hard(name, same == should_be, n=a.size, statistic=float(same),
                            threshold=float(should_be),
                            detail=f"{what}: {'identical' if same else 'different'}",
                            observed=float(same), expected=float(should_be))


#: Units (the first ones, contiguous: groups of correlated neighbours stay whole) whose
#: pairwise cosines enter the dependence test.
DEPENDENCE_UNITS = 128
#: Shortest unit the dependence test judges: its null moments are the Gaussian ones, exact
#: to O(1/d) for other families.
MIN_DEPENDENCE_LENGTH = 64


@dataclass(frozen=True)
class PairSums:
    """One tensor's share of the dependence test: the sum of squared cosines over its unit
    pairs, that sum's null mean and variance, the number of pairs and of elements."""

    total: float
    mean: float
    var: float
    pairs: float
    n: int


def pair_sums(m: np.ndarray) -> PairSums | None:
    """``PairSums`` of a (units, d) matrix of centred units (None if it has fewer than two
    units or units shorter than MIN_DEPENDENCE_LENGTH)."""
    units, d = m.shape
    if units < 2 or d < MIN_DEPENDENCE_LENGTH:
        return None
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    m = m[norms[:, 0] > 0] / norms[norms[:, 0] > 0]  # a unit all at the mean has no direction
    units = m.shape[0]
    if units < 2:
        return None
    gram = m @ m.T
    k = units * (units - 1) / 2
    return PairSums((float(np.einsum("ij,ij->", gram, gram, dtype=np.float64)) - units) / 2,
                    k / d, k * 2 * (d - 1) / (d * d * (d + 2)), k, m.size)


def dependence_test(parts: list[PairSums | None], alpha: float, *,
               name: str = "unit_dependence") -> CheckResult:
    """Weak dependence spread over many pairs of units, which the largest cosine misses:
    T = sum over pairs of cos^2 of centred units, pooled over tensors (``pair_sums``). Under
    independence cos^2 has mean 1/d exactly (any symmetric iid law) and variance
    2(d-1)/(d^2(d+2)) (Gaussian), and distinct pairs are uncorrelated; T is referred to
    the scaled chi-square with those two moments (Satterthwaite). One-sided. The MDE is
    the root-mean-square correlation over all pairs."""
    alpha = check_alpha(alpha)
    use = [p for p in parts if p is not None]
    if not use:
        return CheckResult.skipped(name, alpha,
                                   f"no tensor with 2 units of >= {MIN_DEPENDENCE_LENGTH} elements")
    t, mean, var = (sum(getattr(p, f) for p in use) for f in ("total", "mean", "var"))
    pairs, n = sum(p.pairs for p in use), sum(p.n for p in use)
    scale, dof = var / (2 * mean), 2 * mean * mean / var
    p = float(special.chdtrc(dof, t / scale))
    crit = scale * float(special.chdtri(dof, alpha))
    zb = float(special.ndtri(POWER))
    excess = crit - mean + zb * math.sqrt(var)  # sum of rho^2 over pairs detected at POWER
    return CheckResult(
        name=name, passed=p >= alpha, statistic=t, threshold=crit, pvalue=p, alpha=alpha, n=n,
        mde=math.sqrt(max(0.0, excess) / pairs),
        detail=f"sum of squared cosines over {int(pairs)} unit pairs = {t:.3f}, expected"
               f" {mean:.3f} +- {math.sqrt(var):.3f} if independent, at most {crit:.3f}",
        observed=math.sqrt(max(0.0, t - mean) / pairs), expected=0.0)
