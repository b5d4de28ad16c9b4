"""``check_model``: did a model come out of its constructor initialized as its policy says?

Every tensor the model holds is matched to the first rule of the policy that claims it.
Tensors that share a rule and a claim form a group, checked as ``verify`` checks shapes:
pooled for the scale, mean and distribution tests (the power a real model's many small
tensors need) and each alone (an error confined to one tensor), with the checks that fit
one fixed draw. Alpha is split over every statistical check of the model (Bonferroni), in
proportion to each group's count. One model-wide check more: no two tensors hold the same
values (a copy made where an independent draw was meant). Groups are loaded and checked one
at a time; CPU tensors are read in place.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

import numpy as np

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Tensors, standardize
from initcheck.claims.laws import Law
from initcheck.claims.specs import Spec
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.results import CheckResult
from initcheck.core.threads import one_blas_thread
from initcheck.identification.diagnosis import diagnose
from initcheck.models.collect import Held, collect, model_name
from initcheck.models.pieces import Piece, pieces
from initcheck.models.policy import SKIP, Policy, Rule, closest
from initcheck.models.presets import as_policy
from initcheck.models.report import GroupResult, ModelReport, TensorRow
from initcheck.models.tensor import prepared
from initcheck.sharding.array import LOCAL, Checkable, ShardedArray, as_sharded
from initcheck.sharding.merge import take_all
from initcheck.stats.thinning import spaced

#: Elements of each tensor compared for the model-wide duplicate check (evenly spaced;
#: equal fingerprints are then compared whole).
FINGERPRINT = 4096


def _same(a: np.ndarray | ShardedArray, b: np.ndarray | ShardedArray) -> bool:
    """Bit-for-bit equal tensors. Sharded ones (not gathered) by their exact slice keys along
    the first and the last axis: equal values give equal keys; different ones collide with
    probability 2^-32 or less per slice, on both axes at once."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    a, b = as_sharded(a), as_sharded(b)
    return a.shape == b.shape and a.dtype == b.dtype and all(
        np.array_equal(a.slice_keys(axis), b.slice_keys(axis)) for axis in {0, a.ndim - 1})


def _agree(held: list[Held], pol: Policy, alpha: float) -> None:
    """Ranks checking a sharded model must run the same collectives in the same order: they
    compare a digest of the model's tensors, the policy and alpha first, and refuse if any
    rank differs (rather than hang or merge unlike statistics)."""
    for one in (h for h in held if h.sharded):
        x = one.load()
        if isinstance(x, ShardedArray) and x.exchange is not LOCAL:
            mine = repr((pol.name, [r.describe() for r in pol.rules], alpha,
                         [(h.names, h.shape, h.dtype) for h in held]))
            seen = x.exchange.gather(hashlib.sha256(mine.encode()).hexdigest()) or []
            if len(set(seen)) > 1:
                raise ValueError(
                    f"the ranks disagree on the model, the policy or alpha ({len(set(seen))}"
                    " different digests): call check_model with the same model"
                    " structure, policy and alpha on every rank."
                )
            return


def _match(held: list[Held], pol: Policy
           ) -> tuple[dict[int, int], dict[int, str], list[Held]]:
    """Each tensor's rule and the name it claims it through, and the tensors none claims.

    First match wins over all of a tensor's names: the first rule, in policy order, that
    matches any name (with that name's own module) claims the tensor, through the first name
    it matches. A rule that matches some name of some tensor is used, even where an earlier
    rule won the tensor."""
    ruled: dict[int, int] = {}
    via: dict[int, str] = {}
    unmatched: list[Held] = []
    matched: dict[int, set[int]] = {}  # rule -> the tensors it matches under some name
    for i, h in enumerate(held):
        hits = [(k, o.name) for o in h.owners for k, r in enumerate(pol.rules)
                if r.matches(o.name, o.module_types, h.framework, o.enclosing)]
        for k, _ in hits:
            matched.setdefault(k, set()).add(i)
        if hits:
            ruled[i], via[i] = min(hits, key=lambda hit: hit[0])
        else:
            unmatched.append(h)
    if not pol.optional:
        names = [n for h in held for n in h.names]
        for k, r in enumerate(pol.rules):
            if r.optional:
                continue
            if k not in matched:
                raise ValueError(
                    f"rule {k + 1} ({r.describe()}) of policy {pol.name!r} matches no tensor of"
                    f" the model; closest names: {', '.join(closest(r.match, names))}. Fix the"
                    " glob, or remove the rule.")
            _refuse_shadowed(k, sorted(matched[k]), held, ruled, pol)
    return ruled, via, unmatched


