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
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from initcheck import propagation, stats
from initcheck.contract import Adapter
from initcheck.propagation import PropagationOptions
from initcheck.results import CheckResult
from initcheck.seeding import seed_sequence
from initcheck.simulation import Trace
from initcheck.specs import Law, Spec

Shape = tuple[int, ...]
HardCheck = Callable[["Samples"], CheckResult]
StatisticalCheck = Callable[["Samples", float], CheckResult]

#: Draws of each shape for the Haar test of orthogonal initializers.
HAAR_DRAWS = 8
#: The Haar test uses shapes of at most this many elements (a QR per draw).
HAAR_MAX_ELEMENTS = 2**16
#: KS tests use at most this many values per shape and pooled (evenly spaced). KS is the
#: omnibus for shape; scale errors are the sigma test's, which uses every value.
KS_MAX = 2**15
#: The probe shape of the checks that draw again is the one nearest this many elements.
PROBE_ELEMENTS = 4096


def label(shape: Shape) -> str:
    """A shape as reports print it: 3x3x64x128."""
    return "x".join(map(str, shape))


def _where(shape: Shape) -> dict[str, object]:
    return {"where": label(shape), "shape": list(shape)}


class Samples:
    """One verification's draws: every shape drawn once under its own seed, with the laws
    the claim gives them and the shared statistics, computed on first use."""

    def __init__(self, sampler: Adapter, claim: Spec, laws: dict[Shape, Law], seed: int,
                 dtype: np.dtype, options: PropagationOptions | None = None) -> None:
        self.sampler, self.claim, self.laws, self.seed = sampler, claim, laws, seed
        self.dtype, self.options = dtype, options
        self.family = claim.family
        #: Time spent in the initializer on draws beyond the main ones (repeat, Haar).
        self.extra_draw_seconds = 0.0
        self.trace: Trace | None = None
        self.tensors = {s: self.draw(s, "main") for s in laws}
        self._summary: dict[Shape, stats.Summary] = {}

    def relabelled(self, laws: dict[Shape, Law]) -> Samples:
        """The same draws judged against other laws (another convention of the claim)."""
        other = object.__new__(Samples)
        other.__dict__.update(self.__dict__, laws=laws, _summary={})
        return other

    def draw(self, shape: Shape, purpose: str, k: int = 0) -> np.ndarray:
        start = time.perf_counter()
        x = self.sampler.sample(shape, seed_sequence(self.seed, shape, purpose, k), self.dtype)
        if purpose != "main":
            self.extra_draw_seconds += time.perf_counter() - start
        return x

    @property
    def elements(self) -> int:
        return sum(x.size for x in self.tensors.values())

    def standardized(self, shape: Shape) -> np.ndarray:
        """(x - mean) / std of a shape's sample as float64, in its shape. Not kept: the
        checks that need it (cosines, spectrum) use it one shape at a time, so the working
        memory stays at one float64 copy of the largest tensor."""
        law = self.laws[shape]
        z = self.tensors[shape].astype(np.float64)
        z -= law.mean
        z /= law.std
        return z

    def summary(self, shape: Shape) -> stats.Summary:
        """The moment summary of a shape's sample (chunked), computed once for mean, std
        and tails."""
        if shape not in self._summary:
            self._summary[shape] = stats.summarize(self.tensors[shape], self.laws[shape])
        return self._summary[shape]

    def summaries(self) -> list[stats.Summary]:
        return [self.summary(s) for s in self.laws]

    def pit(self, shape: Shape) -> np.ndarray:
        """F(x) for at most KS_MAX evenly spaced elements (iid, so any fixed subset is a
        sample): uniform on (0, 1) under the claim."""
        return stats.cdf(stats.thin(self.tensors[shape].ravel(), KS_MAX), self.laws[shape])

    def probe_shape(self) -> Shape:
        """A mid-sized shape for checks that draw again (at least 2 elements if possible)."""
        return min(self.laws, key=lambda s: (math.prod(s) < 2,
                                             abs(math.log(math.prod(s) / PROBE_ELEMENTS))))


# ---------------------------------------------------------------------- which checks run


