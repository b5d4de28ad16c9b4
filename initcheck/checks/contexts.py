"""The contexts checks run over, and the ways their results combine. ``Tensors``: fixed
tensors under one claim, keyed by a label (``check_tensor``, ``check_model``), with the
statistics the checks share computed once; ``Samples``: a verification's own draws, keyed by
shape, which checks may draw again. ``pooled_and_each`` runs a test on every tensor alone
and on all pooled, Bonferroni over them; ``hard_merge`` merges a deterministic check."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping
from typing import TypeVar, cast

import numpy as np

from initcheck import stats
from initcheck.claims.laws import normal_law, on_grid
from initcheck.claims.specs import Law, Spec
from initcheck.core.contract import Adapter
from initcheck.core.fans import Layout
from initcheck.core.results import CheckResult
from initcheck.core.seeding import seed_sequence
from initcheck.propagation.property import PropagationOptions
from initcheck.propagation.report import Trace
from initcheck.sharding.array import LOCAL, Exchange, ShardedArray, as_sharded
from initcheck.sharding.merge import all_unit_sums, summaries, take_all
from initcheck.stats.thinning import spaced

Shape = tuple[int, ...]
#: What a context keys its tensors by: the shape (verify) or the tensor's name (models).
Key = Hashable
Part = TypeVar("Part")
Data = TypeVar("Data")

#: KS tests use at most this many values per shape and pooled (evenly spaced). KS is the
#: omnibus for shape; scale errors are the sigma test's, which uses every value.
KS_MAX = 2**15
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

    def __init__(
        self,
        claim: Spec,
        tensors: dict[Key, np.ndarray | ShardedArray],
        laws: dict[Key, Law],
        layout: Layout,
    ) -> None:
        self.claim, self.family, self.layout = claim, claim.family, layout
        self.tensors = tensors
        self.laws = self._on_grid(laws)
        self.options: PropagationOptions | None = None
        self.takes_dtype = False
        self._summary: dict[Key, stats.Summary] = {}
        self._units: dict[Key, stats.UnitSums] = {}
        self._samples: dict[Key, np.ndarray] = {}
        #: each whole tensor's own sums (under N(0, 1)), shared with its relabelled copies:
        #: a zero-mean law's summary is them rescaled, without reading the tensor again
        self._raw: dict[Key, stats.Summary] = {}

    def relabelled(self, laws: dict[Key, Law]) -> Tensors:
        """The same tensors judged against other laws (another convention of the claim)."""
        other = object.__new__(type(self))
        other.__dict__.update(self.__dict__, laws=self._on_grid(laws), _summary={}, _units={})
        return other

    def _on_grid(self, laws: dict[Key, Law]) -> dict[Key, Law]:
        """A tensor whose dtype's grid is coarse against its claim holds the rounded law
        (``laws.on_grid``): N(1, 0.02^2) in bfloat16 is judged as bfloat16 can hold it."""
        return {k: on_grid(law, self.tensors[k].dtype) if k in self.tensors else law
                for k, law in laws.items()}

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
        """The moment summary of a tensor (chunked), computed once for mean, std and tails;
        every tensor's at the first call (sharded ones merged in one collective)."""
        if key not in self._summary:
            keys = [k for k in self.laws if k not in self._summary]
            scaled = [k for k in keys if self.laws[k].mean == 0
                      and isinstance(self.tensors[k], np.ndarray)]
            for k in scaled:
                self._summary[k] = self._rescaled(k)
            keys = [k for k in keys if k not in self._summary]
            found = summaries(
                [as_sharded(self.tensors[k]) for k in keys], [self.laws[k] for k in keys]
            )
            self._summary.update(zip(keys, found))
        return self._summary[key]

    def _rescaled(self, key: Key) -> stats.Summary:
        """The summary under a zero-mean law, from the tensor's own sums read once."""
        cache: dict[Key, stats.Summary] = self.__dict__.setdefault("_raw", {})
        if key not in cache:
            cache[key] = stats.summarize(np.asarray(self.tensors[key]), normal_law(0.0, 1.0))
        raw, law = cache[key], self.laws[key]
        s = law.std
        return stats.Summary(raw.n, raw.total / s, raw.squares / s**2, raw.max_abs / s,
                             law.kurtosis, raw.fourth / s**4)

    def summaries(self) -> list[stats.Summary]:
        return [self.summary(s) for s in self.laws]

    def units(self, key: Key) -> stats.UnitSums | None:
        """Per-unit sums of a tensor of rank >= 2 (None for a vector), computed once for the
        unit mean and unit scale checks; every tensor's at the first call."""
        if self.tensors[key].ndim < 2:
            return None
        if key not in self._units:
            keys = [k for k in self.laws if k not in self._units and self.tensors[k].ndim >= 2]
            found = all_unit_sums([as_sharded(self.tensors[k]) for k in keys],
                                  [self.layout.unit_axes(self.tensors[k].ndim) for k in keys],
                                  [self.laws[k] for k in keys])
            self._units.update(zip(keys, found))
        return self._units[key]

    def pit(self, key: Key) -> np.ndarray:
        """F(x) for at most KS_MAX evenly spaced elements (iid, so any fixed subset is a
        sample): uniform on (0, 1) under the claim."""
        return stats.cdf(self.sample(key), self.laws[key])

    def sample(self, key: Key) -> np.ndarray:
        """At most KS_MAX evenly spaced elements (``thinning.spaced``), read once: the
        distribution and resolution checks share it; every tensor's at the first call (a
        sharded tensor's travel once, all together)."""
        if key not in self._samples:
            keys = [k for k in self.tensors if k not in self._samples]
            arrays = [as_sharded(self.tensors[k]) for k in keys]
            found = take_all(arrays, [spaced(a.size, KS_MAX) for a in arrays])
            self._samples.update(zip(keys, found))
        return self._samples[key]

    def spread(self, read: Callable[[Key, int | None], Data | None],
               judge: Callable[[Key, Data | None], Part],
               cost: Callable[[Key], float]) -> dict[Key, Part]:
        """``judge(key, read(key, to))`` of every tensor: a check's bounded work on each
        tensor (``read`` gathers its chosen values, ``judge`` reduces them to a small part;
        ``cost``: how many values it reads). Tensors sharded over the ranks of one exchange
        are shared out: each is read on and judged by one rank ``to`` (``read`` returns None
        on the others), costliest first to the least loaded rank. They go in rounds of one
        tensor per rank, read first, then judged by all ranks at once, so the ranks work in
        parallel and each holds one tensor's values; the parts travel in one collective.
        Other tensors: every rank alike (``to`` None)."""
        owners, exchange = self._owners(cost)
        done: dict[Key, Part] = {}
        for key in self.tensors:
            if key not in owners:
                done[key] = judge(key, read(key, None))
        queues = [[k for k in owners if owners[k] == r] for r in range(exchange.size)]
        for j in range(max(map(len, queues), default=0)):
            held = {q[j]: read(q[j], owners[q[j]]) for q in queues if j < len(q)}
            done.update(
                {k: judge(k, data) for k, data in held.items() if owners[k] == exchange.rank}
            )
            del held
        if owners:
            for shared in (
                exchange.gather({k: done[k] for k, r in owners.items() if r == exchange.rank}) or []
            ):
                done.update(shared)
        return {key: done[key] for key in self.tensors}

    def _owners(self, cost: Callable[[Key], float]) -> tuple[dict[Key, int], Exchange]:
        """The rank that works on each tensor sharded over the one exchange with several
        ranks (empty when there is none, or more than one)."""
        sharded = {k: x for k, x in self.tensors.items()
                   if isinstance(x, ShardedArray) and x.exchange.size > 1}
        exchanges = {x.exchange for x in sharded.values()}
        if len(exchanges) != 1:
            return {}, LOCAL
        exchange = exchanges.pop()
        load: list[float] = [0.0] * exchange.size
        owners: dict[Key, int] = {}
        for key in sorted(sharded, key=lambda k: -cost(k)):  # stable: the same on every rank
            owners[key] = load.index(min(load))
            load[owners[key]] += cost(key)
        return owners, exchange


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
        keyed = cast("dict[Key, Law]", laws)  # a verification's keys are its shapes
        super().__init__(claim, {s: self.draw(s, "main") for s in laws}, keyed, sampler.layout)
        self.options, self.takes_dtype = options, sampler.takes_dtype

    def label(self, key: Key) -> str:
        return label(cast(Shape, key))

    def shape(self, key: Key) -> Shape:
        return cast(Shape, key)

    @property
    def shapes(self) -> list[Shape]:
        """The shapes drawn (a verification's keys)."""
        return [cast(Shape, s) for s in self.laws]

    def array(self, shape: Shape) -> np.ndarray:
        """The main draw of ``shape`` (drawn whole, never sharded)."""
        return np.asarray(self.tensors[shape])

    def draw(self, shape: Shape, purpose: str, k: int = 0) -> np.ndarray:
        start = time.perf_counter()
        x = self.sampler.sample(shape, seed_sequence(self.seed, shape, purpose, k), self.dtype)
        if purpose != "main":
            self.extra_draw_seconds += time.perf_counter() - start
        return x

    def probe_shape(self) -> Shape:
        """A mid-sized shape for checks that draw again (at least 2 elements if possible)."""
        return min(self.shapes, key=lambda s: (math.prod(s) < 2,
                                             abs(math.log(math.prod(s) / PROBE_ELEMENTS))))



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
    if k > len(keys) and pooled is not None:
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


