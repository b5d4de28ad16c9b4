"""``ModelReport``: what ``check_model`` found, one row per tensor and one group per rule and
claim, with a text that leads with what failed, a stable JSON schema
(``initcheck.model_report/1``) and ``raise_for_failure`` for tests. Frozen and built by
keyword, as every result (``initcheck.core.results``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from initcheck.core.results import CheckResult, Explanation, Verdict, _jsonable
from initcheck.core.text import num, table, wrap

SCHEMA = "initcheck.model_report/1"
#: Tensor names longer than this go on a line of their own in the table.
NAME_COLUMN = 36


@dataclass(frozen=True, kw_only=True)
class TensorRow:
    """One tensor: every name it is held under, its shape and dtype, the rule that claims it
    (1-based; None if unmatched), the claim, the verdict (``pass``, ``FAIL``, ``skip``,
    ``unmatched``, ``empty``: no elements, nothing to check), the failed checks and the
    worst one's numbers (check, observed, expected, p-value, MDE, detail)."""

    names: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: str
    rule: int | None
    match: str | None
    claim: str
    verdict: str
    worst: dict[str, Any] | None = None
    failed: tuple[str, ...] = ()
    #: what the values look like instead (``initcheck.identify``), for a failed tensor
    looks_like: tuple[Explanation, ...] = ()
    #: the name its rule claimed it through, where not its first (a tied tensor's)
    via: str | None = None
    #: its module's class name; None where the model does not say (a bare parameter pytree)
    module: str | None = None

    @property
    def passed(self) -> bool:
        """False only for a tensor that failed a check (skipped and unmatched ones pass)."""
        return self.verdict != "FAIL"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(names=list(self.names), shape=list(self.shape), failed=list(self.failed),
                 looks_like=[str(e) for e in self.looks_like])
        return _jsonable(d)

    @property
    def name(self) -> str:
        return self.names[0]

    def summary(self) -> str:
        """The worst check in a few words: ``std 1.05 vs 1 (MDE 0.012, p 3e-40)``; what the
        tensor holds, for a deterministic check or one whose statistic is not finite (``support:
        64 of 64 values are not the claimed 1; every value is 0.99``)."""
        w = self.worst
        if not w:
            return ""
        at = f" [{w['where']}]" if w.get("where") not in (None, *self.names) else ""
        observed = w.get("observed")
        if w.get("hard") or not (isinstance(observed, float) and math.isfinite(observed)):
            return f"{w['check']}{at}: {w.get('detail', '')}"
        return (f"{w['check']}{at} {num(w['observed'])} vs {num(w['expected'])} (MDE"
                f" {num(w['mde'])}, p {num(w['pvalue'])})")


@dataclass(frozen=True, kw_only=True)
class GroupResult:
    """The tensors one rule claims with one claim, checked together: pooled and each alone.
    ``mde`` is the pooled std check's minimum detectable relative error (nan without one)."""

    rule: int
    match: str
    claim: str
    tensors: tuple[str, ...]
    elements: int
    alpha: float
    checks: tuple[CheckResult, ...]
    mde: float = math.nan

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def pooled_failures(self) -> list[CheckResult]:
        """Failed checks that no single tensor explains (the pooled test, pooled extremes)."""
        return [
            c
            for c in self.checks
            if not c.passed
            and c.extra.get("where") in ("pooled", "all", None)
            and not c.extra.get("failed")
        ]

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({**{k: v for k, v in asdict(self).items() if k != "checks"},
                          "tensors": list(self.tensors), "passed": self.passed,
                          "checks": [c.to_dict() for c in self.checks]})


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """How much of a model a check covered: (tensors, elements) checked, skipped (claimed
    "skip") and unclaimed (no rule matches them)."""

    checked: tuple[int, int]
    skipped: tuple[int, int]
    unclaimed: tuple[int, int]

    def to_dict(self) -> dict[str, dict[str, int]]:
        return {k: {"tensors": v[0], "elements": v[1]} for k, v in
                (("checked", self.checked), ("skipped", self.skipped),
                 ("unclaimed", self.unclaimed))}

    def __str__(self) -> str:
        total = sum(v[1] for v in (self.checked, self.skipped, self.unclaimed)) or 1
        return ", ".join(f"{k} {v[0]} tensors ({v[1]:,} elements, {v[1] / total:.1%})"
                         for k, v in (("checked", self.checked), ("skipped", self.skipped),
                                      ("unclaimed", self.unclaimed)))


def _is_float(dtype: str) -> bool:
    """Whether a dtype's name is a floating type (float16/32/64, bfloat16, ml_dtypes' fp8)."""
    return "float" in dtype