def plan(family: str, with_propagation: bool,
         dtype_asked: bool = True) -> tuple[list[HardCheck], list[StatisticalCheck]]:
    """The deterministic and the statistical checks that fit the claimed family (``dtype``
    only where a dtype was asked of the initializer)."""
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
            statistical.append(haar)
        else:
            statistical += [unit_correlation, spectrum]
        statistical.append(independent_calls)
    hard.append(reproducible)
    if with_propagation:
        statistical.append(propagation_check)
    return hard, statistical


def run(ctx: Samples, alpha: float) -> list[CheckResult]:
    """Every planned check, timed; only ``finite`` if a value is NaN or Inf (every
    statistic would be meaningless)."""
    first = _timed(finite, ctx)
    if not first.passed:
        return [first]
    hard, statistical = plan(ctx.family, ctx.options is not None, ctx.sampler.takes_dtype)
    share = alpha / max(1, len(statistical))
    return ([first] + [_timed(c, ctx) for c in hard]
            + [_timed(c, ctx, share) for c in statistical])


def _timed(check: Callable[..., CheckResult], *args: object) -> CheckResult:
    """Run a check and record its wall time in ``extra['seconds']`` (benchmarks read it)."""
    start = time.perf_counter()
    result = check(*args)
    return result.with_extra(seconds=time.perf_counter() - start)


def pooled_and_each(
    ctx: Samples,
    alpha: float,
    each: Callable[[Shape, float], CheckResult],
    pooled: Callable[[float], CheckResult] | None = None,
) -> CheckResult:
    """One test per shape, and the pooled test if given; Bonferroni over all of them.
    Pooling gives power for small errors; each shape alone catches an error confined to
    one shape (wrong only for small fans, a non-square kernel)."""
    shapes = list(ctx.laws)
    k = len(shapes) + (1 if pooled is not None and len(shapes) > 1 else 0)
    share = alpha / k
    results: list[tuple[Shape | None, CheckResult]] = [(s, each(s, share)) for s in shapes]
    if k > len(shapes):
        results.insert(0, (None, pooled(share)))
    head = results[0][1]
    where, worst = min(results, key=lambda r: r[1].pvalue)
    p = min(1.0, worst.pvalue * k)
    text = "pooled" if where is None else label(where)
    return CheckResult(
        name=head.name, passed=p >= alpha, statistic=worst.statistic, threshold=worst.threshold,
        pvalue=p, alpha=alpha, n=sum(r.n for s, r in results if s is not None), mde=head.mde,
        detail=f"{text}: {worst.detail}", observed=worst.observed, expected=worst.expected,
        extra={"where": text, "shape": list(where) if where else None, "tests": k})


def _hard_merge(name: str, results: list[tuple[Shape, CheckResult]], ok_detail: str,
                clean: float = math.nan) -> CheckResult:
    """One deterministic check over all shapes: the first failing shape, or a pass
    (``clean`` is the observed and expected value a pass reports)."""
    n = sum(r.n for _, r in results)
    for s, r in results:
        if not r.passed:
            return CheckResult.hard(name, False, n=n, statistic=r.statistic,
                                    threshold=r.threshold, detail=f"{label(s)}: {r.detail}",
                                    observed=r.observed, expected=r.expected, extra=_where(s))
    return CheckResult.hard(name, True, n=n, detail=ok_detail, observed=clean, expected=clean)


# --------------------------------------------------------------------------- hard checks


def finite(ctx: Samples) -> CheckResult:
    return _hard_merge("finite", [(s, stats.finite(x)) for s, x in ctx.tensors.items()],
                       "every value finite", clean=0.0)


def dtype(ctx: Samples) -> CheckResult:
    wrong = {s: x.dtype for s, x in ctx.tensors.items() if x.dtype != ctx.dtype}
    if wrong:
        s, got = next(iter(wrong.items()))
        return CheckResult.hard("dtype", False, n=ctx.elements, statistic=1.0,
                                detail=f"asked for {ctx.dtype}, got {got} (shape {s}): the"
                                       " initializer ignores dtype", extra=_where(s))
    return CheckResult.hard("dtype", True, n=ctx.elements, detail=f"all {ctx.dtype}")


def support(ctx: Samples) -> CheckResult:
    results = [(s, stats.support(x, ctx.laws[s])) for s, x in ctx.tensors.items()]
    return _hard_merge("support", results, f"all {len(results)} shapes inside the claimed support")


def distinct_units(ctx: Samples) -> CheckResult:
    return stats.duplicates([(label(s), x) for s, x in ctx.tensors.items()])