def _refuse_shadowed(k: int, hit: list[int], held: list[Held], ruled: dict[int, int],
                     pol: Policy) -> None:
    """A rule whose every tensor (``hit``) an earlier rule claims would check nothing: an
    error that names the rules that win (a tied tensor's other name is not shadowing: the tie
    is claimed once, by the first rule that matches any of its names)."""
    r = pol.rules[k]
    if any(ruled.get(i) == k or len(held[i].owners) > 1 for i in hit):
        return
    earlier = " or ".join(str(e + 1) for e in sorted({ruled[i] for i in hit}))
    raise ValueError(
        f"rule {k + 1} ({r.describe()}) of policy {pol.name!r} is shadowed: every tensor it"
        f" matches ({held[hit[0]].name}, ...) is claimed first by rule {earlier} (first match"
        " wins). Put it before them, narrow them, or remove it.")


@one_blas_thread
def check_model(model: Any, policy: Any, *, alpha: float = DEFAULT_ALPHA, strict: bool = False,
                framework: str = "auto") -> ModelReport:
    """Check every tensor a model holds against a policy, under one false-alarm budget.

    Tensors one rule claims with one claim are pooled for the scale, mean and distribution
    tests and also tested alone; no two independently claimed tensors may hold the same values.

    Args:
        model: a torch ``nn.Module`` (parameters and buffers), a flax nnx module, a flax linen
            module with its variables (``(module, variables)``, or bound), a jax or flax
            parameter pytree (paths joined with '.'), an equinox module or a keras model.
        policy: a list of ``initcheck.models.rule(...)``, a ``Policy``, a built-in's name
            (``"torch"``, ``"flax"``, ``"keras"``) or a TOML file's path.
        alpha: the family-wise false-alarm rate of the whole model, in (0, 1).
        strict: fail the tensors no rule claims.
        framework: ``"auto"`` (detected) or the framework the model comes from.

    Returns:
        A ``ModelReport``: a row per tensor, a group per rule and claim, ``passed``.

    Raises:
        ValueError: bad input (named): an unknown policy, a rule that matches no tensor, a claim
            that does not fit a tensor's shape, ranks that disagree on a sharded model.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> from initcheck.models import rule
        >>> rng = np.random.default_rng(0)
        >>> params = {"dense": {"kernel": rng.normal(0, 0.02, (256, 128)), "bias": np.zeros(128)}}
        >>> policy = [rule("*.kernel", ic.spec("normal", std=0.02)), rule("*.bias", "zeros")]
        >>> ic.check_model(params, policy).passed
        True
    """
    start = time.perf_counter()
    alpha = stats.check_alpha(alpha)
    pol = as_policy(policy, model)
    held = collect(model, framework)
    _agree(held, pol, alpha)
    ruled, via, unmatched = _match(held, pol)
    groups: dict[tuple[int, str], list[Piece]] = {}
    skipped = [h for h in unmatched if h.transient]  # not state: nothing has to claim it
    unmatched = [h for h in unmatched if not h.transient]
    for i, r in ruled.items():
        rule = pol.rules[r]
        if rule.claim == SKIP or math.prod(held[i].shape) == 0:  # empty: nothing to check
            skipped.append(held[i])
            continue
        for p in pieces(held[i].through(via[i]), rule, r + 1):
            try:
                p.claim.law(p.law_shape, p.layout, convention=p.convention)
            except ValueError as exc:
                raise ValueError(f"rule {r + 1} ({rule.describe()}): {p.claim!r} does not fit"
                                 f" {p.label} of shape {list(p.law_shape)}: {exc}") from None
            groups.setdefault((r, repr(p.claim)), []).append(p)
    counts = {k: len(checks.plan(ps[0].claim.family, False, False, False)[1])
              for k, ps in groups.items()}
    total = max(1, sum(counts.values()) + 1)  # + 1: the near-copy test's share
    results: list[GroupResult] = []
    prints: dict[tuple[Any, ...], list[Piece]] = {}
    copies: list[stats.Slices] = []
    for key, ps in groups.items():
        share = alpha * counts[key] / total if counts[key] else alpha
        results.append(_check_group(pol.rules[key[0]], key[0] + 1, ps, share, prints, copies))
    distinct = _distinct(prints)
    near = stats.near_copy_test(copies, alpha / total)
    results.sort(key=lambda g: g.rule)
    rows = _explained(_rows(held, ruled, via, pol, groups, results, (distinct, near), skipped),
                      groups, alpha)
    return ModelReport(
        model=model_name(model), framework=held[0].framework, policy=pol.name, alpha=alpha,
        strict=bool(strict), rows=tuple(rows), groups=tuple(results),
        unmatched=tuple(h.name for h in unmatched if math.prod(h.shape)), checks=(distinct, near),
        builtin=pol.builtin,
        seconds=time.perf_counter() - start, elements=sum(math.prod(h.shape) for h in held))


