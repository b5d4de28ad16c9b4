"""The checks, as functions over one context (``initcheck.checks.contexts``): ``Samples`` for
``verify``, ``Tensors`` for given tensors. Each check reads the shared statistics the
context computes once (moment summaries, per-unit sums).

``plan`` says which checks fit a claimed family; ``run`` executes them under one alpha
budget. Deterministic checks spend no alpha; the statistical ones split it evenly
(Bonferroni), and a check that pools the shapes and also tests each alone splits its share
again over those S + 1 tests (``pooled_and_each``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from initcheck import stats
from initcheck.checks.contexts import (
    KS_MAX,
    Key,
    Samples,
    Tensors,
    hard_merge,
    label,
    pooled_and_each,
    standardize,
    sums_each,
)
from initcheck.core.results import CheckResult
from initcheck.propagation import property as propagation
from initcheck.sharding.array import as_sharded
from initcheck.stats.resolution import match_probability
from initcheck.stats.thinning import unit_submatrix

#: A check of a context: a ``Tensors``, or a ``Samples`` for the checks that draw again or
#: read the sampler (planned only where the context can draw).
HardCheck = Callable[[Any], CheckResult]
StatisticalCheck = Callable[[Any, float], CheckResult]
#: Draws of each shape for the Haar test of orthogonal initializers.
HAAR_DRAWS = 8
#: The Haar test uses shapes of at most this many elements (a QR per draw).
HAAR_MAX_ELEMENTS = 2**16
#: The spectrum judges at most this many elements of a tensor (a submatrix beyond: about
#: 0.1 s of power iteration in float32).
SPECTRUM_MAX_ELEMENTS = 2**22

# ---------------------------------------------------------------------- which checks run


def plan(family: str, with_propagation: bool, dtype_asked: bool = True,
         can_draw: bool = True) -> tuple[list[HardCheck], list[StatisticalCheck]]:
    """The deterministic and the statistical checks that fit the claimed family (``dtype``
    only where a dtype was asked of the initializer; the checks that draw again only where
    the tensors come from a sampler)."""
    hard: list[HardCheck] = [dtype] if dtype_asked else []
    statistical: list[StatisticalCheck] = []
    if family != "normal":
        hard.append(support)
    if family != "constant":
        hard.append(distinct_units)
        statistical.append(mean)
        if family != "orthogonal":
            statistical.append(std)
        statistical.append(distribution)
        if family in ("uniform", "truncated_normal"):
            statistical += [edge, atoms]
        if family == "normal":
            statistical.append(tails)
        if family == "orthogonal":
            hard.append(orthonormal)
            if can_draw:
                statistical.append(haar)
        else:
            statistical += [fourth_moment, unit_correlation, unit_dependence, unit_means,
                            unit_scales, spectrum]
        statistical.append(resolution)
        if can_draw:
            statistical.append(independent_calls)
    if can_draw:
        hard.append(reproducible)
    if with_propagation:
        statistical.append(propagation_check)
    return hard, statistical


def run(ctx: Tensors, alpha: float) -> list[CheckResult]:
    """Every planned check, timed; only ``finite`` if a value is NaN or Inf (every
    statistic would be meaningless)."""
    first = _timed(finite, ctx)
    if not first.passed:
        return [first]
    hard, statistical = plan(ctx.family, ctx.options is not None, ctx.takes_dtype, ctx.can_draw)
    share = alpha / max(1, len(statistical))
    return ([first] + [_timed(c, ctx) for c in hard]
            + [_timed(c, ctx, share) for c in statistical])


def _timed(check: Callable[..., CheckResult], *args: object) -> CheckResult:
    """Run a check and record its wall time in ``extra['seconds']`` (benchmarks read it)."""
    start = time.perf_counter()
    result = check(*args)
    return result.with_extra(seconds=time.perf_counter() - start)


# --------------------------------------------------------------------------- hard checks


def finite(ctx: Tensors) -> CheckResult:
    return hard_merge(ctx, "finite", [(s, stats.finite(x)) for s, x in ctx.tensors.items()],
                       "every value finite", clean=0.0)


def dtype(ctx: Samples) -> CheckResult:
    wrong = {s: x.dtype for s, x in ctx.tensors.items() if x.dtype != ctx.dtype}
    if wrong:
        s, got = next(iter(wrong.items()))
        return CheckResult.hard("dtype", False, n=ctx.elements, statistic=1.0,
                                detail=f"asked for {ctx.dtype}, got {got} (shape {s}): the"
                                       " initializer ignores dtype", extra=ctx.where(s))
    return CheckResult.hard("dtype", True, n=ctx.elements, detail=f"all {ctx.dtype}")


def support(ctx: Tensors) -> CheckResult:
    results = [(s, stats.support(x, ctx.laws[s])) for s, x in ctx.tensors.items()]
    return hard_merge(ctx, "support", results,
                       f"all {len(results)} tensors inside the claimed support")


def distinct_units(ctx: Tensors) -> CheckResult:
    return stats.duplicates([(ctx.label(s), x) for s, x in ctx.tensors.items()])


def reproducible(ctx: Samples) -> CheckResult:
    s = ctx.probe_shape()
    r = stats.equal(ctx.array(s), ctx.draw(s, "main"), should_be=True, name="reproducible",
                    what=f"two draws with the same seed, shape {s}")
    return r if r.passed else r.with_extra(**ctx.where(s))


def orthonormal(ctx: Tensors) -> CheckResult:
    matrices = []
    for s, x in ctx.tensors.items():
        whole = as_sharded(x).single
        if whole is None:
            raise ValueError(f"{ctx.label(s)} is sharded and claims an orthogonal matrix: its"
                             " orthonormality needs the whole matrix, which initcheck does not"
                             " gather. Check it unsharded (a small model), or claim its marginal.")
        matrices.append((ctx.label(s), stats.unit_matrix(whole, ctx.layout.unit_axes(x.ndim)),
                         ctx.laws[s].orthogonal()[1]))
    return stats.orthonormality(matrices)


# -------------------------------------------------------------------- statistical checks


def mean(ctx: Tensors, alpha: float) -> CheckResult:
    return pooled_and_each(ctx, alpha, lambda s, a: stats.mean_test([ctx.summary(s)], a),
                           lambda a: stats.mean_test(ctx.summaries(), a))


def std(ctx: Tensors, alpha: float) -> CheckResult:
    test = stats.sigma_chi2_test if ctx.family == "normal" else stats.sigma_moment_test
    return pooled_and_each(ctx, alpha, lambda s, a: test([ctx.summary(s)], a),
                           lambda a: test(ctx.summaries(), a))


def distribution(ctx: Tensors, alpha: float) -> CheckResult:
    """KS of each tensor (at most KS_MAX values) and of all tensors pooled through the
    probability transform: the omnibus for the shape of the distribution."""
    u = {s: ctx.pit(s) for s in ctx.laws}
    return pooled_and_each(
        ctx, alpha, lambda s, a: stats.ks_test(u[s], a),
        lambda a: stats.ks_test(stats.thin(np.concatenate(list(u.values())), KS_MAX), a))


def edge(ctx: Tensors, alpha: float) -> CheckResult:
    """The exact edge test pooled in probability space: only each tensor's extremes matter.
    Each extreme is widened to the edge of its rounding cell in the sample's dtype (a
    float16 grid cannot reach every real bound), which keeps it conservative."""
    lows, highs = {}, {}
    for s, x in ctx.tensors.items():
        lo, hi = as_sharded(x).extremes()
        if x.dtype.itemsize < 8:
            lo = (stats.neighbours(lo, x.dtype)[0] + lo) / 2
            hi = (hi + stats.neighbours(hi, x.dtype)[1]) / 2
        lows[s], highs[s] = stats.cdf(np.array([lo, hi]), ctx.laws[s])
    low, high = min(lows, key=lambda s: lows[s]), max(highs, key=lambda s: highs[s])
    result = stats.edge_test_of(float(lows[low]), float(highs[high]), ctx.elements, alpha)
    # the closest approach of all tensors together: one tensor's only when there is one
    return result.with_extra(where=ctx.label(low) if len(lows) == 1 else "pooled")


def atoms(ctx: Tensors, alpha: float) -> CheckResult:
    return pooled_and_each(
        ctx, alpha, lambda s, a: stats.atoms_test(ctx.tensors[s], ctx.laws[s], a)
    )


def tails(ctx: Tensors, alpha: float) -> CheckResult:
    widest = max(ctx.laws, key=lambda s: ctx.summary(s).max_abs)
    return stats.tails_test(ctx.summaries(), alpha).with_extra(where=ctx.label(widest))


def fourth_moment(ctx: Tensors, alpha: float) -> CheckResult:
    """Heavy or light tails at the right std: the sample kurtosis pooled over tensors."""
    return stats.kurtosis_test(ctx.summaries(), [ctx.laws[s].standard_moments for s in ctx.laws],
                               alpha)


def unit_means(ctx: Tensors, alpha: float) -> CheckResult:
    """Units whose means differ at the right overall mean (ANOVA across units)."""
    return sums_each(ctx, alpha, {s: ctx.units(s) for s in ctx.laws}, stats.unit_means_test)


def unit_scales(ctx: Tensors, alpha: float) -> CheckResult:
    """Units whose scales differ at the right overall std (Bartlett, kurtosis-corrected)."""
    return sums_each(ctx, alpha, {s: ctx.units(s) for s in ctx.laws}, stats.unit_scales_test)


def unit_dependence(ctx: Tensors, alpha: float) -> CheckResult:
    """Weak correlation spread over many unit pairs: the sum of squared cosines of the
    first DEPENDENCE_UNITS units (contiguous, so groups of neighbours stay whole)."""
    def read(s: Key, to: int | None) -> np.ndarray | None:
        x = ctx.tensors[s]
        axes = ctx.layout.unit_axes(x.ndim) if x.ndim >= 2 else ()
        units = math.prod(x.shape[a] for a in axes)
        if not (axes and units >= 2 and x.size // units >= stats.MIN_DEPENDENCE_LENGTH):
            return None
        # the first units only are read
        return as_sharded(x).unit_rows(axes, np.arange(min(units, stats.DEPENDENCE_UNITS)), to)

    def judge(s: Key, m: np.ndarray | None) -> stats.PairSums | None:
        return None if m is None else stats.pair_sums(standardize(m, ctx.laws[s]))

    def cost(s: Key) -> float:  # values read: the first units, whole
        x = ctx.tensors[s]
        if x.ndim < 2:
            return 0.0
        units = math.prod(x.shape[a] for a in ctx.layout.unit_axes(x.ndim))
        return min(units, stats.DEPENDENCE_UNITS) * x.size / max(1, units)
    return sums_each(ctx, alpha, ctx.spread(read, judge, cost), stats.dependence_test)


def resolution(ctx: Tensors, alpha: float) -> CheckResult:
    """Values on a grid coarser than the dtype holds, in the KS sample of each tensor. A
    drawn sample is judged in its own dtype; a given tensor at most in float32's (a model
    cast to float64 after its float32 init holds float32 values, and that is no defect)."""
    parts = {}
    for s, x in ctx.tensors.items():
        grid = x.dtype if ctx.can_draw or x.dtype.itemsize <= 4 else np.dtype(np.float32)
        parts[s] = stats.repeats(ctx.sample(s), ctx.laws[s], grid)
    return sums_each(ctx, alpha, parts, stats.resolution_test)


def _tensor_index(part: stats.CosinePart | None, n: int) -> stats.CosinePart | None:
    """``part`` with its zero row's index along the tensor's axis (of ``n`` slices), not
    among the slices picked (``stats.slices`` picks evenly spaced ones past MAX_SLICES)."""
    if part is None or part.zero_row is None or n <= stats.MAX_SLICES:
        return part
    return replace(part, zero_row=int(stats.spaced(n, stats.MAX_SLICES)[part.zero_row]))


def unit_correlation(ctx: Tensors, alpha: float) -> CheckResult:
    """Largest cosine between at most MAX_SLICES slices along each axis, on at most
    MAX_SLICE_LENGTH coordinates of each (the slices are picked first, then standardized:
    cosines ignore the scale, and only they are copied)."""
    def read(s: Key, to: int | None) -> list[np.ndarray] | None:
        x = ctx.tensors[s]
        # every axis's gather runs on every rank (collectives), even where it returns None
        rows = [stats.slices(x, axis, stats.MAX_SLICES, to, max_length=stats.MAX_SLICE_LENGTH)
                for axis in range(x.ndim)]
        held = [r for r in rows if r is not None]
        return held if len(held) == len(rows) else None  # None: gathered on another rank

    def judge(s: Key, rows: list[np.ndarray] | None) -> list[stats.CosinePart | None]:
        parts = [stats.cosine_part(f"{ctx.label(s)} axis {axis}", standardize(m, ctx.laws[s]))
                 for axis, m in enumerate(rows or [])]
        return [_tensor_index(p, ctx.tensors[s].shape[axis]) for axis, p in enumerate(parts)]

    def cost(s: Key) -> float:
        x = ctx.tensors[s]
        return sum(min(n, stats.MAX_SLICES) * min(x.size / n, stats.MAX_SLICE_LENGTH)
                   for n in x.shape if n)
    done = ctx.spread(read, judge, cost)
    result = stats.max_cosine_test_of([p for s in ctx.tensors for p in done[s]], alpha)
    owner = {f"{ctx.label(s)} axis {axis}": ctx.label(s)
             for s, x in ctx.tensors.items() for axis in range(x.ndim)}
    return result.with_extra(where=owner.get(str(result.extra.get("where")), "all"))


def spectrum(ctx: Tensors, alpha: float) -> CheckResult:
    """The top singular value of each tensor's (units, fan) matrix; one larger than
    SPECTRUM_MAX_ELEMENTS is judged on evenly spaced columns of its longer side (a submatrix
    of independent entries has the same null)."""
    def read(s: Key, to: int | None) -> np.ndarray | None:
        x = ctx.tensors[s]  # one standardized matrix at a time
        if x.ndim < 2:
            return None
        axes = ctx.layout.unit_axes(x.ndim)
        units = math.prod(x.shape[a] for a in axes)
        if min(units, x.size // units) < 2:
            return None
        return unit_submatrix(x, axes, SPECTRUM_MAX_ELEMENTS, to)

    def judge(s: Key, m: np.ndarray | None) -> stats.SpectrumPart | None:
        if m is None:
            return None
        whole = as_sharded(ctx.tensors[s]).single  # a submatrix of it may be a view
        fresh = whole is None or not np.may_share_memory(m, whole)
        return stats.spectrum_part(ctx.label(s), standardize(m, ctx.laws[s], reuse=fresh))

    parts = ctx.spread(read, judge, lambda s: min(ctx.tensors[s].size, SPECTRUM_MAX_ELEMENTS))
    return stats.spectrum_test_of([p for p in parts.values() if p is not None], alpha)


def haar(ctx: Samples, alpha: float) -> CheckResult:
    lay = ctx.layout
    shapes = [s for s in ctx.shapes if len(s) >= 2 and math.prod(s) <= HAAR_MAX_ELEMENTS] or [
        min(ctx.shapes, key=math.prod)]
    mats = [stats.unit_matrix(ctx.draw(s, "haar", k), lay.unit_axes(len(s)))
            for s in shapes for k in range(HAAR_DRAWS)]
    return stats.haar_test(mats, ctx.laws[shapes[0]].orthogonal()[1], alpha)


def independent_calls(ctx: Samples, alpha: float) -> CheckResult:
    """Two fresh seeds must give different, uncorrelated tensors: seed reuse across calls
    (a sampler ignoring its rng, a cached tensor) fails here."""
    s = ctx.probe_shape()
    a, law = ctx.array(s), ctx.laws[s]
    b = ctx.draw(s, "independent")
    same = stats.equal(a, b, should_be=False, name="independent_calls",
                       what=f"two draws with different seeds, shape {s}")
    if not same.passed:
        # identical by chance has probability match^n (elements taken as independent): a
        # 1x1 orthogonal is +-gain, a few float16 values repeat; a real tensor never does
        chance = match_probability(law, a.dtype) ** a.size
        why = (f"as likely as {chance:.3g} for independent draws of {a.size} element(s)"
               if chance >= alpha else "the initializer ignores its seed or reuses one")
        return replace(same, passed=chance >= alpha, statistic=1.0, threshold=0.0,
                       pvalue=min(1.0, chance), alpha=alpha, detail=f"{same.detail}: {why}",
                       observed=1.0, expected=0.0, extra=ctx.where(s))
    return stats.pair_cosine_test(a, b, law.mean, alpha, label=f"{label(s)} call 1 vs 2")


def propagation_check(ctx: Samples, alpha: float) -> CheckResult:
    """Forward and backward variance through a deep net (``initcheck.propagation.property``)."""
    if ctx.options is None:
        raise ValueError("the propagation check needs PropagationOptions (verify's propagation=).")
    result, ctx.trace = propagation.check(ctx.sampler, ctx.claim, ctx.options, alpha, ctx.seed)
    return result
