"""``compare_models``: are two models initialized the same way? No policy needed: each tensor
of one is matched with its counterpart in the other (by name, or by a mapping for a port
between frameworks) and the two are compared as samples (``initcheck.stats.two_sample``).
Uses: a refactor of init code, a library upgrade, a torch model ported to flax."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import numpy as np

from initcheck import stats
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.results import CheckResult
from initcheck.core.threads import one_blas_thread
from initcheck.models.collect import collect, model_name
from initcheck.models.diff_report import DiffRow, ModelDiff
from initcheck.models.held import Held
from initcheck.stats import two_sample

#: Two-sample checks per pair of varying tensors (scale, mean, distribution).
CHECKS_PER_TENSOR = 3


@one_blas_thread
def compare_models(
    a: Any,
    b: Any,
    *,
    names: Mapping[str, str] | Callable[[str], str | None] | None = None,
    alpha: float = DEFAULT_ALPHA,
) -> ModelDiff:
    """Whether ``a`` and ``b`` follow the same initialization, tensor by tensor.

    Each tensor of ``a`` is compared with its counterpart in ``b`` as two samples: std ratio
    (with its 99% interval), mean and two-sample KS, or exactly where a side is constant;
    tensors of one module type and tensor name (``Linear.weight``) are also pooled for a
    shared scale shift. Bonferroni over every check spends ``alpha``. Only the marginal laws
    are compared, so a tensor stored transposed (a torch kernel and its flax port) compares
    as it is; its axes must hold the same sizes.

    Args:
        a: a model ``check_model`` reads (torch, flax, jax pytree, equinox, keras).
        b: the other, of the same architecture, in any of those frameworks.
        names: b's name for each of a's tensors where they differ: a table (a's names
            absent from it keep their own) or a function (None: no counterpart).
        alpha: the family-wise false-alarm rate of the whole comparison, in (0, 1).

    Returns:
        A ``ModelDiff``: a row per matched tensor, the pooled groups, the unmatched names.

    Raises:
        ValueError: bad input (named): a model no framework reads, a matched pair whose
            sizes differ, a name mapped twice.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> rng = np.random.default_rng(0)
        >>> a = {"dense": {"kernel": rng.normal(0, 0.02, (256, 128))}}
        >>> b = {"dense": {"kernel": rng.normal(0, 0.03, (256, 128))}}
        >>> ic.compare_models(a, b).differences[0].name
        'dense.kernel'
    """
    alpha = stats.check_alpha(alpha)
    held_a, held_b = collect(a), collect(b)
    pairs, only_a, only_b = _pairs(held_a, held_b, _mapping(names))
    loaded = [(ha.whole("compare_models"), hb.whole("compare_models")) for ha, hb in pairs]
    summaries = [(two_sample.moments(x), two_sample.moments(y)) for x, y in loaded]
    groups: dict[str, list[int]] = {}
    for i, (ha, _) in enumerate(pairs):
        if summaries[i][0].constant is None and summaries[i][1].constant is None:
            kind = ha.module_types[0] if ha.module_types else "-"
            groups.setdefault(f"{kind}.{ha.local}", []).append(i)
    pooled = {k: v for k, v in groups.items() if len(v) >= 2}
    varying = sum(len(v) for v in groups.values())
    share = alpha / max(1, CHECKS_PER_TENSOR * varying + len(pooled))
    rows = [_row(ha, hb, x, y, ma, mb, share)
            for (ha, hb), (x, y), (ma, mb) in zip(pairs, loaded, summaries)]
    group_checks = tuple(
        (k, two_sample.pooled_scale_test([summaries[i] for i in idx], share))
        for k, idx in pooled.items())
    return ModelDiff(model_a=model_name(a), model_b=model_name(b), alpha=alpha,
                     rows=tuple(rows), groups=group_checks, only_a=tuple(only_a),
                     only_b=tuple(only_b))


def _mapping(names: Any) -> Callable[[str], str | None]:
    if names is None:
        return lambda n: n
    if isinstance(names, Mapping):
        table = dict(names)
        return lambda n: table.get(n, n)
    if callable(names):
        return cast(Callable[[str], "str | None"], names)
    raise ValueError(f"names={names!r}: pass a table {{a's name: b's name}}, a function"
                     " from a's names to b's (None: no counterpart), or None.")


def _pairs(held_a: list[Held], held_b: list[Held], to_b: Callable[[str], str | None]
           ) -> tuple[list[tuple[Held, Held]], list[str], list[str]]:
    """a's tensors with their counterparts (tied tensors once, through any of their names)."""
    by_name = {n: h for h in held_b for n in h.names}
    pairs, only_a, taken = [], [], set()
    for h in held_a:
        target = next((t for t in map(to_b, h.names) if t is not None and t in by_name), None)
        if target is None:
            only_a.append(h.name)
            continue
        other = by_name[target]
        if id(other) in taken:
            raise ValueError(f"{h.name} maps to {target}, which another tensor of a maps to"
                             " already: a mapping must pair tensors one to one.")
        if sorted(h.shape) != sorted(other.shape):
            raise ValueError(f"{h.name} {list(h.shape)} and {target} {list(other.shape)} hold"
                             " different sizes: they are not one tensor of one architecture."
                             " Fix the names mapping.")
        taken.add(id(other))
        pairs.append((h, other))
    only_b = [h.name for h in held_b if id(h) not in taken]
    return pairs, only_a, only_b


def _row(ha: Held, hb: Held, x: np.ndarray, y: np.ndarray, ma: two_sample.Moments,
         mb: two_sample.Moments, share: float) -> DiffRow:
    checks: tuple[CheckResult, ...]
    if ma.constant is not None or mb.constant is not None:
        checks = (two_sample.equal_constants(ma, mb),)
        ratio = low = high = math.nan
    else:
        scale = two_sample.scale_ratio_test(ma, mb, share)
        checks = (scale, two_sample.mean_diff_test(ma, mb, share),
                  two_sample.ks_two_sample_test(x, y, share))
        ratio, low, high = scale.observed, scale.extra["ratio_low"], scale.extra["ratio_high"]
    holds_a = holds_b = ""
    if not all(c.passed for c in checks):
        holds_a, holds_b = _looks_like(x, ha), _looks_like(y, hb)
    return DiffRow(name=ha.name, name_b=hb.name, shape=tuple(ha.shape), shape_b=tuple(hb.shape),
                   ratio=ratio, ratio_low=low, ratio_high=high, checks=checks,
                   holds_a=holds_a, holds_b=holds_b)


def _looks_like(x: np.ndarray, h: Held) -> str:
    """What a tensor's values look like: ``identify``'s best claim in its own layout."""
    from initcheck.identification.search import identify

    try:
        found = identify(x.astype(np.float64) if x.dtype.kind != "f" else x, layout=h.layout)
    except ValueError as exc:
        return f"values no law explains ({exc})"
    return found[0].claim if found else "no law initcheck names"


__all__ = ["compare_models"]