def _check_group(rule: Rule, number: int, ps: list[Piece], alpha: float,
                 prints: dict[tuple[Any, ...], list[Piece]],
                 copies: list[stats.Slices]) -> GroupResult:
    """Load a group's pieces, run the checks that fit fixed tensors, and keep each
    non-constant piece's fingerprint and slices for the model-wide copy checks."""
    tensors: dict[Hashable, Checkable] = {}
    laws: dict[Hashable, Law] = {}
    for p in ps:
        tensors[p.label] = prepared(p.select(p.held.load()), p.claim, p.label)
        laws[p.label] = p.claim.law(p.law_shape, p.layout, convention=p.convention)
    printed = [p for p in ps if p.claim.family != "constant" and tensors[p.label].size >= 2]
    arrays = [as_sharded(tensors[p.label]) for p in printed]  # sharded ones read together
    for p, x, values in zip(
        printed, arrays, take_all(arrays, [spaced(x.size, FINGERPRINT) for x in arrays])
    ):
        prints.setdefault((x.shape, str(x.dtype), values.tobytes()), []).append(p)
        copies += [_sketched(p.label, x, axis, laws[p.label])
                   for axis in range(x.ndim) if x.shape[axis] >= 2]
    ctx = Tensors(ps[0].claim, tensors, laws, ps[0].read_layout)
    found = checks.run(ctx, alpha)
    std = next((c for c in found if c.name == "std"), None)
    return GroupResult(rule=number, match=rule.describe(), claim=repr(ps[0].claim),
                       tensors=tuple(p.label for p in ps), elements=ctx.elements, alpha=alpha,
                       checks=tuple(found), mde=std.mde if std is not None else math.nan)


def _sketched(label: str, x: ShardedArray, axis: int, law: Law) -> stats.Slices:
    """The near-copy test's view of one tensor's slices along ``axis``: sketched now, one
    slice re-read from the tensor when its pair is picked (a sharded one's are kept)."""
    read = stats.slices(x, axis, stats.MAX_SLICES, max_length=stats.MAX_SLICE_LENGTH)
    assert read is not None  # every rank reads them (no ``to``)
    rows = standardize(read, law)
    if x.single is None:
        return stats.sketched(label, axis, rows)
    whole, picked = x.single, stats.spaced(x.shape[axis], stats.MAX_SLICES)

    def row(i: int) -> np.ndarray:
        one = stats.slices(whole, axis, index=[int(picked[i])], max_length=stats.MAX_SLICE_LENGTH)
        assert one is not None  # a whole tensor: read here
        out: np.ndarray = standardize(one, law)[0]
        return out
    return stats.sketched(label, axis, rows, row)


def _explained(
    rows: list[TensorRow], groups: dict[tuple[int, str], list[Piece]], alpha: float
) -> list[TensorRow]:
    """``rows``, every failed tensor with what it looks like instead (read from its first
    piece): a law ``identify`` names, or the constant it holds where another is claimed."""
    first: dict[str, Piece] = {}
    for ps in groups.values():
        for p in ps:
            first.setdefault(p.held.name, p)
    out = []
    for row in rows:
        q = first.get(row.name)
        if row.verdict == "FAIL" and q is not None:
            x = prepared(q.select(q.held.load()), q.claim, q.label)
            law = q.claim.law(q.law_shape, q.layout, convention=q.convention)
            ctx = Tensors(q.claim, {q.label: x}, {q.label: law}, q.read_layout)
            row = replace(row, looks_like=diagnose(ctx, q.claim, alpha, siblings=False).looks_like)
        out.append(row)
    return out


