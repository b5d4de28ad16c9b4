"""``verify``: does an initializer draw what it claims? Orchestrates shapes x checks under
one family-wise false-alarm budget (Bonferroni), with every sample drawn from a seed derived
from (seed, shape, purpose), so a verdict, and a false alarm, reproduce exactly.

Budget: ``alpha`` is split evenly over the statistical checks that run; a check that pools
tensors and also tests each one alone splits its share again over those S + 1 tests.
Deterministic checks (finite, dtype, support, duplicates, reproducibility, orthonormality)
spend no alpha: they cannot fail on a correct initializer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from initcheck import _validate, propagation, stats
from initcheck.activations import get as get_activation
from initcheck.adapters import Adapter, InitializerError, adapter
from initcheck.fans import LAYOUTS, Layout
from initcheck.initializers import Initializer
from initcheck.report import Report
from initcheck.seeding import seed_sequence
from initcheck.specs import Law, Spec, spec as make_spec
from initcheck.stats import CheckResult
from initcheck.strategies import Layer

DEFAULT_ALPHA = 1e-6
#: The default shapes, as layers: large dense tensors for power, non-square dense, square and
#: non-square conv kernels in 1d/2d/3d, and small fans (< 32) where fan mistakes hide.
#: About 870k elements: a relative sigma error of 0.7% is detected with power 0.99.
DEFAULT_LAYERS: tuple[Layer, ...] = (
    Layer(1024, 512),
    Layer(256, 1000),
    Layer(64, 128, (3, 3)),
    Layer(32, 16, (1, 5)),
    Layer(48, 24, (7,)),
    Layer(8, 16, (3, 3, 3)),
    Layer(7, 3),
    Layer(16, 24),
    Layer(5, 31, (2, 2)),
)
#: A bias-like vector, tested where the spec needs no fans.
DEFAULT_VECTOR = (64,)
#: Draws of each shape for the Haar test of orthogonal initializers.
HAAR_DRAWS = 8
#: KS tests use at most this many values per shape and pooled (evenly spaced). KS is the
#: omnibus for shape; scale errors are the sigma test's, which uses every value.
KS_MAX = 2**15


def _label(shape: tuple[int, ...]) -> str:
    """A shape as reports print it: 3x3x64x128."""
    return "x".join(map(str, shape))


def default_shapes(spec: Spec, layout: Layout, *, vectors: str | None = None,
                   samples: int | None = None) -> list[tuple[int, ...]]:
    """The default shapes for ``spec`` in ``layout`` (grouped and transposed layouts get
    conv layers with channel counts divisible by the groups). ``samples`` rescales the two
    large dense layers so that about that many elements are drawn in all (power control)."""
    style = "torch" if (layout.in_axis, layout.out_axis) == (1, 0) else "keras"
    layers = list(DEFAULT_LAYERS)
    if samples is not None:
        samples = _validate.integer("samples", samples, minimum=1000)
        big = layers[:2]
        rest = sum(math.prod(l.weight_shape()) for l in layers[2:])
        scale = max(samples - rest, 1000) / sum(math.prod(l.weight_shape()) for l in big)
        layers[:2] = [l._replace(out_channels=max(1, round(l.out_channels * scale))) for l in big]
    out = []
    for layer in layers:
        if layout.groups > 1 or layout.transposed:
            if not layer.kernel:
                continue
            g = layout.groups
            layer = Layer(layer.in_channels * g, layer.out_channels * g, layer.kernel, g,
                          layout.transposed)
        out.append(layer.weight_shape(style))
    if spec.family != "orthogonal" and (not spec.needs_fans or vectors == "length"):
        out.append(DEFAULT_VECTOR)
    return out


def _resolve_spec(initializer: Any, expect: Any) -> Spec:
    if expect is not None:
        if isinstance(expect, (str, Spec)):
            return make_spec(expect)
        raise ValueError(
            f"expect={expect!r} is not a spec. Pass a name ('he_normal'), initcheck.spec(name,"
            " **params) or a Spec.")
    if isinstance(initializer, Initializer):
        return initializer.spec
    raise ValueError(
        f"{getattr(initializer, '__qualname__', initializer)!r} carries no spec: say what it"
        " claims with expect='he_normal' or expect=initcheck.spec('he_normal', mode='fan_out').")


def verify(
    initializer: Any,
    *,
    expect: str | Spec | None = None,
    framework: str = "auto",
    layout: str | Layout | None = None,
    shapes: Sequence[tuple[int, ...]] | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    dtype: Any = np.float32,
    convention: str | None = None,
    name: str | None = None,
    activation: Any = None,
    depth: int = propagation.DEFAULT_DEPTH,
    width: int = propagation.DEFAULT_WIDTH,
    batch: int = propagation.DEFAULT_BATCH,
    bias: float = 0.0,
    samples: int | None = None,
) -> Report:
    """Check that ``initializer`` samples the distribution it claims, on every shape.

    ``initializer`` is an initcheck ``Initializer`` (it carries its spec) or a callable
    ``fn(shape, rng[, dtype])`` with ``expect`` naming the spec. ``alpha`` is the family-wise
    false-alarm budget of the whole call. Returns a ``Report``; bad input raises ValueError,
    an initializer that breaks its contract raises ``InitializerError``.

    With ``activation``, the ``propagation`` property is checked too: through ``depth``
    layers of ``width`` units (``batch`` inputs, bias std ``bias``), forward and backward
    variance neither vanish nor explode (see ``initcheck.propagation``). ``samples`` sets
    how many elements the default shapes hold (power: the sigma MDE scales as 1/sqrt).
    """
    alpha = stats.check_alpha(alpha)
    seed = _validate.integer("seed", seed, minimum=0)
    dt = _validate.float_dtype(dtype)
    claim = _resolve_spec(initializer, expect)
    if layout is not None and not isinstance(layout, Layout):
        _validate.choice("layout", layout, LAYOUTS)
    sampler = adapter(initializer, framework=framework, layout=layout, name=name)
    if isinstance(initializer, Initializer):
        conv = convention or initializer.convention
        vectors = initializer.vectors
    else:
        conv, vectors = convention or "logical", None
    if shapes is None:
        shape_list = default_shapes(claim, sampler.layout, vectors=vectors, samples=samples)
    else:
        if samples is not None:
            raise ValueError("pass either shapes or samples: samples rescales the default shapes.")
        if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Sequence) or not shapes:
            raise ValueError(f"shapes={shapes!r}: pass a non-empty list of shapes, e.g. [(784, 256)].")
        shape_list = [_validate.shape(s) for s in shapes]

    laws = {}
    for shape in shape_list:
        try:
            laws[shape] = claim.law(shape, sampler.layout, convention=conv, vectors=vectors)
        except ValueError as exc:
            raise ValueError(f"expect={claim!r} does not fit shape {shape}: {exc}") from None

    start = time.perf_counter()
    deep = None
    if activation is not None:
        act = get_activation(activation)
        deep = dict(activation=act, depth=_validate.integer("depth", depth, minimum=2),
                    width=_validate.integer("width", width), batch=_validate.integer("batch", batch),
                    bias=_validate.real("bias", bias))
    run = _Run(sampler, claim, laws, seed, alpha, dt, deep)
    drawn = time.perf_counter() - start
    report = Report(sampler.name, sampler.framework, sampler.layout.name, repr(claim), seed, alpha,
                    str(dt), list(shape_list))
    report.checks = run.checks()
    if run.trace is not None:
        report.meta["trace"] = run.trace
    report.meta["draw_seconds"] = drawn + run.extra_draw_seconds
    report.meta["elements"] = sum(x.size for x in run.samples.values())
    return report


class _Run:
    """One verification: draws once, then runs the checks that fit the claimed family."""

    def __init__(self, sampler: Adapter, claim: Spec, laws: dict, seed: int, alpha: float,
                 dtype: np.dtype, deep: dict | None = None) -> None:
        self.sampler, self.claim, self.laws, self.seed = sampler, claim, laws, seed
        self.deep = deep
        self.trace = None
        self.alpha, self.dtype = alpha, dtype
        self.family = claim.family
        self.samples = {s: self.draw(s, "main") for s in laws}
        self._standard: dict[tuple[int, ...], tuple[np.ndarray, Law]] = {}
        self._summary: dict[tuple[int, ...], stats.Summary] = {}

    extra_draw_seconds = 0.0

    def draw(self, shape: tuple[int, ...], purpose: str, k: int = 0) -> np.ndarray:
        start = time.perf_counter()
        x = self.sampler.sample(shape, seed_sequence(self.seed, shape, purpose, k), self.dtype)
        if purpose != "main":
            self.extra_draw_seconds += time.perf_counter() - start
        return x

    # ---------------------------------------------------------------- which checks run

    def plan(self) -> tuple[list[Callable[[], CheckResult]], list[Callable[[float], CheckResult]]]:
        """The deterministic and the statistical checks that fit the claimed family."""
        f = self.family
        hard: list[Callable[[], CheckResult]] = [self.dtype_check]
        statistical: list[Callable[[float], CheckResult]] = []
        if f != "normal":
            hard.append(self.support)
        if f != "constant":
            hard.append(self.distinct_units)
            statistical += [self.mean]
            if f != "orthogonal":
                statistical += [self.std]
            statistical += [self.distribution]
            if f in ("uniform", "truncated_normal"):
                statistical += [self.edge, self.atoms]
            if f == "normal":
                statistical += [self.tails]
            if f == "orthogonal":
                hard.append(self.orthonormal)
                statistical += [self.haar]
            else:
                statistical += [self.unit_correlation, self.spectrum]
            statistical += [self.independent_calls]
        hard.append(self.reproducible)
        if self.deep is not None:
            statistical.append(self.propagation)
        return hard, statistical

    def checks(self) -> list[CheckResult]:
        finite = self.timed(self.finite)
        if not finite.passed:  # NaN/Inf: every statistic would be meaningless
            return [finite]
        hard, statistical = self.plan()
        share = self.alpha / max(1, len(statistical))
        return ([finite] + [self.timed(c) for c in hard]
                + [self.timed(c, share) for c in statistical])

    @staticmethod
    def timed(check: Callable[..., CheckResult], *args: float) -> CheckResult:
        """Run a check and record its wall time in ``extra['seconds']`` (benchmarks read it)."""
        start = time.perf_counter()
        result = check(*args)
        result.extra["seconds"] = time.perf_counter() - start
        return result

    # ------------------------------------------------------------------------ helpers

    def standardized(self, shape: tuple[int, ...]) -> tuple[np.ndarray, Law]:
        """(x - mean) / std as flat float64, with the law rescaled to match; computed once."""
        if shape not in self._standard:
            law = self.laws[shape]
            z = (self.samples[shape].astype(np.float64).ravel() - law.mean) / law.std
            zlaw = Law(law.family, 0.0, 1.0, (law.low - law.mean) / law.std,
                       (law.high - law.mean) / law.std, law.kurtosis)
            self._standard[shape] = (z, zlaw)
        return self._standard[shape]

    def summary(self, shape: tuple[int, ...]) -> stats.Summary:
        """The moment summary of a shape's sample, computed once for mean, std and tails."""
        if shape not in self._summary:
            self._summary[shape] = stats.summarize(*self.standardized(shape))
        return self._summary[shape]

    def summaries(self) -> list[stats.Summary]:
        return [self.summary(s) for s in self.laws]

    def pooled_and_each(
        self,
        alpha: float,
        each: Callable[[tuple[int, ...], float], CheckResult],
        pooled: Callable[[float], CheckResult] | None = None,
    ) -> CheckResult:
        """One test per shape, and the pooled test if given; Bonferroni over all of them.
        Pooling gives power for small errors; each shape alone catches an error confined to
        one shape (wrong only for small fans, a non-square kernel)."""
        shapes = list(self.laws)
        k = len(shapes) + (1 if pooled is not None and len(shapes) > 1 else 0)
        share = alpha / k
        results = [(s, each(s, share)) for s in shapes]
        if k > len(shapes):
            results.insert(0, (None, pooled(share)))
        head = results[0][1]
        where, worst = min(results, key=lambda r: r[1].pvalue)
        p = min(1.0, worst.pvalue * k)
        label = "pooled" if where is None else _label(where)
        extra = {"where": label, "shape": list(where) if where else None, "tests": k}
        return CheckResult(head.name, p >= alpha, worst.statistic, worst.threshold, p, alpha,
                           sum(r.n for s, r in results if s is not None), head.mde,
                           f"{label}: {worst.detail}", observed=worst.observed,
                           expected=worst.expected, extra=extra)

    # ------------------------------------------------------------------ hard checks

    def finite(self) -> CheckResult:
        return self._hard_merge("finite", [(s, stats.finite(x)) for s, x in self.samples.items()],
                                "every value finite", clean=0.0)

    def dtype_check(self) -> CheckResult:
        wrong = {s: x.dtype for s, x in self.samples.items() if x.dtype != self.dtype}
        n = sum(x.size for x in self.samples.values())
        if wrong:
            s, got = next(iter(wrong.items()))
            return CheckResult("dtype", False, 1.0, 0.0, 0.0, 0.0, n, math.nan,
                               f"asked for {self.dtype}, got {got} (shape {s}): the initializer"
                               " ignores dtype", extra={"where": _label(s), "shape": list(s)})
        return CheckResult("dtype", True, 0.0, 0.0, 1.0, 0.0, n, math.nan, f"all {self.dtype}")

    def support(self) -> CheckResult:
        results = [(s, stats.support(x, self.laws[s])) for s, x in self.samples.items()]
        return self._hard_merge("support", results,
                                f"all {len(results)} shapes inside the claimed support")

    def distinct_units(self) -> CheckResult:
        return stats.duplicates([(_label(s), x) for s, x in self.samples.items()])

    def reproducible(self) -> CheckResult:
        s = self._probe_shape()
        again = self.draw(s, "main")
        r = stats.equal(self.samples[s], again, should_be=True, name="reproducible",
                        what=f"two draws with the same seed, shape {s}")
        if not r.passed:
            r.extra.update(where=_label(s), shape=list(s))
        return r

    def orthonormal(self) -> CheckResult:
        items = [(_label(s), stats.unit_matrix(x, self.sampler.layout.out_axis),
                  self.laws[s].gain) for s, x in self.samples.items()]
        return stats.orthonormality(items)

    @staticmethod
    def _hard_merge(name: str, results: list, ok_detail: str, clean: float = math.nan) -> CheckResult:
        """One deterministic check over all shapes: the first failing shape, or a pass
        (``clean`` is the observed and expected value a pass reports)."""
        n = sum(r.n for _, r in results)
        for s, r in results:
            if not r.passed:
                return CheckResult(name, False, r.statistic, r.threshold, 0.0, 0.0, n, math.nan,
                                   f"{_label(s)}: {r.detail}", observed=r.observed,
                                   expected=r.expected,
                                   extra={"where": _label(s), "shape": list(s)})
        return CheckResult(name, True, 0.0, 0.0, 1.0, 0.0, n, math.nan, ok_detail,
                           observed=clean, expected=clean)

    def _probe_shape(self) -> tuple[int, ...]:
        """A mid-sized shape for checks that draw again (at least 2 elements if possible)."""
        ordered = sorted(self.laws, key=lambda s: (math.prod(s) < 2, abs(math.log(math.prod(s) / 4096))))
        return ordered[0]

    # ----------------------------------------------------------- statistical checks

    def mean(self, alpha: float) -> CheckResult:
        return self.pooled_and_each(alpha, lambda s, a: stats.mean_test([self.summary(s)], a),
                                    lambda a: stats.mean_test(self.summaries(), a))

    def std(self, alpha: float) -> CheckResult:
        test = stats.sigma_chi2_test if self.family == "normal" else stats.sigma_moment_test
        return self.pooled_and_each(alpha, lambda s, a: test([self.summary(s)], a),
                                    lambda a: test(self.summaries(), a))

    def pit(self, shape: tuple[int, ...]) -> np.ndarray:
        """F(x) for at most KS_MAX evenly spaced elements (iid, so any fixed subset is a
        sample): uniform on (0, 1) under the claim."""
        return stats.cdf(stats.thin(self.samples[shape].ravel(), KS_MAX), self.laws[shape])

    def distribution(self, alpha: float) -> CheckResult:
        """KS of each shape (at most KS_MAX values) and of all shapes pooled through the
        probability transform: the omnibus for the shape of the distribution."""
        u = {s: self.pit(s) for s in self.laws}
        return self.pooled_and_each(
            alpha, lambda s, a: stats.ks_uniform(u[s], a),
            lambda a: stats.ks_uniform(stats.thin(np.concatenate(list(u.values())), KS_MAX), a))

    def edge(self, alpha: float) -> CheckResult:
        """The exact edge test pooled in probability space: only each shape's extremes
        matter. Each extreme is widened to the edge of its rounding cell in the sample's
        dtype (a float16 grid cannot reach every real bound), which keeps it conservative."""
        lows, highs = [], []
        for s, x in self.samples.items():
            lo, hi = float(x.min()), float(x.max())
            if x.dtype.itemsize < 8:
                lo = (stats.neighbours(lo, x.dtype)[0] + lo) / 2
                hi = (hi + stats.neighbours(hi, x.dtype)[1]) / 2
            u = stats.cdf(np.array([lo, hi]), self.laws[s])
            lows.append(u[0])
            highs.append(u[1])
        n = sum(x.size for x in self.samples.values())
        return stats.edge_from_extremes(float(min(lows)), float(max(highs)), n, alpha)

    def atoms(self, alpha: float) -> CheckResult:
        return self.pooled_and_each(alpha, lambda s, a: stats.atoms(self.samples[s], self.laws[s], a))

    def tails(self, alpha: float) -> CheckResult:
        return stats.tails_test(self.summaries(), alpha)

    def unit_correlation(self, alpha: float) -> CheckResult:
        groups = []
        for s in self.laws:
            z = self.standardized(s)[0].reshape(s)  # cosines ignore the scale
            for axis in range(z.ndim):
                groups.append((f"{_label(s)} axis {axis}",
                               stats.slices(z, axis, stats.MAX_SLICES)))
        return stats.max_cosine(groups, alpha)

    def spectrum(self, alpha: float) -> CheckResult:
        mats = []
        out_axis = self.sampler.layout.out_axis
        for s in self.laws:
            if len(s) < 2 or min(s[out_axis % len(s)], math.prod(s) // s[out_axis % len(s)]) < 2:
                continue
            mats.append((_label(s),
                         stats.unit_matrix(self.standardized(s)[0].reshape(s), out_axis)))
        return stats.spectrum(mats, alpha)

    def haar(self, alpha: float) -> CheckResult:
        out_axis = self.sampler.layout.out_axis
        shapes = [s for s in self.laws if len(s) >= 2 and math.prod(s) <= 2**16] or [
            min(self.laws, key=math.prod)]
        mats, gain = [], self.laws[shapes[0]].gain
        for s in shapes:
            for k in range(HAAR_DRAWS):
                mats.append(stats.unit_matrix(self.draw(s, "haar", k), out_axis))
        return stats.haar(mats, gain, alpha)

    def propagation(self, alpha: float) -> CheckResult:
        """Forward and backward variance through a deep net (``initcheck.propagation``)."""
        d = self.deep
        result, self.trace = propagation.check(
            self.sampler, self.claim, d["activation"], alpha, self.seed, depth=d["depth"],
            width=d["width"], batch=d["batch"], bias=d["bias"])
        return result

    def independent_calls(self, alpha: float) -> CheckResult:
        """Two fresh seeds must give different, uncorrelated tensors: seed reuse across calls
        (a sampler ignoring its rng, a cached tensor) fails here."""
        s = self._probe_shape()
        a, law = self.samples[s], self.laws[s]
        b = self.draw(s, "independent")
        same = stats.equal(a, b, should_be=False, name="independent_calls",
                           what=f"two draws with different seeds, shape {s}")
        if not same.passed:
            same = CheckResult(same.name, False, 1.0, 0.0, 0.0, alpha, same.n, math.nan,
                               same.detail + ": the initializer ignores its seed or reuses one",
                               observed=1.0, expected=0.0,
                               extra={"where": _label(s), "shape": list(s)})
            return same
        pair = np.stack([(a.astype(np.float64) - law.mean).ravel(),
                         (b.astype(np.float64) - law.mean).ravel()])
        r = stats.max_cosine([(f"{_label(s)} call 1 vs 2", pair)], alpha,
                             name="independent_calls")
        return r


__all__ = ["DEFAULT_ALPHA", "DEFAULT_LAYERS", "InitializerError", "default_shapes", "verify"]