@dataclass(frozen=True, kw_only=True)
class ModelReport(Verdict):
    """What ``check_model`` found. ``passed`` is True only if every tensor and every group passed,
    no two tensors are copies, and (``strict``) every tensor was claimed.

    Attributes:
        model: the model's class name.
        framework: where it came from (``torch``, ``flax``, ``jax``, ...).
        policy: the policy's name.
        alpha: the family-wise false-alarm rate of the whole model.
        strict: whether unclaimed tensors fail.
        rows: a ``TensorRow`` per tensor, in model order.
        groups: a ``GroupResult`` per rule and claim.
        unmatched: the tensors no rule claims.
        checks: the model-wide checks (``distinct_tensors``).
        seconds: the check's time.
        elements: the model's elements.
        builtin: the policy is a built-in preset, which must claim every float tensor.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> from initcheck.models import rule
        >>> w = {"dense": {"kernel": np.random.default_rng(0).normal(0, 0.02, (256, 128))}}
        >>> ic.check_model(w, [rule("*.kernel", ic.spec("normal", std=0.02))]).rows[0].verdict
        'pass'
    """

    SCHEMA: ClassVar[str] = SCHEMA

    model: str
    framework: str
    policy: str
    alpha: float
    strict: bool
    rows: tuple[TensorRow, ...]
    groups: tuple[GroupResult, ...]
    unmatched: tuple[str, ...]
    checks: tuple[CheckResult, ...] = ()
    seconds: float | None = None
    elements: int | None = None
    #: the policy is a built-in preset: it must claim every float tensor the model holds
    builtin: bool = False

    @property
    def coverage(self) -> Coverage:
        """Tensors and elements checked, skipped (claimed "skip", or empty) and unclaimed."""
        def count(verdicts: tuple[str, ...]) -> tuple[int, int]:
            rows = [r for r in self.rows if r.verdict in verdicts]
            return len(rows), sum(math.prod(r.shape) for r in rows)

        return Coverage(checked=count(("pass", "FAIL")), skipped=count(("skip", "empty")),
                        unclaimed=count(("unmatched",)))

    @property
    def uncovered(self) -> list[TensorRow]:
        """What keeps a report with no failed check from passing: every tensor unclaimed under
        ``strict``, and the float tensors a built-in policy does not claim."""
        if self.strict:
            return [r for r in self.rows if r.verdict == "unmatched"]
        if self.builtin:
            return [r for r in self.rows if r.verdict == "unmatched" and _is_float(r.dtype)]
        return []

    @property
    def meta(self) -> dict[str, Any]:
        """The run's facts as the JSON's ``meta`` object holds them (read-only)."""
        return {k: v for k, v in (("seconds", self.seconds), ("elements", self.elements))
                if v is not None}

    @property
    def passed(self) -> bool:
        """Every checked tensor and group passed, no copies, something was checked at all, and
        nothing is left uncovered (``uncovered``)."""
        return (not self.failures and all(g.passed for g in self.groups)
                and all(c.passed for c in self.checks) and self.coverage.checked[0] > 0
                and not self.uncovered)

    @property
    def failures(self) -> list[TensorRow]:
        return [r for r in self.rows if r.verdict == "FAIL"]

    @property
    def alpha_spent(self) -> float:
        """The false-alarm rate the report's checks spent: every group's and the model-wide
        tests' (near copies)."""
        return (sum(c.alpha for g in self.groups for c in g.checks)
                + sum(c.alpha for c in self.checks))

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
            through = f" (rule {r.rule} via {r.via})" if r.via else ""
            out.append(f"{' = '.join(r.names)}{through}: {', '.join(r.failed)}; {r.summary()}")
            out += [f"  looks like: {c}" for c in r.looks_like[:1]]
        for g in self.groups:
            out += [f"rule {g.rule} ({g.match}), {len(g.tensors)} tensors pooled: {c.name}:"
                    f" {c.detail}" for c in g.pooled_failures]
        out += [f"{c.name}: {c.detail}" for c in self.checks if not c.passed]
        if self.coverage.checked[0] == 0:
            out.append(f"nothing was checked: no rule of policy {self.policy!r} claims a tensor"
                       f" of the {len(self.rows)} the model holds (a model passes only where"
                       " something was checked)")
        uncovered = self.uncovered
        if uncovered:
            why = "strict" if self.strict else f"the built-in {self.policy!r} policy must claim"\
                " every float tensor; add rules for them"
            unknown = sum(r.module is None for r in uncovered)
            note = (f"; {unknown} of them with no module type, which a bare parameter pytree"
                    " does not carry: pass the module itself, or claim them by name"
                    if unknown else "")
            out.append(f"{len(uncovered)} tensors no rule claims ({why}): "
                       + ", ".join(r.name for r in uncovered[:10])
                       + (" ..." if len(uncovered) > 10 else "") + note)
        return out

    def failure_message(self) -> str:
        """What failed, tensor by tensor, with the numbers ("" when everything passed)."""
        if self.passed:
            return ""
        lines = [f"{self.model} does not match policy {self.policy!r}:"]
        lines += [wrap("  " + p, indent=6) for p in self._problems()]
        return "\n".join(lines)

    def __str__(self) -> str:
        cov = self.coverage
        verdict = "PASS" if self.passed else "FAIL"
        lines = [wrap(f"initcheck: {self.model} ({self.framework}) against policy"
                      f" {self.policy!r}: {verdict}, {len(self.failures)} of {cov.checked[0]}"
                      f" checked tensors fail; family-wise alpha {self.alpha:g} (spent"
                      f" {self.alpha_spent:.3g})", indent=4),
                 wrap(f"  coverage: {cov}", indent=4)]
        lines += [wrap(("       " if p.startswith(" ") else "  FAIL ") + p.lstrip(), indent=9
                       if p.startswith(" ") else 7) for p in self._problems()]
        rows = [("tensor", "shape", "dtype", "rule", "verdict", "worst check")]
        for r in self.rows:
            rows.append((" = ".join(r.names), "x".join(map(str, r.shape)) or "scalar", r.dtype,
                         "-" if r.rule is None else str(r.rule), r.verdict, r.summary()))
        lines += table(rows, first_max=NAME_COLUMN)
        lines.append("  rules (pooled std MDE, relative):")
        for g in self.groups:
            lines.append(wrap(f"    {g.rule}. {g.match} = {g.claim}: {len(g.tensors)} tensors,"
                              f" {g.elements:,} elements, MDE {num(g.mde)},"
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
            "tensors": [r.to_dict() for r in self.rows],
            "groups": [g.to_dict() for g in self.groups],
            "unmatched": list(self.unmatched),
            "coverage": self.coverage.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
            "meta": _jsonable(self.meta),
        }


__all__ = ["SCHEMA", "Coverage", "GroupResult", "ModelReport", "TensorRow"]
