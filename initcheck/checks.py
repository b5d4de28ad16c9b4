"""The checks ``verify`` runs, as functions over one ``Samples`` context: the tensors drawn
once per shape, their claimed laws, and the statistics shared between checks (standardized
values, moment summaries), each computed once.

``plan`` says which checks fit a claimed family; ``run`` executes them under one alpha
budget. Deterministic checks spend no alpha; the statistical ones split it evenly
(Bonferroni), and a check that pools the shapes and also tests each alone splits its share
again over those S + 1 tests (``pooled_and_each``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import replace

import numpy as np

from initcheck import propagation, stats
from initcheck.contract import Adapter
from initcheck.fans import Layout
from initcheck.propagation import PropagationOptions
from initcheck.results import CheckResult
from initcheck.seeding import seed_sequence
from initcheck.simulation import Trace
from initcheck.specs import Law, Spec

Shape = tuple[int, ...]
#: What a context keys its tensors by: the shape (verify) or the tensor's name (models).
Key = Hashable
HardCheck = Callable[["Tensors"], CheckResult]
StatisticalCheck = Callable[["Tensors", float], CheckResult]

#: Draws of each shape for the Haar test of orthogonal initializers.
HAAR_DRAWS = 8
#: The Haar test uses shapes of at most this many elements (a QR per draw).
HAAR_MAX_ELEMENTS = 2**16
#: KS tests use at most this many values per shape and pooled (evenly spaced). KS is the
#: omnibus for shape; scale errors are the sigma test's, which uses every value.
KS_MAX = 2**15
#: The spectrum judges at most this many elements of a tensor (a submatrix beyond: about
#: 0.1 s of power iteration in float32).
SPECTRUM_MAX_ELEMENTS = 2**22
#: The probe shape of the checks that draw again is the one nearest this many elements.
PROBE_ELEMENTS = 4096


def label(shape: Shape) -> str:
    """A shape as reports print it: 3x3x64x128."""
    return "x".join(map(str, shape))


class Tensors:
    """Fixed tensors under one claim: each with its law, keyed by a label (a tensor's
    name), and the statistics the checks share, computed on first use. ``check_tensor``
    and ``check_model`` judge tensors they are given; ``Samples`` draws its own."""

    #: Whether the checks that need fresh draws (reproducible, independent calls, Haar) apply.
    can_draw = False

    def __init__(self, claim: Spec, tensors: dict[Key, np.ndarray], laws: dict[Key, Law],
                 layout: Layout) -> None:
        self.claim, self.family, self.layout = claim, claim.family, layout
        self.tensors, self.laws = tensors, laws
        self.options: PropagationOptions | None = None
        self.takes_dtype = False
        self._summary: dict[Key, stats.Summary] = {}
        self._units: dict[Key, stats.UnitSums] = {}

    def relabelled(self, laws: dict[Key, Law]) -> Tensors:
        """The same tensors judged against other laws (another convention of the claim)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__, laws=laws, _summary={}, _units={})
        return other

    def label(self, key: Key) -> str:
        return str(key)

    def shape(self, key: Key) -> Shape:
        return tuple(self.tensors[key].shape)

    def where(self, key: Key) -> dict[str, object]:
        return {"where": self.label(key), "shape": list(self.shape(key))}

    @property
    def elements(self) -> int:
        return sum(x.size for x in self.tensors.values())

    def summary(self, key: Key) -> stats.Summary:
        """The moment summary of a tensor (chunked), computed once for mean, std and tails."""
        if key not in self._summary:
            self._summary[key] = stats.summarize(self.tensors[key], self.laws[key])
        return self._summary[key]

    def summaries(self) -> list[stats.Summary]:
        return [self.summary(s) for s in self.laws]

    def units(self, key: Key) -> stats.UnitSums | None:
        """Per-unit sums of a tensor of rank >= 2 (None for a vector), computed once for the
        unit mean and unit scale checks."""
        x = self.tensors[key]
        if x.ndim < 2:
            return None
        if key not in self._units:
            self._units[key] = stats.unit_sums(x, self.layout.unit_axes(x.ndim), self.laws[key])
        return self._units[key]

    def pit(self, key: Key) -> np.ndarray:
        """F(x) for at most KS_MAX evenly spaced elements (iid, so any fixed subset is a
        sample): uniform on (0, 1) under the claim."""
        return stats.cdf(stats.thin(self.tensors[key].ravel(), KS_MAX), self.laws[key])


