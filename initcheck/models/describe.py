"""``describe_model``: what a model's initialization is, written as the smallest policy under
which it passes. No policy to start from: tensors of one module type and tensor name
(``Linear.weight``) are identified together (``identify`` on the group, so the fan rule is
fitted across their shapes), constants are read exactly, an embedding's padding row is an
exception, and biases whose bound follows their weight's fan are a ``Relative`` claim. A
group whose tensors disagree is split, never averaged. The policy is then checked on the
model; a tensor it fails gets a rule of its own. The committed policy is a lockfile for
initialization: ``check_model(model, description.policy)`` on the next build."""

from __future__ import annotations

import math
import time
from collections.abc import Hashable
from dataclasses import replace
from typing import Any

import numpy as np

from initcheck.checks.contexts import Tensors
from initcheck.claims.laws import normal_law
from initcheck.claims.specs import Spec, spec
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import compute_fans, get_layout
from initcheck.core.threads import one_blas_thread
from initcheck.identification.exact import constant
from initcheck.identification.search import explain
from initcheck.models.collect import collect, model_name
from initcheck.models.describe_report import DescribedRule, ModelDescription
from initcheck.models.held import Held
from initcheck.models.model import check_model
from initcheck.models.policy import SKIP, Except, Policy, Relative, Rule, rule
from initcheck.sharding.array import ShardedArray

#: Named scales a bias bound is read as (torch's 1/3: U(+-1/sqrt(fan_in))).
RELATIVE_SCALES = (1 / 3, 1.0, 2.0)


@one_blas_thread
def describe_model(model: Any, *, alpha: float = DEFAULT_ALPHA) -> ModelDescription:
    """The smallest policy ``model`` passes, each rule with its evidence.

    Args:
        model: a model ``check_model`` reads (torch, flax, jax pytree, equinox, keras).
        alpha: the family-wise false-alarm rate of the identification and of the final check.

    Returns:
        A ``ModelDescription``: its ``policy`` (``check_model`` takes it as it is), its rules
        with the tensors, elements, p-value and MDE behind each, ``to_python()`` and
        ``to_toml()``, and the final check's report.

    Raises:
        ValueError: a model no framework reads, or a sharded one (named).

    Example:
        >>> import numpy as np, initcheck as ic
        >>> rng = np.random.default_rng(0)
        >>> params = {"dense": {"kernel": rng.normal(0, 0.02, (256, 128)), "bias": np.zeros(128)}}
        >>> d = ic.describe_model(params)
        >>> d.passed, len(d.rules)
        (True, 2)
    """
    start = time.perf_counter()
    held = collect(model)
    groups: dict[tuple[str, str], list[Held]] = {}
    for h in held:
        if math.prod(h.shape) == 0 or h.transient:  # nothing to claim, or not state
            continue
        groups.setdefault((h.module_types[0] if h.module_types else "", h.local), []).append(h)
    rules: list[Rule] = []
    words: dict[int, str] = {}
    for (kind, local), hs in groups.items():
        for r, said in _group_rules(kind, local, hs, alpha):
            words[id(r)] = said
            rules.append(r)
    rules = _merged(rules, words)
    report = check_model(model, Policy(tuple(rules), "described"), alpha=alpha)
    failed = {row.name for row in report.failures}
    if failed:  # a rule of its own for each tensor the pooled rules fail, first
        own = []
        for h in held:
            if h.name in failed:
                for r, said in _tensor_rules(h, alpha):
                    words[id(r)] = said
                    own.append(r)
        rules = own + rules
        # the rules the own ones left with nothing to claim are dropped, then checked again
        first = check_model(model, Policy(tuple(rules), "described", optional=True),
                            alpha=alpha)
        used = {row.rule for row in first.rows if row.rule is not None}
        rules = [r for i, r in enumerate(rules) if i + 1 in used]
        report = check_model(model, Policy(tuple(rules), "described"), alpha=alpha)
    described = []
    for i, r in enumerate(rules):
        g = [x for x in report.groups if x.rule == i + 1]
        checks = [c for x in g for c in x.checks]
        described.append(DescribedRule(
            rule=r, words=words.get(id(r), ""),
            tensors=tuple(t for x in g for t in x.tensors),
            elements=sum(x.elements for x in g),
            pvalue=min((c.pvalue for c in checks if c.alpha > 0), default=math.nan),
            mde=min((x.mde for x in g if x.mde == x.mde), default=math.nan)))
    return ModelDescription(model=model_name(model), framework=report.framework, alpha=alpha,
                            rules=tuple(described), report=report,
                            seconds=time.perf_counter() - start)


