"""``ModelReport``: what ``check_model`` found, one row per tensor and one group per rule and
claim, with a text that leads with what failed, a stable JSON schema
(``initcheck.model_report/1``) and ``raise_for_failure`` for tests. Named results in the
manner of scipy.stats: new fields get defaults, so callers never break."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any

from initcheck.results import TEXT_WIDTH, CheckResult, _jsonable, _num, wrap

SCHEMA = "initcheck.model_report/1"


@dataclass
class TensorRow:
    """One tensor: every name it is held under, its shape and dtype, the rule that claims it
    (1-based; None if unmatched), the claim, the verdict (``pass``, ``FAIL``, ``skip``,
    ``unmatched``), the failed checks and the worst one's numbers (check, observed,
    expected, p-value, MDE, detail)."""

    names: list[str]
    shape: list[int]
    dtype: str
    rule: int | None
    match: str | None
    claim: str
    verdict: str
    worst: dict[str, Any] | None = None
    failed: list[str] = field(default_factory=list)
    #: what the values look like instead (``initcheck.identify``), for a failed tensor
    looks_like: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.names[0]

    def summary(self) -> str:
        """The worst check in a few words: ``std 1.05 vs 1 (MDE 0.012, p 3e-40)``."""
        w = self.worst
        if not w:
            return ""
        at = f" [{w['where']}]" if w.get("where") not in (None, *self.names) else ""
        return (f"{w['check']}{at} {_num(w['observed'])} vs {_num(w['expected'])} (MDE"
                f" {_num(w['mde'])}, p {_num(w['pvalue'])})")


@dataclass
class GroupResult:
    """The tensors one rule claims with one claim, checked together: pooled and each alone.
    ``mde`` is the pooled std check's minimum detectable relative error (nan without one)."""

    rule: int
    match: str
    claim: str
    tensors: list[str]
    elements: int
    alpha: float
    checks: list[CheckResult]
    mde: float = math.nan

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def pooled_failures(self) -> list[CheckResult]:
        """Failed checks that no single tensor explains (the pooled test, pooled extremes)."""
        return [c for c in self.checks if not c.passed and c.extra.get("where") in ("pooled", "all", None)
                and not c.extra.get("failed")]


@dataclass
class ModelReport:
    """What ``check_model`` found. ``passed`` is True only if every tensor and every group
    passed, no two tensors are copies, and (``strict``) every tensor was claimed."""

    model: str
    framework: str
    policy: str
    alpha: float
    strict: bool
    rows: list[TensorRow]
    groups: list[GroupResult]
    unmatched: list[str]
    checks: list[CheckResult] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return (not self.failures and all(g.passed for g in self.groups)
                and all(c.passed for c in self.checks) and not (self.strict and self.unmatched))

    @property
    def failures(self) -> list[TensorRow]:
        return [r for r in self.rows if r.verdict == "FAIL"]

    @property
    def alpha_spent(self) -> float:
        return sum(c.alpha for g in self.groups for c in g.checks)

    def row(self, name: str) -> TensorRow:
        """The row of the tensor held under ``name``."""
        for r in self.rows:
            if name in r.names:
                return r
        raise KeyError(f"no tensor {name!r} in this report; it has {len(self.rows)}, e.g."
                       f" {[r.name for r in self.rows[:3]]}")

    def _problems(self) -> list[str]:
        out = []
        for r in self.failures:
            out.append(f"{' = '.join(r.names)}: {', '.join(r.failed)}; {r.summary()}")
            out += [f"  looks like: {c}" for c in r.looks_like[:1]]
        for g in self.groups:
            out += [f"rule {g.rule} ({g.match}), {len(g.tensors)} tensors pooled: {c.name}:"
                    f" {c.detail}" for c in g.pooled_failures]
        out += [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]
        if self.strict and self.unmatched:
            out.append(f"{len(self.unmatched)} tensors no rule claims (strict): "
                       + ", ".join(self.unmatched[:10]) + (" ..." if len(self.unmatched) > 10 else ""))
        return out

    def failure_message(self) -> str:
        """What failed, tensor by tensor, with the numbers ("" when everything passed)."""
        if self.passed:
            return ""
        lines = [f"{self.model} does not match policy {self.policy!r}:"]
        lines += [wrap("  " + p, indent=6) for p in self._problems()]
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise ``AssertionError`` listing each failed tensor and check."""
        __tracebackhide__ = True
        if not self.passed:
            raise AssertionError(self.failure_message())

    def __str__(self) -> str:
        checked = [r for r in self.rows if r.verdict in ("pass", "FAIL")]
        verdict = "PASS" if self.passed else "FAIL"
        lines = [wrap(f"initcheck: {self.model} ({self.framework}) against policy"
                      f" {self.policy!r}: {verdict}, {len(self.failures)} of {len(checked)}"
                      f" checked tensors fail; family-wise alpha {self.alpha:g} (spent"
                      f" {self.alpha_spent:.3g})", indent=4)]
        lines += [wrap("  FAIL " + p, indent=7) for p in self._problems()]
        table = [("tensor", "shape", "dtype", "rule", "verdict", "worst check")]
        for r in self.rows:
            table.append((" = ".join(r.names), "x".join(map(str, r.shape)) or "scalar", r.dtype,
                          "-" if r.rule is None else str(r.rule), r.verdict, r.summary()))
        widths = [min(44, max(len(t[i]) for t in table)) for i in range(5)]
        for t in table:
            cells = [v if len(v) <= w else v[:w - 3] + "..." for v, w in zip(t[:5], widths)]
            row = "  " + "  ".join(v.ljust(w) for v, w in zip(cells, widths))
            if len(row) + 2 + len(t[5]) > TEXT_WIDTH:  # the worst check on a line of its own
                lines += [row.rstrip(), wrap("      " + t[5], indent=8)]
            else:
                lines.append((row + "  " + t[5]).rstrip())
        lines.append("  rules (pooled std MDE, relative):")
        for g in self.groups:
            lines.append(wrap(f"    {g.rule}. {g.match} = {g.claim}: {len(g.tensors)} tensors,"
                              f" {g.elements:,} elements, MDE {_num(g.mde)},"
                              f" {'pass' if g.passed else 'FAIL'}", indent=8))
        if self.unmatched:
            lines.append(wrap(f"  unmatched ({len(self.unmatched)}"
                              f"{', fail: strict' if self.strict else ''}): "
                              + ", ".join(self.unmatched[:8])
                              + (" ..." if len(self.unmatched) > 8 else ""), indent=6))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "model": self.model, "framework": self.framework,
            "policy": self.policy, "alpha": self.alpha, "alpha_spent": self.alpha_spent,
            "strict": self.strict, "passed": self.passed,
            "tensors": [_jsonable(asdict(r)) for r in self.rows],
            "groups": [_jsonable({**{k: v for k, v in asdict(g).items() if k != "checks"},
                                  "passed": g.passed,
                                  "checks": [_jsonable(c.to_dict()) for c in g.checks]})
                       for g in self.groups],
            "unmatched": list(self.unmatched),
            "checks": [_jsonable(c.to_dict()) for c in self.checks],
            "meta": _jsonable(dict(self.meta)),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


__all__ = ["SCHEMA", "GroupResult", "ModelReport", "TensorRow"]