class Samples(Tensors):
    """One verification's draws: every shape drawn once under its own seed (keyed by the
    shape), with the laws the claim gives them; checks may draw again."""

    can_draw = True

    def __init__(self, sampler: Adapter, claim: Spec, laws: dict[Shape, Law], seed: int,
                 dtype: np.dtype, options: PropagationOptions | None = None) -> None:
        self.sampler, self.seed, self.dtype = sampler, seed, dtype
        #: Time spent in the initializer on draws beyond the main ones (repeat, Haar).
        self.extra_draw_seconds = 0.0
        self.trace: Trace | None = None
        super().__init__(claim, {s: self.draw(s, "main") for s in laws}, laws, sampler.layout)
        self.options, self.takes_dtype = options, sampler.takes_dtype

    def label(self, key: Key) -> str:
        return label(key)

    def shape(self, key: Key) -> Shape:
        return key

    def draw(self, shape: Shape, purpose: str, k: int = 0) -> np.ndarray:
        start = time.perf_counter()
        x = self.sampler.sample(shape, seed_sequence(self.seed, shape, purpose, k), self.dtype)
        if purpose != "main":
            self.extra_draw_seconds += time.perf_counter() - start
        return x

    def probe_shape(self) -> Shape:
        """A mid-sized shape for checks that draw again (at least 2 elements if possible)."""
        return min(self.laws, key=lambda s: (math.prod(s) < 2,
                                             abs(math.log(math.prod(s) / PROBE_ELEMENTS))))


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


def statistical_count(ctx: Tensors) -> int:
    """How many statistical checks ``run`` splits its alpha over for this context."""
    return len(plan(ctx.family, ctx.options is not None, ctx.takes_dtype, ctx.can_draw)[1])


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


def pooled_and_each(
    ctx: Tensors,
    alpha: float,
    each: Callable[[Key, float], CheckResult],
    pooled: Callable[[float], CheckResult] | None = None,
) -> CheckResult:
    """One test per tensor, and the pooled test if given; Bonferroni over all of them.
    Pooling gives power for small errors; each tensor alone catches an error confined to
    one (wrong only for small fans, a non-square kernel, one layer of a model).
    ``extra['parts']`` keeps every tensor's own verdict, p-value adjusted (``check_model``
    reports them tensor by tensor)."""
    keys = list(ctx.laws)
    k = len(keys) + (1 if pooled is not None and len(keys) > 1 else 0)
    share = alpha / k
    results: list[tuple[Key | None, CheckResult]] = [(s, each(s, share)) for s in keys]
    if k > len(keys):
        results.insert(0, (None, pooled(share)))
    head = results[0][1]
    where, worst = min(results, key=lambda r: r[1].pvalue)
    p = min(1.0, worst.pvalue * k)
    text = "pooled" if where is None else ctx.label(where)
    parts = [{"where": "pooled" if s is None else ctx.label(s), "passed": r.passed,
              "pvalue": min(1.0, r.pvalue * k), "observed": r.observed, "expected": r.expected,
              "mde": r.mde, "n": r.n, "detail": r.detail} for s, r in results]
    return CheckResult(
        name=head.name, passed=p >= alpha, statistic=worst.statistic, threshold=worst.threshold,
        pvalue=p, alpha=alpha, n=sum(r.n for s, r in results if s is not None), mde=head.mde,
        detail=f"{text}: {worst.detail}", observed=worst.observed, expected=worst.expected,
        extra={"where": text, "shape": None if where is None else list(ctx.shape(where)),
               "tests": k, "parts": parts})


def _hard_merge(ctx: Tensors, name: str, results: list[tuple[Key, CheckResult]], ok_detail: str,
                clean: float = math.nan) -> CheckResult:
    """One deterministic check over all tensors: the first failing one (``extra['failed']``
    lists them all), or a pass (``clean`` is the observed and expected value a pass reports)."""
    n = sum(r.n for _, r in results)
    failed = [(s, r) for s, r in results if not r.passed]
    if failed:
        s, r = failed[0]
        return CheckResult.hard(name, False, n=n, statistic=r.statistic, threshold=r.threshold,
                                detail=f"{ctx.label(s)}: {r.detail}", observed=r.observed,
                                expected=r.expected,
                                extra={**ctx.where(s), "failed": [ctx.label(f) for f, _ in failed]})
    return CheckResult.hard(name, True, n=n, detail=ok_detail, observed=clean, expected=clean)


def _standardize(x: np.ndarray, law: Law) -> np.ndarray:
    """(x - mean) / std as a new array, float32 for inputs of 4 bytes or fewer per element
    (the statistics that use it need no more), else float64."""
    z = x.astype(np.float32 if x.dtype.itemsize <= 4 else np.float64)
    z -= law.mean
    z /= law.std
    return z


# --------------------------------------------------------------------------- hard checks


def finite(ctx: Tensors) -> CheckResult:
    return _hard_merge(ctx, "finite", [(s, stats.finite(x)) for s, x in ctx.tensors.items()],
                       "every value finite", clean=0.0)