def reproducible(ctx: Samples) -> CheckResult:
    s = ctx.probe_shape()
    r = stats.equal(ctx.tensors[s], ctx.draw(s, "main"), should_be=True, name="reproducible",
                    what=f"two draws with the same seed, shape {s}")
    return r if r.passed else r.with_extra(**_where(s))


def orthonormal(ctx: Samples) -> CheckResult:
    lay = ctx.sampler.layout
    return stats.orthonormality([(label(s), stats.unit_matrix(x, lay.unit_axes(len(s))),
                                  ctx.laws[s].gain) for s, x in ctx.tensors.items()])


# -------------------------------------------------------------------- statistical checks


def mean(ctx: Samples, alpha: float) -> CheckResult:
    return pooled_and_each(ctx, alpha, lambda s, a: stats.mean_test([ctx.summary(s)], a),
                           lambda a: stats.mean_test(ctx.summaries(), a))


def std(ctx: Samples, alpha: float) -> CheckResult:
    test = stats.sigma_chi2_test if ctx.family == "normal" else stats.sigma_moment_test
    return pooled_and_each(ctx, alpha, lambda s, a: test([ctx.summary(s)], a),
                           lambda a: test(ctx.summaries(), a))


def distribution(ctx: Samples, alpha: float) -> CheckResult:
    """KS of each shape (at most KS_MAX values) and of all shapes pooled through the
    probability transform: the omnibus for the shape of the distribution."""
    u = {s: ctx.pit(s) for s in ctx.laws}
    return pooled_and_each(
        ctx, alpha, lambda s, a: stats.ks_uniform(u[s], a),
        lambda a: stats.ks_uniform(stats.thin(np.concatenate(list(u.values())), KS_MAX), a))


def edge(ctx: Samples, alpha: float) -> CheckResult:
    """The exact edge test pooled in probability space: only each shape's extremes matter.
    Each extreme is widened to the edge of its rounding cell in the sample's dtype (a
    float16 grid cannot reach every real bound), which keeps it conservative."""
    lows, highs = [], []
    for s, x in ctx.tensors.items():
        lo, hi = float(x.min()), float(x.max())
        if x.dtype.itemsize < 8:
            lo = (stats.neighbours(lo, x.dtype)[0] + lo) / 2
            hi = (hi + stats.neighbours(hi, x.dtype)[1]) / 2
        u = stats.cdf(np.array([lo, hi]), ctx.laws[s])
        lows.append(u[0])
        highs.append(u[1])
    return stats.edge_from_extremes(float(min(lows)), float(max(highs)), ctx.elements, alpha)


def atoms(ctx: Samples, alpha: float) -> CheckResult:
    return pooled_and_each(ctx, alpha, lambda s, a: stats.atoms(ctx.tensors[s], ctx.laws[s], a))


def tails(ctx: Samples, alpha: float) -> CheckResult:
    return stats.tails_test(ctx.summaries(), alpha)


def unit_correlation(ctx: Samples, alpha: float) -> CheckResult:
    groups = []
    for s in ctx.laws:
        z = ctx.standardized(s)  # cosines ignore the scale
        for axis in range(z.ndim):
            groups.append((f"{label(s)} axis {axis}", stats.slices(z, axis, stats.MAX_SLICES)))
    return stats.max_cosine(groups, alpha)


def spectrum(ctx: Samples, alpha: float) -> CheckResult:
    def matrices():  # one standardized matrix at a time
        for s in ctx.laws:
            if len(s) >= 2:
                m = stats.unit_matrix(ctx.standardized(s), ctx.sampler.layout.unit_axes(len(s)))
                if min(m.shape) >= 2:
                    yield label(s), m
    return stats.spectrum(matrices(), alpha)


def haar(ctx: Samples, alpha: float) -> CheckResult:
    lay = ctx.sampler.layout
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
                       observed=1.0, expected=0.0, extra=_where(s))
    return stats.pair_cosine(a, b, law.mean, alpha, label=f"{label(s)} call 1 vs 2")


def propagation_check(ctx: Samples, alpha: float) -> CheckResult:
    """Forward and backward variance through a deep net (``initcheck.propagation``)."""
    result, ctx.trace = propagation.check(ctx.sampler, ctx.claim, ctx.options, alpha, ctx.seed)
    return result