def _distinct(prints: dict[tuple[Any, ...], list[Piece]]) -> CheckResult:
    """Hard check: no two tensors of independent claims hold identical values (tensors
    with equal fingerprints are loaded again and compared whole)."""
    copies = []
    for same in prints.values():
        for k, p in enumerate(same[1:], 1):
            x = p.select(p.held.load())
            original = next((q for q in same[:k] if _same(x, q.select(q.held.load()))),
                            None)
            if original is not None:
                copies.append((p.label, original.label))
    n = sum(len(v) for v in prints.values())
    if copies:
        text = "; ".join(f"{a} holds the same values as {b}" for a, b in copies[:3])
        return CheckResult.hard("distinct_tensors", False, n=n, statistic=float(len(copies)),
                                detail=f"{text}: a copy where an independent draw was meant",
                                observed=float(len(copies)), expected=0.0,
                                extra={"failed": [a for a, _ in copies], "where": copies[0][0]})
    return CheckResult.hard("distinct_tensors", True, n=n, observed=0.0, expected=0.0,
                            detail=f"no two of {n} independently claimed tensors are equal")


def _implicated(c: CheckResult, label: str) -> tuple[bool, dict[str, Any]] | None:
    """Whether check ``c`` speaks of tensor ``label``: its own part of a pooled-and-each
    test, or the tensor a failure names. Returns (failed, facts) or None."""
    for part in c.extra.get("parts", ()):
        if part["where"] == label:
            return not part["passed"], {"check": c.name, "hard": False, **part}
    if not c.passed and (label in c.extra.get("failed", ()) or c.extra.get("where") == label):
        return True, {"check": c.name, "hard": c.alpha == 0, "where": label, "pvalue": c.pvalue,
                      "observed": c.observed,
                      "expected": c.expected, "mde": c.mde, "detail": c.detail, "passed": False}
    return None


def _rows(held: list[Held], ruled: dict[int, int], via: dict[int, str], pol: Policy,
          groups: dict[tuple[int, str], list[Piece]], results: list[GroupResult],
          model_checks: tuple[CheckResult, ...], skipped: list[Held]) -> list[TensorRow]:
    by_label: dict[str, list[CheckResult]] = {}
    for g in results:
        for label in g.tensors:
            by_label.setdefault(label, []).extend(g.checks)
    labels: dict[str, list[str]] = {}  # by the tensor's first name (a piece holds it
    claims: dict[str, str] = {}        # as the claiming name's module sees it)
    for (r, claim), ps in groups.items():
        for p in ps:
            labels.setdefault(p.held.name, []).append(p.label)
            claims.setdefault(p.held.name, repr(pol.rules[r].claim) if not isinstance(
                pol.rules[r].claim, Spec) else claim)
    rows = []
    skip = {id(h) for h in skipped}
    for i, h in enumerate(held):
        rule = ruled.get(i)
        empty = math.prod(h.shape) == 0  # no elements: no law to hold, claimed or not
        base = TensorRow(
            names=tuple(h.names),
            shape=tuple(h.shape),
            dtype=h.dtype,
            rule=None if rule is None else rule + 1,
            match=None if rule is None else pol.rules[rule].describe(),
            claim="" if empty else claims.get(h.name, "skip" if id(h) in skip else ""),
            verdict="empty" if empty else "skip" if id(h) in skip
            else "unmatched" if rule is None else "pass",
            via=via.get(i) if via.get(i) != h.name else None,
            module=h.module_types[0] if h.module_types else None,
        )
        if rule is None or id(h) in skip or empty:
            rows.append(base)
            continue
        facts = []
        for label in labels.get(h.name, []):
            for c in [*by_label.get(label, []), *model_checks]:
                hit = _implicated(c, label)
                if hit is not None:
                    facts.append(hit)
        failed = [f for bad, f in facts if bad]
        pool = failed or [f for _, f in facts]
        # a statistical failure's numbers say more than a deterministic one's
        worst = min(pool, key=lambda f: (f["hard"], f["pvalue"])) if pool else None
        rows.append(replace(base, verdict="FAIL" if failed else "pass", worst=worst,
                            failed=tuple(sorted({f["check"] for f in failed}))))
    return rows


__all__ = ["FINGERPRINT", "check_model"]