def dtype(ctx: Tensors) -> CheckResult:
    wrong = {s: x.dtype for s, x in ctx.tensors.items() if x.dtype != ctx.dtype}
    if wrong:
        s, got = next(iter(wrong.items()))
        return CheckResult.hard("dtype", False, n=ctx.elements, statistic=1.0,
                                detail=f"asked for {ctx.dtype}, got {got} (shape {s}): the"
                                       " initializer ignores dtype", extra=ctx.where(s))
    return CheckResult.hard("dtype", True, n=ctx.elements, detail=f"all {ctx.dtype}")


def support(ctx: Tensors) -> CheckResult:
    results = [(s, stats.support(x, ctx.laws[s])) for s, x in ctx.tensors.items()]
    return _hard_merge(ctx, "support", results,
                       f"all {len(results)} tensors inside the claimed support")


def distinct_units(ctx: Tensors) -> CheckResult:
    return stats.duplicates([(ctx.label(s), x) for s, x in ctx.tensors.items()])


def reproducible(ctx: Samples) -> CheckResult:
    s = ctx.probe_shape()
    r = stats.equal(ctx.tensors[s], ctx.draw(s, "main"), should_be=True, name="reproducible",
                    what=f"two draws with the same seed, shape {s}")
    return r if r.passed else r.with_extra(**ctx.where(s))


def orthonormal(ctx: Tensors) -> CheckResult:
    return stats.orthonormality([
        (ctx.label(s), stats.unit_matrix(x, ctx.layout.unit_axes(x.ndim)), ctx.laws[s].gain)
        for s, x in ctx.tensors.items()])


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
        ctx, alpha, lambda s, a: stats.ks_uniform(u[s], a),
        lambda a: stats.ks_uniform(stats.thin(np.concatenate(list(u.values())), KS_MAX), a))


def edge(ctx: Tensors, alpha: float) -> CheckResult:
    """The exact edge test pooled in probability space: only each tensor's extremes matter.
    Each extreme is widened to the edge of its rounding cell in the sample's dtype (a
    float16 grid cannot reach every real bound), which keeps it conservative."""
    lows, highs = {}, {}
    for s, x in ctx.tensors.items():
        lo, hi = float(x.min()), float(x.max())
        if x.dtype.itemsize < 8:
            lo = (stats.neighbours(lo, x.dtype)[0] + lo) / 2
            hi = (hi + stats.neighbours(hi, x.dtype)[1]) / 2
        lows[s], highs[s] = stats.cdf(np.array([lo, hi]), ctx.laws[s])
    low, high = min(lows, key=lows.get), max(highs, key=highs.get)
    result = stats.edge_from_extremes(float(lows[low]), float(highs[high]), ctx.elements, alpha)
    # the closest approach of all tensors together: one tensor's only when there is one
    return result.with_extra(where=ctx.label(low) if len(lows) == 1 else "pooled")


def atoms(ctx: Tensors, alpha: float) -> CheckResult:
    return pooled_and_each(ctx, alpha, lambda s, a: stats.atoms(ctx.tensors[s], ctx.laws[s], a))


def tails(ctx: Tensors, alpha: float) -> CheckResult:
    widest = max(ctx.laws, key=lambda s: ctx.summary(s).max_abs)
    return stats.tails_test(ctx.summaries(), alpha).with_extra(where=ctx.label(widest))


def fourth_moment(ctx: Tensors, alpha: float) -> CheckResult:
    """Heavy or light tails at the right std: the sample kurtosis pooled over tensors."""
    return stats.kurtosis_test(ctx.summaries(), [ctx.laws[s].standard_moments for s in ctx.laws],
                               alpha)


def _sums_each(ctx: Tensors, alpha: float, parts: dict[Key, object],
               test: Callable[..., CheckResult]) -> CheckResult:
    """``pooled_and_each`` for a test over per-tensor sums: each tensor's sums are computed
    once, and the pooled test adds them up. Tensors the test cannot judge (None) drop out."""
    parts = {s: p for s, p in parts.items() if p is not None}
    if not parts:
        return test([], alpha)
    sub = ctx.relabelled({s: ctx.laws[s] for s in parts})
    return pooled_and_each(sub, alpha, lambda s, a: test([parts[s]], a),
                           lambda a: test(list(parts.values()), a))


def unit_means(ctx: Tensors, alpha: float) -> CheckResult:
    """Units whose means differ at the right overall mean (ANOVA across units)."""
    return _sums_each(ctx, alpha, {s: ctx.units(s) for s in ctx.laws}, stats.unit_means_test)


def unit_scales(ctx: Tensors, alpha: float) -> CheckResult:
    """Units whose scales differ at the right overall std (Bartlett, kurtosis-corrected)."""
    return _sums_each(ctx, alpha, {s: ctx.units(s) for s in ctx.laws}, stats.unit_scales_test)


