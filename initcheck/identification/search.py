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
from initcheck.identification.report import Candidate
from initcheck.sharding.array import ShardedArray

#: Candidates put to the tests, best fitted first.
TESTED = 12
#: Log-likelihoods closer than this (nats) do not rank candidates; their order does.
TIE = 2.0
#: Checks a candidate must pass (each at an equal share of alpha), by family.
_TESTS = {"normal": (checks.mean, checks.std, checks.distribution)}
_BOUNDED_TESTS = (checks.mean, checks.std, checks.distribution, checks.edge)


def _samples(subject: Any, framework: str, layout: str | Layout | None,
             shapes: Sequence[tuple[int, ...]] | None, seed: int) -> Tensors:
    """The values to explain, as a context with placeholder laws: a tensor's, or an
    initializer's draws at ``shapes`` (default: verify's)."""
    if isinstance(subject, np.ndarray) or (hasattr(subject, "shape") and hasattr(subject, "dtype")
                                           and not callable(subject)):
        x = as_numpy(subject, "subject")
        torch_tensor = hasattr(subject, "detach")
        lay = get_layout(
            layout if layout is not None else ("torch" if torch_tensor else DEFAULT_LAYOUT)
        )
        law = normal_law(0.0, 1.0)
        return Tensors(make_spec("normal"), {"tensor": x.astype(np.float64)}, {"tensor": law}, lay)
    with _validate.about("subject"):
        if isinstance(subject, str):
            from initcheck.claims.initializers import get

            subject = get(subject)
        sampler = adapter(subject, framework=framework, layout=layout)
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


def _loglik(ctx: Tensors, laws: dict[Any, Law]) -> float:
    total = 0.0
    for k, x in ctx.tensors.items():
        values = stats.thin(np.asarray(x).ravel(), checks.KS_MAX).astype(np.float64)
        with np.errstate(divide="ignore"):
            total += float(np.sum(laws[k].dist.logpdf(values)))
    return total


