"""``identify``: what does this initializer (or tensor) actually draw? A search over a
structured space of claims, each fitted to the samples and then put to the same tests a
claim faces in ``verify`` (mean, std, distribution, and support and edge for bounded
families); only candidates those tests accept are named.

The space: families (normal; uniform; truncated normal at +-2 std with jax's and keras's
variance correction and without it, torch's ``trunc_normal_``; orthogonal; constant);
scale = gain^2 / fan with fan in fan_in, fan_out, fan_avg, fan_geo_avg, or no fan; fans by
the logical, torch and keras conventions, in the layout given and in the other one (torch
vs keras confusion), with the receptive field ignored or a square kernel assumed; gains
from torch's table and the derived ones (1, sqrt 2, 5/3, 3/4, leaky slopes 0.01, 0.2 and
sqrt 5); a free gain when no named one fits. docs/identify.md states the method.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Samples, Tensors
from initcheck.checks.shapes import default_shapes
from initcheck.claims.laws import TRUNCATED_STD_2, Law, normal_law
from initcheck.claims.specs import spec as make_spec
from initcheck.core import _validate
from initcheck.core.contract import as_numpy
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import DEFAULT_LAYOUT, Layout, get_layout
from initcheck.core.threads import one_blas_thread
from initcheck.frameworks.dispatch import adapter
from initcheck.identification.claim_space import (
    FIXED_STDS,
    GAINS,
    KURTOSIS,
    KURTOSIS_Z,
    SEARCHED_FAMILIES,
    FanRule,
    candidate_spec,
    family_law,
    rules,
)
from initcheck.identification.exact import constant, orthogonal
from initcheck.identification.ranking import Scored, rank
from initcheck.identification.report import Candidate
from initcheck.sharding.array import ShardedArray

#: Candidates put to the tests, best fitted first.
TESTED = 12
#: Checks a candidate must pass (each at an equal share of alpha), by family.
_TESTS = {"normal": (checks.mean, checks.std, checks.distribution)}
_BOUNDED_TESTS = (checks.mean, checks.std, checks.distribution, checks.edge)


def _samples(subject: Any, framework: str, layout: str | Layout | None,
             shapes: Sequence[tuple[int, ...]] | None, seed: int,
             groups: int | None = None, transposed: bool | None = None) -> Tensors:
    """The values to explain, as a context with placeholder laws: a tensor's, or an
    initializer's draws at ``shapes`` (default: verify's); ``groups`` and ``transposed``
    override the layout's."""
    if isinstance(subject, np.ndarray) or (hasattr(subject, "shape") and hasattr(subject, "dtype")
                                           and not callable(subject)):
        x = as_numpy(subject, "subject")
        torch_tensor = hasattr(subject, "detach")
        lay = get_layout(
            layout if layout is not None else ("torch" if torch_tensor else DEFAULT_LAYOUT),
            groups=groups, transposed=transposed,
        )
        law = normal_law(0.0, 1.0)
        if x.dtype.kind != "f" and x.dtype.name not in _validate.ML_FLOATS:
            x = x.astype(np.float64)  # integers as floats; floats keep the dtype whose
            # rounding the orthogonality tolerance reads
        return Tensors(make_spec("normal"), {"tensor": x}, {"tensor": law}, lay)
    with _validate.about("subject"):
        if isinstance(subject, str):
            from initcheck.claims.initializers import get

            subject = get(subject)
        sampler = adapter(subject, framework=framework, layout=layout)
        sampler.layout = get_layout(sampler.layout, groups=groups, transposed=transposed)
    shape_list = [tuple(s) for s in shapes] if shapes else [
        s for s in default_shapes(make_spec("he_normal"), sampler.layout) if len(s) >= 2]
    law = normal_law(0.0, 1.0)
    return Samples(
        sampler, make_spec("normal"), dict.fromkeys(shape_list, law), seed, np.dtype(np.float32)
    )


def _pooled_variance(ctx: Tensors) -> dict[Any, tuple[float, int, float]]:
    """Each tensor's mean square (about 0), size and largest |value|."""
    out = {}
    for k, x in ctx.tensors.items():
        flat = np.asarray(x, dtype=np.float64).ravel()
        out[k] = (float(flat @ flat) / flat.size, flat.size, float(np.max(np.abs(flat))))
    return out