def _merged(rules: list[Rule], words: dict[int, str]) -> list[Rule]:
    """Rules that differ only in their module types as one (Conv2d's and Linear's biases
    under one Relative claim), in the place of the later: each kind's specific rules come
    before its general one, so the merged rule must follow all of them."""
    out: list[Rule | None] = []
    place: dict[tuple[Any, ...], int] = {}
    for r in rules:
        key = (r.match, repr(r.claim), r.convention, repr(r.layout), bool(r.module))
        if r.module and key in place:
            first = out[place[key]]
            assert first is not None
            out[place[key]] = None
            merged = replace(r, module=first.module + tuple(m for m in r.module
                                                            if m not in first.module))
            words[id(merged)] = words.get(id(first), "")
            r = merged
        place[key] = len(out)
        out.append(r)
    return [r for r in out if r is not None]


def _glob(kind: str, local: str, hs: list[Held]) -> dict[str, Any]:
    """The rule's match: the tensor name under its module type, or the names themselves
    where the model carries no module types (a bare pytree)."""
    if kind:
        return {"match": f"*.{local}" if local else "*", "module": kind}
    if len(hs) == 1:
        return {"match": hs[0].name}
    return {"match": f"*.{local}"}


def _group_rules(kind: str, local: str, hs: list[Held], alpha: float
                 ) -> list[tuple[Rule, str]]:
    """The rules for one group: one where its tensors agree, else one per tensor."""
    arrays = [h.whole("describe_model") for h in hs]
    where = _glob(kind, local, hs)
    constant = _constant(arrays)
    if constant is not None:
        return [(rule(where["match"], constant, module=where.get("module")),
                 f"every value {_value_words(constant)}")]
    if any(x.dtype.kind not in "fV" for x in arrays):  # integers that vary: not an init
        return [(rule(where["match"], SKIP, module=where.get("module")), "integers, not drawn")]
    padding = _padding(hs, arrays)
    if padding:
        arrays = [np.delete(x, h.attribute("padding_idx"), axis=0) if p else x
                  for h, x, p in zip(hs, arrays, padding)]
    # vectors beside a weight first: a bound from the weight's fan (torch's bias) is one
    # claim for all, where their own identification would fit each vector alone
    relative = _relative(hs, arrays)
    if relative is not None:
        return [(rule(where["match"], relative[0], module=where.get("module"),
                      convention=relative[1]), relative[2])]
    found = _identify(hs, arrays, alpha)
    if found is not None:
        claim_, convention, layout, said, _ = found
        claimed: Any = Except(claim_, {"padding_idx": spec("zeros")}) if any(padding) else claim_
        return [(rule(where["match"], claimed, module=where.get("module"), convention=convention,
                      layout=layout), said + ("; padding row zero" if any(padding) else ""))]
    return _split(where, hs, arrays, alpha)


def _split(where: dict[str, Any], hs: list[Held], arrays: list[np.ndarray], alpha: float
           ) -> list[tuple[Rule, str]]:
    """A group whose tensors disagree, split by what each holds (never averaged): the
    largest part keeps the group's match; each other part gets the names' common ending
    (``*.c_proj.weight``) where that matches none of the rest, else its tensors' own names.
    The parts are identified again together, for a pooled claim."""
    # first by role (the name's part before the tensor's: c_attn, c_proj), each role
    # identified together; a role that holds no one law, tensor by tensor
    roles: dict[str, list[int]] = {}
    for i, h in enumerate(hs):
        roles.setdefault(h.name.split(".")[-2] if "." in h.name else "", []).append(i)
    parts: dict[tuple[Any, ...], list[int]] = {}
    for idx in roles.values():
        together = _identify([hs[i] for i in idx], [arrays[i] for i in idx], alpha) \
            if len(roles) > 1 else None
        for i in idx:
            own = together or _identify([hs[i]], [arrays[i]], alpha)
            parts.setdefault(_kind(own, i), []).append(i)
    if len(parts) == 1 and next(iter(parts))[0] != "unexplained":
        return [r for h in hs for r in _tensor_rules(h, alpha)]  # one kind, no pooled fit
    order = sorted(parts.values(), key=len, reverse=True)
    out: list[tuple[Rule, str]] = []
    for k, idx in enumerate(order[1:] + order[:1]):  # the largest part last: it is the rest
        names = [hs[i].name for i in idx]
        others = [h.name for j, h in enumerate(hs) if j not in idx]
        match = where["match"] if k == len(order) - 1 else _ending(names, others)
        found = _identify([hs[i] for i in idx], [arrays[i] for i in idx], alpha)
        if match is None or found is None:
            out += [r for i in idx for r in _tensor_rules(hs[i], alpha)]
            continue
        claim_, convention, layout, said, _ = found
        out.append((rule(match, claim_, module=where.get("module"), convention=convention,
                         layout=layout), said))
    return out