def identify(
    subject: Any,
    *,
    framework: str = "auto",
    layout: str | Layout | None = None,
    shapes: Sequence[tuple[int, ...]] | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
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
    ctx = _samples(subject, framework, layout, shapes, seed)
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
    const = _constant(ctx)
    if const is not None:
        return [const]
    orth = _orthogonal(ctx)
    if orth is not None:
        return [orth]
    ms = _pooled_variance(ctx)
    space = rules(ctx.layout)
    fitted = []
    for family, factor in SEARCHED_FAMILIES.items():
        if not _kurtosis_fits(ctx, family):
            continue
        for rule in space:
            fitted += _fit(ctx, ms, family, factor, rule)
    fitted.sort(key=lambda c: c[0])
    names = list(GAINS) + list(FIXED_STDS)

    def prior(family: str, rule: FanRule, named: str | None) -> tuple[int, int, int]:
        """Simpler first: a named gain (in GAINS order), the given layout and logical fans."""
        return (names.index(named) if named in names else len(names), space.index(rule),
                list(SEARCHED_FAMILIES).index(family))

    seen, tested = set(), []
    for _, family, rule, gain, named in fitted:
        laws = {
            k: family_law(
                family, gain * gain * (SEARCHED_FAMILIES[family]) / rule.fan(ctx.shape(k))
            )
            for k in ctx.laws
        }
        key = (family, tuple(round(math.log(laws[k].std), 9) for k in ctx.laws))
        if key in seen:
            continue
        seen.add(key)
        tested.append((family, rule, gain, named, laws))
        if len(tested) >= TESTED:
            break
    out = []
    n = sum(size for _, size, _ in ms.values())
    for family, rule, gain, named, laws in tested:
        p = _test(ctx, laws, family, alpha)
        if p < alpha:
            continue
        s, claim = candidate_spec(family, rule, gain, named)
        ratio = math.sqrt(sum(ms[k][0] * ms[k][1] for k in ctx.laws)
                          / sum(laws[k].std ** 2 * ms[k][1] for k in ctx.laws))
        se = ratio * math.sqrt((next(iter(laws.values())).kurtosis - 1) / (4 * n))
        ll = _loglik(ctx, laws) - (0.0 if named else 0.5 * math.log(n))
        if not math.isfinite(ll):  # a value the law cannot produce: not the generating law
            continue
        what = (f"{family.replace('_', ' ')}, gain {named or f'{gain:.4g} (fitted)'}, "
                f"{rule.describe()}" + ("" if rule.layout.name == ctx.layout.name
                                        else f", read in the {rule.layout.name} layout"))
        out.append((prior(family, rule, named), Candidate(
            claim=claim, spec=s, convention=rule.convention, layout=rule.layout.name,
            family=family, gain=gain, named=named is not None, std_ratio=ratio, std_ratio_se=se,
            pvalue=p, loglik=ll, explanation=what,
            rule=f"{rule.describe()} ({rule.layout.name})", fan_rule=rule)))
    # log-likelihoods within TIE nats cannot tell candidates apart: the simpler one first
    best = max((c.loglik for _, c in out), default=0.0)
    out.sort(key=lambda pc: (math.floor((best - pc[1].loglik) / TIE), pc[0]))
    return [c for _, c in out]


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


def _kurtosis_fits(ctx: Tensors, family: str) -> bool:
    """Whether the samples' kurtosis (each tensor's own, pooled) allows ``family``."""
    n = t = 0.0
    for x in ctx.tensors.values():
        z = np.asarray(x, dtype=np.float64).ravel()
        m2 = float(z @ z) / z.size
        if m2 == 0:
            continue
        t += float(np.sum(z**4)) / z.size / m2**2 * z.size
        n += z.size
    if n == 0:
        return True
    kappa, var = KURTOSIS[family]
    return abs(t / n - kappa) <= KURTOSIS_Z * math.sqrt(var / n) + 0.02


def _constant(ctx: Tensors) -> Candidate | None:
    values = {float(np.asarray(x).ravel()[0]) for x in ctx.tensors.values()}
    if len(values) == 1 and all(
        np.all(np.asarray(x) == next(iter(values))) for x in ctx.tensors.values()
    ):
        v = values.pop()
        s = (
            make_spec("zeros")
            if v == 0
            else make_spec("ones")
            if v == 1
            else make_spec("constant", value=v)
        )
        return Candidate(claim=repr(s), spec=s, convention="logical", layout=ctx.layout.name,
                         family="constant", gain=0.0, named=True, std_ratio=math.nan,
                         std_ratio_se=math.nan, pvalue=1.0, loglik=math.nan,
                         explanation=f"every value is {v:g}")
    return None


def _orthogonal(ctx: Tensors) -> Candidate | None:
    """gain * Haar-orthogonal, if every tensor's units are orthonormal up to one gain."""
    gains = []
    for x in ctx.tensors.values():
        if x.ndim < 2:
            return None
        m = stats.unit_matrix(np.asarray(x, dtype=np.float64), ctx.layout.unit_axes(x.ndim))
        gains.append(math.sqrt(float(np.sum(m * m)) / min(m.shape)))
    g = float(np.median(gains))
    named = next((n for n, v in GAINS.items() if abs(v / g - 1) < 1e-4), None)
    gain = GAINS[named] if named else g
    s = make_spec("orthogonal", gain=gain)
    laws = {k: s.law(ctx.shape(k), ctx.layout) for k in ctx.laws}
    if not checks.orthonormal(ctx.relabelled(laws)).passed:
        return None
    return Candidate(claim=repr(s), spec=s, convention="logical", layout=ctx.layout.name,
                     family="orthogonal", gain=gain, named=named is not None, std_ratio=1.0,
                     std_ratio_se=0.0, pvalue=1.0, loglik=math.nan,
                     explanation=f"orthonormal units, gain {named or f'{gain:.4g}'}")


__all__ = ["Candidate", "FIXED_STDS", "GAINS", "explain", "identify"]