def _test(ctx: Tensors, laws: dict[Any, Law], family: str, alpha: float) -> float:
    """The smallest Bonferroni-adjusted p-value of the claim's tests on the samples."""
    other = ctx.relabelled(laws)
    if family != "normal":
        bounded = [checks.support(other)]
        if not bounded[0].passed:
            return 0.0
    tests = _TESTS.get(family, _BOUNDED_TESTS)
    return min(1.0, min(t(other, alpha / len(tests)).pvalue for t in tests) * len(tests))


def _pointwise(values: dict[Any, np.ndarray], laws: dict[Any, Law]) -> np.ndarray:
    """The log-likelihood of each tested value (at most KS_MAX per tensor) under ``laws``."""
    with np.errstate(divide="ignore"):
        return np.concatenate([laws[k].dist.logpdf(v) for k, v in values.items()])


@one_blas_thread
def identify(
    subject: Any,
    *,
    framework: str = "auto",
    layout: str | Layout | None = None,
    shapes: Sequence[tuple[int, ...]] | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    groups: int | None = None,
    transposed: bool | None = None,
) -> list[Candidate]:
    """The claims that explain what ``subject`` draws, best first.

    A search over families, fan modes, fan conventions and named gains (docs/identify.md):
    each is fitted, the best are tested with ``verify``'s own tests, and only those that pass
    are returned.

    Args:
        subject: an initializer (as ``verify`` takes it), a built-in's name, or a tensor.
        framework: how an initializer is called (``"auto"``: detected).
        layout: the layout shapes are read in (an initializer's default: its framework's).
        shapes: the shapes to draw (default: dense and conv layers of every rank).
        seed: the seed the draws derive from.
        alpha: the false-alarm rate of each candidate's tests.
        groups: the grouped convolution's groups the shapes belong to (default: the
            layout's, 1), so that logical fans divide its channels.
        transposed: whether the shapes are a transposed convolution's kernels.

    Returns:
        A list of ``Candidate``, best first; empty if nothing in the space explains the
        values.

    Raises:
        ValueError: bad input (named), such as a bad seed, or values that are NaN or Inf.

    Example:
        >>> import initcheck as ic
        >>> def he_fan_out(shape, rng):
        ...     return rng.standard_normal(shape) * (2 / ic.compute_fans(shape).fan_out) ** 0.5
        >>> ic.identify(he_fan_out)[0].claim
        "spec('he_normal', mode='fan_out', nonlinearity='relu')"
    """
    alpha = stats.check_alpha(alpha)
    seed = _validate.integer("seed", seed, minimum=0)
    alpha = stats.check_alpha(alpha)
    ctx = _samples(subject, framework, layout, shapes, seed, groups, transposed)
    if not all_finite(ctx):
        raise ValueError(f"subject: {getattr(subject, '__qualname__', type(subject).__name__)}"
                         " gives NaN or Inf values: no law explains them. verify() says where"
                         " they appear (its finite check).")
    return explain(ctx, alpha)


def all_finite(ctx: Tensors) -> bool:
    """Whether every value the context holds is finite (a law can explain them); tensors held
    in shards are counted where they live."""
    return all(stats.finite(x).passed for x in ctx.tensors.values())