def _kind(found: tuple[Spec, str, Any, str, bool] | None, i: int) -> tuple[Any, ...]:
    """One part per kind of law: a named claim itself; a fitted one by its name, non-numeric
    parameters and fan reading (the part is fitted together, so a std fitted per tensor
    does not split it)."""
    if found is None:
        return ("unexplained", i)
    s, convention, layout, _, named = found
    if named:
        return (repr(s),)
    return (s.name, convention, repr(layout),
            tuple(sorted((k, v) for k, v in s.params.items() if isinstance(v, str))))


def _ending(names: list[str], others: list[str]) -> str | None:
    """The glob over the names' longest common dotted ending that matches none of
    ``others`` (None if there is none)."""
    import fnmatch

    if len(names) == 1:
        return names[0]
    parts = [n.split(".") for n in names]
    common: list[str] = []
    for tail in zip(*(reversed(p) for p in parts)):
        if len(set(tail)) != 1:
            break
        common.insert(0, tail[0])
    glob = "*." + ".".join(common)
    if common and not any(fnmatch.fnmatchcase(o, glob) or fnmatch.fnmatchcase("." + o, glob)
                          for o in others):
        return glob
    return None


def _tensor_rules(h: Held, alpha: float) -> list[tuple[Rule, str]]:
    """A rule for one tensor by its own name (the last resort: it fits what it holds)."""
    x = h.whole("describe_model")
    constant = _constant([x])
    if constant is not None:
        return [(rule(h.name, constant), f"every value {_value_words(constant)}")]
    if x.dtype.kind not in "fV":
        return [(rule(h.name, SKIP), "integers, not drawn")]
    found = _identify([h], [x], alpha)
    if found is None:  # nothing named fits: say so, and leave it to the user
        return [(rule(h.name, SKIP), "no law initcheck names fits: skipped, look at it")]
    claim_, convention, layout, said, _ = found
    return [(rule(h.name, claim_, convention=convention, layout=layout), said)]


def _constant(arrays: list[np.ndarray]) -> Spec | None:
    """The constant every value of every array is (``identify``'s exact reading), or None."""
    tensors: dict[Hashable, np.ndarray | ShardedArray] = dict(enumerate(arrays))
    found = constant(Tensors(spec("normal"), tensors,
                             dict.fromkeys(tensors, normal_law(0.0, 1.0)), get_layout("keras")))
    return None if found is None else found.spec


def _value_words(s: Spec) -> str:
    return {"zeros": "0", "ones": "1"}.get(s.name, str(s.params.get("value")))


def _padding(hs: list[Held], arrays: list[np.ndarray]) -> list[bool]:
    """Which tensors hold a zero row at their module's ``padding_idx`` among varying ones."""
    out = []
    for h, x in zip(hs, arrays):
        idx = h.attribute("padding_idx")
        out.append(isinstance(idx, int) and x.ndim == 2 and -x.shape[0] <= idx < x.shape[0]
                   and bool(np.all(x[idx] == 0)) and bool(np.any(x != 0)))
    return out if any(out) else []


def _identify(hs: list[Held], arrays: list[np.ndarray], alpha: float
              ) -> tuple[Spec, str, Any, str, bool] | None:
    """``identify`` on the group's tensors together: the best claim, its convention and
    layout (None: the tensors' own), the law in words, and whether its numbers are named
    ones (not fitted); None where no spec fits."""
    layout = hs[0].layout
    tensors: dict[Hashable, np.ndarray | ShardedArray] = {h.name: x for h, x in zip(hs, arrays)}
    ctx = Tensors(spec("normal"), tensors, dict.fromkeys(tensors, normal_law(0.0, 1.0)), layout)
    vectors = any(x.ndim < 2 for x in arrays)  # a vector has no fans: fixed laws only
    found = next((c for c in explain(ctx, alpha) if c.spec is not None and not (
        vectors and c.spec.needs_fans)), None)
    if found is None or found.spec is None:
        return None
    own = found.layout == layout.name
    if not found.named:
        found = replace(found, spec=_lockable(found.spec, sum(x.size for x in arrays)))
    assert found.spec is not None
    words = _in_words(found.spec) + ": " + found.explanation + (
        f"; the same law as {', '.join(found.same_law)}" if found.same_law else "")
    return (found.spec, found.convention,
            None if own else get_layout(found.layout, groups=layout.groups,
                                        transposed=layout.transposed), words, found.named)


