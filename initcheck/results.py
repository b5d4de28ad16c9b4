"""The result types: ``CheckResult`` (one check) and ``Report`` (what ``verify`` found), with a
readable table, a stable JSON schema and ``raise_for_failure`` for tests.

Both are named results in the manner of scipy.stats: new fields get defaults, so callers
never break. ``CheckResult`` is frozen; ``with_extra`` returns an amended copy.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import asdict, dataclass, field, replace
from typing import Any

#: Power at which minimum detectable effects are stated.
POWER = 0.99


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check; new fields get defaults so callers never break.

    ``observed``/``expected`` are in the check's own unit (a std ratio, a mean in sigmas,
    a count); ``mde`` is the smallest effect in that unit detected with probability
    ``POWER`` at this ``alpha`` and ``n`` (nan where no single number applies).
    """

    name: str
    passed: bool
    statistic: float
    threshold: float
    pvalue: float
    alpha: float
    n: int
    mde: float
    detail: str
    observed: float = math.nan
    expected: float = math.nan
    shape: tuple[int, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def hard(
        cls,
        name: str,
        passed: bool,
        *,
        n: int,
        detail: str,
        statistic: float = 0.0,
        threshold: float = 0.0,
        observed: float = math.nan,
        expected: float = math.nan,
        extra: dict[str, Any] | None = None,
    ) -> CheckResult:
        """A deterministic check: it spends no alpha, its p-value is 1 on a pass and 0 on a
        failure, and it has no minimum detectable effect."""
        return cls(name=name, passed=bool(passed), statistic=statistic, threshold=threshold,
                   pvalue=1.0 if passed else 0.0, alpha=0.0, n=n, mde=math.nan, detail=detail,
                   observed=observed, expected=expected, extra=dict(extra or {}))

    @classmethod
    def skipped(cls, name: str, alpha: float, detail: str, *, n: int = 0) -> CheckResult:
        """A statistical check with nothing it can judge (too few elements, units too short):
        it passes, spends its alpha share on nothing, and says why (``extra['skipped']``)."""
        return cls(name=name, passed=True, statistic=math.nan, threshold=math.nan, pvalue=1.0,
                   alpha=alpha, n=n, mde=math.nan, detail=detail, extra={"skipped": True})

    def with_extra(self, **facts: Any) -> CheckResult:
        """A copy with ``facts`` added to ``extra`` (results are frozen: never mutated)."""
        return replace(self, extra={**self.extra, **facts})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["shape"] = list(self.shape) if self.shape is not None else None
        return d



SCHEMA = "initcheck.report/1"


def _num(x: float) -> str:
    if isinstance(x, float) and math.isnan(x):
        return "-"
    if isinstance(x, float) and (x == 0 or 1e-3 <= abs(x) < 1e5):
        return f"{x:.4g}"
    return f"{x:.3g}"


@dataclass
class Report:
    """What ``verify`` found. ``passed`` is True only if every check passed."""

    initializer: str
    framework: str
    layout: str
    spec: str
    seed: int
    alpha: float
    dtype: str
    shapes: list[tuple[int, ...]]
    checks: list[CheckResult] = field(default_factory=list)
    #: Other facts of the run (``draw_seconds``: time spent in the initializer).
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def alpha_spent(self) -> float:
        """Sum of the per-check false-alarm rates: never more than ``alpha`` (Bonferroni)."""
        return sum(c.alpha for c in self.checks)

    def check(self, name: str) -> CheckResult:
        """The check called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r}; this report has {[c.name for c in self.checks]}")

    def reproduce(self, shape: tuple[int, ...] | None = None) -> str:
        """The Python call that runs this verification again, exactly (every shape, the seed,
        the alpha, the dtype asked); with ``shape``, the call that draws that shape alone.
        The initializer is named as ``verify`` was given it (an expression, or its module
        and qualified name: import its module first)."""
        if "reproduce" in self.meta:  # a check of given tensors (check_tensor) says its call
            return str(self.meta["reproduce"])
        shapes = [tuple(shape)] if shape is not None else [tuple(s) for s in self.shapes]
        init = self.meta.get("call", self.initializer)
        parts = [init, f"expect=initcheck.{self.spec}" if self.spec.startswith("spec(") else
                 f"expect={self.spec}"]
        if self.framework != "numpy":
            parts.append(f"framework={self.framework!r}")
        parts.append(f"layout={self.meta.get('layout_call', repr(self.layout))}")
        parts += [f"shapes={shapes!r}", f"seed={self.seed}", f"alpha={self.alpha!r}"]
        if self.meta.get("dtype_asked", True):
            parts.append(f"dtype={self.dtype!r}")
        return f"initcheck.verify({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "initializer": self.initializer,
            "framework": self.framework,
            "layout": self.layout,
            "spec": self.spec,
            "seed": self.seed,
            "alpha": self.alpha,
            "alpha_spent": self.alpha_spent,
            "dtype": self.dtype,
            "shapes": [list(s) for s in self.shapes],
            "passed": self.passed,
            "checks": [_jsonable(c.to_dict()) for c in self.checks],
            "meta": _jsonable({k: v for k, v in self.meta.items() if k != "trace"}),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __str__(self) -> str:
        head = "\n".join([
            wrap(f"initcheck: {self.initializer} ({self.framework}, layout {self.layout}) against"
                 f" {self.spec}", indent=4),
            wrap(f"  seed {self.seed}, dtype {self.dtype}, {len(self.shapes)} shapes, family-wise"
                 f" alpha {self.alpha:g} (spent {self.alpha_spent:.3g})", indent=4)])
        rows = [("check", "where", "observed", "expected", "p-value", "alpha", "MDE", "verdict")]
        for c in self.checks:
            where = "x".join(map(str, c.shape)) if c.shape else c.extra.get("where", "all")
            rows.append((c.name, where, _num(c.observed), _num(c.expected), _num(c.pvalue),
                         _num(c.alpha), _num(c.mde), "pass" if c.passed else "FAIL"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = [head] + ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip()
                          for r in rows]
        for c in self.failures:
            lines.append(wrap(f"  FAIL {c.name}: {c.detail}", indent=7))
        for match in self.meta.get("matches", ()):
            lines.append(wrap(f"  the samples match {match}", indent=7))
        for i, found in enumerate(self.meta.get("looks_like", ())):
            lines.append(wrap(f"  {'looks like' if i == 0 else '   or like'}: {found}", indent=7))
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'}"
                     f" ({len(self.checks) - len(self.failures)}/{len(self.checks)} checks passed)")
        return "\n".join(lines)

    def raise_for_failure(self) -> None:
        """Raise ``AssertionError`` listing each failed check, its numbers and how to reproduce."""
        __tracebackhide__ = True
        if not self.passed:
            raise AssertionError(self.failure_message())

    def failure_message(self) -> str:
        """Each failed check with its numbers, the conventions the samples match, and the
        call that reproduces the run ("" when every check passed)."""
        if self.passed:
            return ""
        parts = [f"{self.initializer} does not match {self.spec}:"]
        for c in self.failures:
            where = c.extra.get("where") or (tuple(c.shape) if c.shape else "all shapes")
            parts.append(
                f"  {c.name} [{where}]: {c.detail} (observed {_num(c.observed)}, expected"
                f" {_num(c.expected)}, p = {_num(c.pvalue)}, alpha = {_num(c.alpha)},"
                f" n = {c.n}, MDE = {_num(c.mde)})")
        parts += [f"  the samples match {m}" for m in self.meta.get("matches", ())]
        parts += [f"  {'looks like' if i == 0 else '   or like'}: {c}"
                  for i, c in enumerate(self.meta.get("looks_like", ()))]
        parts.append("reproduce: " + self.reproduce())
        return "\n".join(parts)


#: Columns the text of a report fits in (long names and details wrap).
TEXT_WIDTH = 100


def wrap(line: str, *, indent: int = 4, width: int = TEXT_WIDTH) -> str:
    """``line`` wrapped at ``width`` columns, continuation lines indented by ``indent``
    (its own leading spaces are kept)."""
    return textwrap.fill(line, width, subsequent_indent=" " * indent, break_long_words=False,
                         break_on_hyphens=False)


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    """NaN and infinities become None so the JSON is strict (in nested dicts and lists too)."""
    return {k: _plain(v) for k, v in d.items()}


def _plain(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return _jsonable(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v