def hard_merge(ctx: Tensors, name: str, results: list[tuple[Key, CheckResult]], ok_detail: str,
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


def standardize(x: np.ndarray, law: Law, *, reuse: bool = False) -> np.ndarray:
    """(x - mean) / std, float32 for inputs of 4 bytes or fewer per element (the statistics
    that use it need no more), else float64: a new array, or ``x`` itself overwritten where
    ``reuse`` says it is a working copy no one else reads and already in that dtype."""
    dtype = np.float32 if x.dtype.itemsize <= 4 else np.float64
    z = x if reuse and x.dtype == dtype else x.astype(dtype)
    z -= law.mean
    z /= law.std
    return z


def sums_each(ctx: Tensors, alpha: float, parts: Mapping[Key, object],
               test: Callable[..., CheckResult]) -> CheckResult:
    """``pooled_and_each`` for a test over per-tensor sums: each tensor's sums are computed
    once, and the pooled test adds them up. Tensors the test cannot judge (None) drop out."""
    parts = {s: p for s, p in parts.items() if p is not None}
    if not parts:
        return test([], alpha)
    sub = ctx.relabelled({s: ctx.laws[s] for s in parts})
    return pooled_and_each(sub, alpha, lambda s, a: test([parts[s]], a),
                           lambda a: test(list(parts.values()), a))