def _lockable(s: Spec, n: int) -> Spec:
    """A fitted claim made to hold for the next draw too: a fitted bound (the sample's
    largest value, which a fresh draw exceeds as often as not) widened by 8/n, so a fresh
    draw exceeds it with probability about e^-8 while the edge test, which fails a bound
    its samples do not reach, still passes (p about e^-8 per tensor, far above any share of
    alpha); numbers rounded outward to digits finer than 1/n."""
    digits = max(5, math.ceil(math.log10(max(n, 1))) + 2)
    params: dict[str, Any] = {}
    for k, v in s.params.items():
        if not isinstance(v, float):
            params[k] = v
        elif s.family == "uniform" and k in ("low", "high"):
            v *= 1 + 8 / n
            step = 10 ** (math.floor(math.log10(abs(v))) - digits + 1) if v else 0.0
            params[k] = (math.ceil(v / step) if v > 0 else math.floor(v / step)) * step \
                if step else v
            params[k] = float(f"{params[k]:.{digits}g}")
        else:
            params[k] = float(f"{v:.{digits}g}")
    return spec(s.name, **params)


def _in_words(s: Spec) -> str:
    """The law as people call it: torch's default, He normal with its mode, N(0, 0.02^2)."""
    p = dict(s.params)
    kind = s.name.rpartition("_")[2]
    if s.name == "he_uniform" and p.get("nonlinearity") == "leaky_relu" \
            and abs(float(p.get("a", 0)) - math.sqrt(5)) < 1e-9 and p.get("mode") == "fan_in":
        return "torch's default Linear/Conv init, kaiming_uniform_(a=sqrt(5))"
    if s.name.startswith("he_"):
        if "gain" in p:
            return f"{kind} with variance {float(p['gain']) ** 2:g}/{p.get('mode')}"
        slope = f" a={p['a']:g}" if p.get("nonlinearity") == "leaky_relu" else ""
        return f"He {kind}, {p.get('mode')}, {p.get('nonlinearity')}{slope}"
    if s.name.startswith("xavier_"):
        return f"Xavier/Glorot {kind}" + (f", gain {p['gain']:g}" if "gain" in p else "")
    if s.name.startswith("lecun_"):
        return f"LeCun {kind}"
    if s.name in ("normal", "small_normal", "large_normal"):
        return f"N({s.law((1,)).mean:g}, {s.law((1,)).std:g}^2)"
    if s.name == "variance_scaling":
        return (f"variance scaling {float(p['scale']):.4g}/{p['mode']}, {p['distribution']}"
                + (" (lecun_normal as jax, flax and keras draw it)"
                   if p == {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}
                   else ""))
    return s.name.replace("_", " ")


def _relative(hs: list[Held], arrays: list[np.ndarray]) -> tuple[Relative, str, str] | None:
    """Vectors whose bound follows their module's weight's fan_in (torch's and equinox's
    biases): one ``Relative`` claim, where the fitted scale is within four standard errors
    (or 1%) of a named one; the final check of the policy then judges it."""
    if not all(x.ndim == 1 and "weight" in h.siblings for h, x in zip(hs, arrays)):
        return None
    convention = "torch" if hs[0].framework == "torch" else "logical"
    scaled, n = 0.0, 0
    family = "uniform"
    for h, x in zip(hs, arrays):
        w = h.siblings["weight"]
        fan = compute_fans(w.shape, w.layout, convention=convention).fan_in
        z = x.astype(np.float64)
        scaled += float(z @ z) * fan
        n += z.size
        kurt = float(np.mean(z**4) / np.mean(z**2) ** 2) if np.any(z) else 3.0
        family = family if kurt < 2.4 else "normal"
    scale = scaled / n
    kappa = 1.8 if family == "uniform" else 3.0
    tolerance = max(0.01, 4 * math.sqrt((kappa - 1) / n))  # the fitted variance's rel. SE
    named = min(RELATIVE_SCALES, key=lambda s: abs(math.log(scale / s)))
    if scale <= 0 or abs(scale / named - 1) > tolerance:
        return None
    claim_ = Relative(spec("variance_scaling", scale=named, mode="fan_in", distribution=family),
                      of="weight")
    said = (f"{family}, variance {named:.4g}/fan_in of the module's weight"
            + (" (torch's default bias, U(+-1/sqrt(fan_in)))"
               if family == "uniform" and named == 1 / 3 else ""))
    return claim_, convention, said


__all__ = ["describe_model"]