def unit_dependence(ctx: Tensors, alpha: float) -> CheckResult:
    """Weak correlation spread over many unit pairs: the sum of squared cosines of the
    first DEPENDENCE_UNITS units (contiguous, so groups of neighbours stay whole)."""
    parts = {}
    for s, x in ctx.tensors.items():
        axes = ctx.layout.unit_axes(x.ndim) if x.ndim >= 2 else ()
        units = math.prod(x.shape[a] for a in axes)
        if axes and units >= 2 and x.size // units >= stats.MIN_DEPENDENCE_LENGTH:
            if len(axes) == 1:  # the first units only are copied
                x = np.take(x, np.arange(min(x.shape[axes[0]], stats.DEPENDENCE_UNITS)), axes[0])
            m = stats.unit_matrix(x, axes)[:stats.DEPENDENCE_UNITS]
            parts[s] = stats.pair_sums(_standardize(m, ctx.laws[s]))
    return _sums_each(ctx, alpha, parts, stats.dependence)


def resolution(ctx: Tensors, alpha: float) -> CheckResult:
    """Values on a grid coarser than the dtype holds, in the KS sample of each tensor. A
    drawn sample is judged in its own dtype; a given tensor at most in float32's (a model
    cast to float64 after its float32 init holds float32 values, and that is no defect)."""
    parts = {}
    for s, x in ctx.tensors.items():
        grid = x.dtype if ctx.can_draw or x.dtype.itemsize <= 4 else np.dtype(np.float32)
        parts[s] = stats.repeats(stats.thin(x.ravel(), KS_MAX), ctx.laws[s], grid)
    return _sums_each(ctx, alpha, parts, stats.resolution_test)


def unit_correlation(ctx: Tensors, alpha: float) -> CheckResult:
    """Largest cosine between at most MAX_SLICES slices along each axis (the slices are
    picked first, then standardized: cosines ignore the scale, and only they are copied)."""
    groups, owner = [], {}
    for s, x in ctx.tensors.items():
        for axis in range(x.ndim):
            rows = stats.slices(x, axis, stats.MAX_SLICES)
            owner[f"{ctx.label(s)} axis {axis}"] = ctx.label(s)
            groups.append((f"{ctx.label(s)} axis {axis}", _standardize(rows, ctx.laws[s])))
    result = stats.max_cosine(groups, alpha)
    return result.with_extra(where=owner.get(result.extra.get("where"), "all"))


def spectrum(ctx: Tensors, alpha: float) -> CheckResult:
    """The top singular value of each tensor's (units, fan) matrix; one larger than
    SPECTRUM_MAX_ELEMENTS is judged on evenly spaced columns of its longer side (a submatrix
    of independent entries has the same null)."""
    def matrices():  # one standardized matrix at a time
        for s, x in ctx.tensors.items():
            if x.ndim >= 2:
                m = stats.unit_matrix(x, ctx.layout.unit_axes(x.ndim))
                if min(m.shape) >= 2:
                    yield ctx.label(s), _standardize(stats.submatrix(m, SPECTRUM_MAX_ELEMENTS),
                                                     ctx.laws[s])
    return stats.spectrum(matrices(), alpha)


def haar(ctx: Samples, alpha: float) -> CheckResult:
    lay = ctx.layout
    shapes = [s for s in ctx.laws if len(s) >= 2 and math.prod(s) <= HAAR_MAX_ELEMENTS] or [
        min(ctx.laws, key=math.prod)]
    mats = [stats.unit_matrix(ctx.draw(s, "haar", k), lay.unit_axes(len(s)))
            for s in shapes for k in range(HAAR_DRAWS)]
    return stats.haar(mats, ctx.laws[shapes[0]].gain, alpha)


def independent_calls(ctx: Samples, alpha: float) -> CheckResult:
    """Two fresh seeds must give different, uncorrelated tensors: seed reuse across calls
    (a sampler ignoring its rng, a cached tensor) fails here."""
    s = ctx.probe_shape()
    a, law = ctx.tensors[s], ctx.laws[s]
    b = ctx.draw(s, "independent")
    same = stats.equal(a, b, should_be=False, name="independent_calls",
                       what=f"two draws with different seeds, shape {s}")
    if not same.passed:
        return replace(same, statistic=1.0, threshold=0.0, alpha=alpha,
                       detail=same.detail + ": the initializer ignores its seed or reuses one",
                       observed=1.0, expected=0.0, extra=ctx.where(s))
    return stats.pair_cosine(a, b, law.mean, alpha, label=f"{label(s)} call 1 vs 2")


def propagation_check(ctx: Samples, alpha: float) -> CheckResult:
    """Forward and backward variance through a deep net (``initcheck.propagation``)."""
    result, ctx.trace = propagation.check(ctx.sampler, ctx.claim, ctx.options, alpha, ctx.seed)
    return result