def explain(ctx: Tensors, alpha: float = DEFAULT_ALPHA) -> list[Candidate]:
    """``identify`` on values already drawn or given (a ``Samples`` or ``Tensors`` context,
    its laws ignored): what ``verify``, ``check_tensor`` and ``check_model`` call on a
    failure, so the explanation costs no new draw."""
    if any(isinstance(x, ShardedArray) for x in ctx.tensors.values()):
        return []  # the search reads every value: not done on shards (no tensor is gathered)
    if any(not np.all(np.isfinite(np.asarray(x, dtype=np.float64))) for x in ctx.tensors.values()):
        return []
    const = constant(ctx)
    if const is not None:
        return [const]
    orth = orthogonal(ctx)
    if orth is not None:
        return [orth]
    ms = _pooled_variance(ctx)
    space = rules(ctx.layout)
    fitted = []
    kurtosis = _kurtosis(ctx)
    for family, factor in SEARCHED_FAMILIES.items():
        if not _kurtosis_fits(kurtosis, family):
            continue
        for rule in space:
            fitted += _fit(ctx, ms, family, factor, rule)
    fitted.sort(key=lambda c: c[0])
    # one entry per law: exactly equal laws on these shapes (He fan_out and LeCun where
    # fan_out = 2 fan_in) are one candidate, named by the simplest, listing the others
    by_law: dict[tuple[Any, ...], list[tuple[str, FanRule, float, str | None]]] = {}
    for _, family, rule, gain, named in fitted:
        laws = _laws(ctx, family, rule, gain)
        key = (family.replace("_uncorrected", ""),
               tuple(round(math.log(laws[k].std), 9) for k in ctx.laws))
        if key not in by_law and len(by_law) >= TESTED:
            continue
        by_law.setdefault(key, []).append((family, rule, gain, named))
    n = sum(size for _, size, _ in ms.values())
    values = {k: stats.thin(np.asarray(x).ravel(), checks.KS_MAX).astype(np.float64)
              for k, x in ctx.tensors.items()}
    scored = []
    for points in by_law.values():
        points.sort(key=lambda p: _simplicity(ctx, *p))
        family, rule, gain, named = points[0]
        laws = _laws(ctx, family, rule, gain)
        p = _test(ctx, laws, family, alpha)
        if p < alpha:
            continue
        pointwise = _pointwise(values, laws)
        if not np.all(np.isfinite(pointwise)):  # a value the law cannot produce
            continue
        penalty = 0.0 if named else 0.5 * math.log(n)
        scored.append(Scored(prior=_simplicity(ctx, *points[0]), pointwise=pointwise,
                             penalty=penalty, item=_candidate(
                                 ctx, ms, n, points, laws, p, float(np.sum(pointwise)) - penalty)))
    return [s.item for s in rank(scored)]  # type: ignore[misc]


def _laws(ctx: Tensors, family: str, rule: FanRule, gain: float) -> dict[Any, Law]:
    """Each tensor's law under a point of the space."""
    return {k: family_law(family, gain * gain * SEARCHED_FAMILIES[family] / rule.fan(ctx.shape(k)))
            for k in ctx.laws}


def _simplicity(ctx: Tensors, family: str, rule: FanRule, gain: float,
                named: str | None) -> tuple[int, ...]:
    """Simpler first: no confusion (exact fans, the given layout, logical convention), then
    a familiar name (LeCun, Xavier, He, a named std), a named gain, a fitted one; then the
    gain's, the rule's and the family's order in the space."""
    confusions = ((rule.variant != "exact") + (rule.layout.name != ctx.layout.name)
                  + (rule.convention != "logical"))
    spec, _ = candidate_spec(family, rule, gain, named)
    familiar = spec is not None and spec.name != "variance_scaling"
    kind = 2 if named is None else 0 if familiar else 1
    names = list(GAINS) + list(FIXED_STDS)
    return (confusions, kind, names.index(named) if named in names else len(names),
            _rule_order(ctx.layout)[rule], list(SEARCHED_FAMILIES).index(family))


@functools.lru_cache(maxsize=16)
def _rule_order(layout: Layout) -> dict[FanRule, int]:
    """Each fan rule's place in the space searched for ``layout``."""
    return {r: i for i, r in enumerate(rules(layout))}


def _candidate(ctx: Tensors, ms: dict[Any, tuple[float, int, float]], n: int,
               points: list[tuple[str, FanRule, float, str | None]], laws: dict[Any, Law],
               p: float, loglik: float) -> Candidate:
    """The candidate for one law, named by its simplest point, listing the other names."""
    family, rule, gain, named = points[0]
    s, claim = candidate_spec(family, rule, gain, named)
    others, level = [], _simplicity(ctx, *points[0])[0]
    for point in points[1:]:  # the names as plain as the first (a square kernel assumed on
        other = candidate_spec(*point)[1]  # a square kernel is not another name for it)
        if (point[3] is not None and _simplicity(ctx, *point)[0] <= level and other != claim
                and other not in others):  # named: any fitted gain fits any fan once
            others.append(other)
    ratio = math.sqrt(sum(ms[k][0] * ms[k][1] for k in ctx.laws)
                      / sum(laws[k].std ** 2 * ms[k][1] for k in ctx.laws))
    se = ratio * math.sqrt((next(iter(laws.values())).kurtosis - 1) / (4 * n))
    what = (f"{family.replace('_', ' ')}, gain {named or f'{gain:.4g} (fitted)'}, "
            f"{rule.describe()}" + ("" if rule.layout.name == ctx.layout.name
                                    else f", read in the {rule.layout.name} layout"))
    return Candidate(claim=claim, spec=s, convention=rule.convention, layout=rule.layout.name,
                     family=family, gain=gain, named=named is not None, std_ratio=ratio,
                     std_ratio_se=se, pvalue=p, loglik=loglik, explanation=what,
                     rule=f"{rule.describe()} ({rule.layout.name})", fan_rule=rule,
                     same_law=tuple(others))


