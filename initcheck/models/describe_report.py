"""``describe_model``'s result: ``ModelDescription``, the policy a model passes with each rule's
evidence, written as Python or TOML (a lockfile for initialization). Frozen and built by
keyword, as every result (``initcheck.core.results``)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from initcheck.claims.specs import Spec
from initcheck.core.fans import Layout
from initcheck.core.results import Verdict, _jsonable
from initcheck.core.text import wrap
from initcheck.models.policy import SKIP, Except, Policy, Relative, Rule
from initcheck.models.report import ModelReport

SCHEMA = "initcheck.model_description/1"


@dataclass(frozen=True, kw_only=True)
class DescribedRule:
    """One rule of a described policy and its evidence: what the law is in words, the tensors
    and elements it claims, the smallest p-value of its checks and its pooled std MDE."""

    rule: Rule
    words: str
    tensors: tuple[str, ...]
    elements: int
    pvalue: float
    mde: float

    def evidence(self) -> str:
        p = "-" if self.pvalue != self.pvalue else f"{self.pvalue:.3g}"
        mde = "" if self.mde != self.mde else f", MDE {self.mde:.3g}"
        return f"{len(self.tensors)} tensors, {self.elements:,} elements, p = {p}{mde}"

    def to_dict(self) -> dict[str, Any]:
        r = self.rule
        return _jsonable({"match": r.match, "module": list(r.module), "claim": _python(r.claim),
                          "convention": r.convention, "words": self.words,
                          "tensors": list(self.tensors), "elements": self.elements,
                          "pvalue": self.pvalue, "mde": self.mde})


@dataclass(frozen=True, kw_only=True)
class ModelDescription(Verdict):
    """What a model's initialization is, as the smallest policy it passes.

    Attributes:
        model: the model's class name.
        framework: its framework.
        alpha: the false-alarm rate of the identification and of the final check.
        rules: the rules, each with its evidence, in policy order.
        report: the model checked against the described policy.
        seconds: the time it took.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> model = {"w": np.random.default_rng(0).normal(0, 0.02, (256, 128))}
        >>> described = ic.describe_model(model)
        >>> described.passed, len(described.rules)
        (True, 1)
    """

    SCHEMA: ClassVar[str] = SCHEMA

    model: str
    framework: str
    alpha: float
    rules: tuple[DescribedRule, ...]
    report: ModelReport
    seconds: float | None = None

    @property
    def policy(self) -> Policy:
        """The described policy, as ``check_model`` takes it."""
        return Policy(tuple(r.rule for r in self.rules), f"{self.model} (described)")

    @property
    def passed(self) -> bool:
        """The model passes its described policy (a tensor no named law fits is skipped and
        said so; it does not pass silently)."""
        return self.report.passed and not self.unexplained

    @property
    def unexplained(self) -> list[str]:
        """Tensors no law initcheck names fits (skipped in the policy, for a person to read)."""
        return [r.rule.match for r in self.rules if r.rule.claim == SKIP and "no law" in r.words]

    def failure_message(self) -> str:
        if self.passed:
            return ""
        lines = [f"{self.model}: no policy of named laws explains every tensor:"]
        lines += [f"  {name}: no law initcheck names fits its values" for name in self.unexplained]
        if not self.report.passed:
            lines.append(self.report.failure_message())
        return "\n".join(lines)

    def to_python(self) -> str:
        """The policy as Python, each rule with the law in words and its evidence."""
        lines = ["import initcheck as ic", "from initcheck import spec",
                 "from initcheck.models import Except, Relative, rule", "",
                 f"# {self.model}'s initialization, described by initcheck", "POLICY = ["]
        for r in self.rules:
            lines.append(f"    # {r.words} ({r.evidence()})")
            lines.append(f"    {_rule_python(r.rule)},")
        lines.append("]")
        return "\n".join(lines) + "\n"

    def to_toml(self) -> str:
        """The policy as TOML (``check_model(model, "policy.toml")`` reads it back)."""
        lines = [f"# {self.model}'s initialization, described by initcheck",
                 f"name = {json.dumps(self.model + ' (described)')}", ""]
        for r in self.rules:
            lines.append(f"# {r.words} ({r.evidence()})")
            lines += _rule_toml(r.rule) + [""]
        return "\n".join(lines)

    def __str__(self) -> str:
        verdict = "PASS" if self.passed else "INCOMPLETE"
        lines = [wrap(f"initcheck describe: {self.model} ({self.framework}): {len(self.rules)}"
                      f" rules, {verdict}; alpha {self.alpha:g}", indent=4)]
        for i, r in enumerate(self.rules, 1):
            lines.append(wrap(f"  {i}. {_rule_python(r.rule)}", indent=6))
            lines.append(wrap(f"     {r.words}; {r.evidence()}", indent=6))
        if not self.passed:
            lines.append(self.failure_message())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "model": self.model, "framework": self.framework,
                "alpha": self.alpha, "passed": self.passed,
                "rules": [r.to_dict() for r in self.rules], "python": self.to_python(),
                "toml": self.to_toml(), "report": self.report.to_dict(),
                "meta": _jsonable({"seconds": self.seconds} if self.seconds is not None else {})}


def _python(claim: Any) -> str:
    if isinstance(claim, Except):
        index = ", ".join(f"{k!r}: {_python(v)}" for k, v in claim.index.items())
        return f"Except({_python(claim.claim)}, {{{index}}})"
    if isinstance(claim, Relative):
        return f"Relative({_python(claim.claim)}, of={claim.of!r})"
    if claim == SKIP:
        return '"skip"'
    return repr(claim)


def _layout_python(layout: str | Layout) -> str:
    if isinstance(layout, str):
        return repr(layout)
    base = layout.name.split("(")[0]
    extra = (f", groups={layout.groups}" if layout.groups > 1 else "") + (
        ", transposed=True" if layout.transposed else "")
    return f"ic.get_layout({base!r}{extra})" if extra else repr(base)


def _rule_python(r: Rule) -> str:
    args = [repr(r.match), _python(r.claim)]
    if r.module:
        args.append(f"module={r.module[0]!r}" if len(r.module) == 1
                    else f"module={list(r.module)!r}")
    if r.convention != "logical":
        args.append(f"convention={r.convention!r}")
    if r.layout is not None:
        args.append(f"layout={_layout_python(r.layout)}")
    return f"rule({', '.join(args)})"


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) and math.isfinite(v) else repr(v)
    return json.dumps(str(v))


def _spec_toml(s: Spec) -> list[str]:
    out = [f"spec = {json.dumps(s.name)}"]
    if s.params:
        out.append("params = {" + ", ".join(f"{k} = {_toml_value(v)}"
                                             for k, v in s.params.items()) + "}")
    return out


def _rule_toml(r: Rule) -> list[str]:
    out = ["[[rule]]", f"match = {json.dumps(r.match)}"]
    if r.module:
        out.append(f"module = {json.dumps(list(r.module) if len(r.module) > 1 else r.module[0])}")
    claim = r.claim
    if claim == SKIP:
        out.append("skip = true")
        return out
    if isinstance(claim, Relative):
        out += _spec_toml(claim.claim)
        of = claim.of
        out.append(f"relative_to = {json.dumps(of if isinstance(of, str) else list(of))}")
    elif isinstance(claim, Except):
        out += _spec_toml(claim.claim)
        entries = []
        for k, v in claim.index.items():
            params = "".join(f", {p} = {_toml_value(x)}" for p, x in v.params.items())
            entries.append(f"{{index = {_toml_value(k)}, spec = {json.dumps(v.name)}"
                           + (f", params = {{{params[2:]}}}" if params else "") + "}")
        out.append("except = [" + ", ".join(entries) + "]")
    elif isinstance(claim, Spec):
        out += _spec_toml(claim)
    else:  # a Split: no TOML form written here
        raise ValueError(f"rule {r.match!r}: a {type(claim).__name__} claim has no TOML form"
                         " here; write it by hand (docs/models.md).")
    if r.convention != "logical":
        out.append(f"convention = {json.dumps(r.convention)}")
    if r.layout is not None:
        name = r.layout if isinstance(r.layout, str) else r.layout.name.split("(")[0]
        out.append(f"layout = {json.dumps(name)}")
    return out


__all__ = ["SCHEMA", "DescribedRule", "ModelDescription"]