def _fit(ctx: Tensors, ms: dict[Any, tuple[float, int, float]], family: str, factor: float,
         rule: FanRule) -> list[tuple[float, str, FanRule, float, str | None]]:
    """The gain that fits ``rule`` best, the named gains within reach of it, and the fit's
    misfit (a chi-square of the per-tensor log variances about it, which ranks candidates
    before testing). A normal's gain is the weighted mean of log variance x fan; a bounded
    family's comes from the extremes, its maximum-likelihood estimate (its support and edge
    tests resolve the bound to O(1/n), far finer than a variance can)."""
    kappa = KURTOSIS[family][0]
    logs, weights = [], []
    try:
        fans = {k: rule.fan(ctx.shape(k)) for k in ctx.laws}
    except ValueError:  # the rule cannot read these shapes (groups that do not divide)
        return []
    for k in ctx.laws:
        v, size, _ = ms[k]
        if v <= 0:
            return []
        logs.append(math.log(v * fans[k] / factor))
        weights.append(size / (kappa - 1))
    w = np.asarray(weights)
    lg = np.asarray(logs)
    centre = float(w @ lg / w.sum())
    misfit = float(w @ (lg - centre) ** 2)
    gain = math.exp(centre / 2)
    if family != "normal":  # the smallest bound that holds every value, in gain units
        # uniform: bound^2 = 3 g^2 / fan; truncated: bound = 2 parent, parent^2 = std^2 / 0.7737
        per_bound = 3.0 if family == "uniform" else 4.0 * factor / TRUNCATED_STD_2**2
        gain = max(math.sqrt(ms[k][2] ** 2 * fans[k] / per_bound) for k in ctx.laws)
        gain *= 1 + 1e-12  # the bound rebuilt from it must not round below the largest value
    out: list[tuple[float, str, FanRule, float, str | None]] = [(misfit, family, rule, gain, None)]
    se = 1 / math.sqrt(float(w.sum()))
    if rule.mode is not None:
        named = GAINS
    elif family == "normal":
        named = FIXED_STDS
    else:  # a truncated normal's std parameter is its parent's: the actual std is 0.8796 of it
        named = (
            {n: v * TRUNCATED_STD_2 for n, v in FIXED_STDS.items()} if family != "uniform" else {}
        )
    for name, g in named.items():
        z = (2 * math.log(g) - centre) / se
        if abs(z) < 6:
            out.append((misfit + z * z - 1e-9, family, rule, g, name))
    return out


def _kurtosis(ctx: Tensors) -> tuple[float, float]:
    """The samples' kurtosis (each tensor's own, pooled by size) and the count it rests on:
    one pass, shared by every family's filter."""
    n = t = 0.0
    for x in ctx.tensors.values():
        z = np.asarray(x, dtype=np.float64).ravel()
        z2 = z * z
        m2 = float(np.sum(z2)) / z.size
        if m2 == 0:
            continue
        t += float(z2 @ z2) / m2**2
        n += z.size
    return (t / n if n else math.nan), n


def _kurtosis_fits(kurtosis: tuple[float, float], family: str) -> bool:
    """Whether the samples' kurtosis allows ``family``."""
    k, n = kurtosis
    if n == 0:
        return True
    kappa, var = KURTOSIS[family]
    return abs(k - kappa) <= KURTOSIS_Z * math.sqrt(var / n) + 0.02


__all__ = ["Candidate", "FIXED_STDS", "GAINS", "explain", "identify"]
