"""The result contract every result type keeps (``Result``, ``Verdict``), and the ground
floor's results: ``CheckResult`` (one check), ``Diagnosis`` (what failed samples follow
instead) and ``Report`` (what ``verify`` and ``check_tensor`` found).

Every result is frozen and built by keyword, in the manner of scipy.stats' named results: new
fields get defaults, so callers never break; ``dataclasses.replace`` makes amended copies.
Each has ``to_dict``/``to_json`` valid against the JSON Schema its ``SCHEMA`` names
(``initcheck.core.schema.SCHEMAS``) and a ``__str__`` within ``TEXT_WIDTH`` columns; one
with a verdict has ``passed``, ``failure_message`` and ``raise_for_failure``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, ClassVar

from initcheck.core.text import DEFAULT_WIDTH, last_column_fits, num, short, table, wrap

#: Power at which minimum detectable effects are stated.
POWER = 0.99
#: Columns the text of every result fits in when output is not a terminal (long names and
#: details wrap; on a terminal, its width: ``initcheck.core.text.text_width``).
TEXT_WIDTH = DEFAULT_WIDTH


class Result:
    """What every result type has: ``to_dict`` (plain JSON types, NaN as None) and
    ``to_json``, valid against the schema ``SCHEMA`` names in ``initcheck.core.schema``."""

    #: The schema this result's ``to_dict`` follows (a key of ``initcheck.core.schema.SCHEMAS``).
    SCHEMA: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON types (NaN and infinities as None)."""
        raise NotImplementedError

    def to_json(self, indent: int | None = 2) -> str:
        """``to_dict`` as strict JSON text (no NaN)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


class Verdict(Result):
    """A result with a verdict: ``passed`` (a field or a property of the subclass), the text
    of what failed, and an assertion."""

    if TYPE_CHECKING:  # declared for type checkers only: a property here would be a field's
        # default in a dataclass subclass that has ``passed`` as a field (CheckResult)
        @property
        def passed(self) -> bool: ...

    def failure_message(self) -> str:
        """What failed, with the numbers ("" when it passed)."""
        raise NotImplementedError

    def raise_for_failure(self) -> None:
        """Raise ``AssertionError`` with ``failure_message()`` unless the result passed."""
        __tracebackhide__ = True
        if not self.passed:
            raise AssertionError(self.failure_message())


@dataclass(frozen=True, kw_only=True)
class CheckResult(Verdict):
    """The outcome of one check, with the numbers that make it a proof: ``observed`` and
    ``expected`` in the check's own unit (a std ratio, a mean in sigmas, a count) and the
    smallest effect in that unit detected with probability ``POWER`` at this ``alpha`` and ``n``.

    Attributes:
        name: the check (``std``, ``distribution``, ...).
        passed: its verdict.
        statistic: the test statistic.
        threshold: the statistic's acceptance bound.
        pvalue: the p-value (1 or 0 for a deterministic check).
        alpha: the false-alarm rate it spent (0 for a deterministic check).
        n: the values it read.
        mde: the minimum detectable effect at power ``POWER`` (nan where no number applies).
        detail: what it found, in words.
        observed: the observed value, in the check's unit.
        expected: the claimed value, in the check's unit.
        shape: the shape it looked at (None: pooled or all).
        extra: further facts (``where``, per-tensor ``parts``, ``skipped``).

    Example:
        >>> import initcheck as ic
        >>> std = ic.verify("he_normal", shapes=[(256, 128)]).check("std")
        >>> std.passed and std.mde < 0.1
        True
    """

    SCHEMA: ClassVar[str] = "initcheck.check/1"

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
        return _jsonable(d)

    @property
    def where(self) -> str:
        """Where the check looked: a shape, a tensor's name, ``pooled`` or ``all``."""
        return "x".join(map(str, self.shape)) if self.shape else str(self.extra.get("where", "all"))

    def failure_message(self) -> str:
        if self.passed:
            return ""
        where = self.extra.get("where") or (tuple(self.shape) if self.shape else "all shapes")
        return (f"{self.name} [{where}]: {self.detail} (observed {num(self.observed)},"
                f" expected {num(self.expected)}, p = {num(self.pvalue)}, alpha ="
                f" {num(self.alpha)}, n = {self.n}, MDE = {num(self.mde)})")

    def __str__(self) -> str:
        return wrap(f"{self.name} [{self.where}]: {'pass' if self.passed else 'FAIL'};"
                    f" {self.detail} (observed {num(self.observed)}, expected"
                    f" {num(self.expected)}, p = {num(self.pvalue)})", indent=4)


@dataclass(frozen=True, kw_only=True)
class Explanation:
    """One law the samples look like instead of the claim: Python for it (``claim``) and the
    evidence (std ratio, p-value, why), as ``identify`` ranks them."""

    claim: str
    evidence: str

    def __str__(self) -> str:
        return f"{self.claim}, {self.evidence}"


@dataclass(frozen=True, kw_only=True)
class Diagnosis:
    """What failed samples follow instead of their claim: the claim's sibling conventions
    they pass (``matches``; None where the family has none to try) and the named laws they look
    like, best first (``looks_like``; empty when the best is the claim itself)."""

    matches: tuple[str, ...] | None = None
    looks_like: tuple[Explanation, ...] = ()

    def lines(self) -> list[str]:
        """The diagnosis as report lines."""
        return ([f"the samples match {m}" for m in self.matches or ()]
                + [f"{'looks like' if i == 0 else '   or like'}: {e}"
                   for i, e in enumerate(self.looks_like)])


SCHEMA = "initcheck.report/1"


@dataclass(frozen=True, kw_only=True)
class Report(Verdict):
    """What ``verify`` (or ``check_tensor``) found: every check, and on a failure what the samples
    follow instead. ``passed`` is True only if every check passed.

    Attributes:
        initializer: the initializer's name as the run was given it.
        framework: how it was called (``numpy``, ``torch``, ``jax``, ...).
        layout: the layout shapes were read in.
        spec: the claim, as Python (``spec('he_normal', ...)``).
        seed: the seed every draw derived from.
        alpha: the family-wise false-alarm rate of the call.
        dtype: the dtype asked (or the dtypes returned, where none could be asked).
        shapes: the shapes drawn.
        checks: every ``CheckResult``, in the order they ran.
        call: Python naming the initializer again (verify), or None.
        layout_call: Python naming the layout again (verify), or None.
        dtype_asked: whether the dtype was asked of the initializer (None: check_tensor).
        diagnosis: on a failure, what the samples follow instead (a ``Diagnosis``), else None.
        reproduce_call: check_tensor's own call that reproduces it, or None.
        draw_seconds: time spent in the initializer.
        elements: elements checked.
        trace: the propagation check's simulated net (a ``Trace``; not in the JSON), or None.

    Example:
        >>> import initcheck as ic
        >>> report = ic.verify("he_normal", shapes=[(256, 128)])
        >>> report.passed, report.check("std").passed, report.to_dict()["schema"]
        (True, True, 'initcheck.report/1')
    """

    SCHEMA: ClassVar[str] = SCHEMA

    initializer: str
    framework: str
    layout: str
    spec: str
    seed: int
    alpha: float
    dtype: str
    shapes: tuple[tuple[int, ...], ...]
    checks: tuple[CheckResult, ...]
    call: str | None = None
    layout_call: str | None = None
    dtype_asked: bool | None = None
    diagnosis: Diagnosis | None = None
    reproduce_call: str | None = None
    draw_seconds: float | None = None
    elements: int | None = None
    #: the propagation check's ``initcheck.propagation.simulation.Trace`` (not in the JSON)
    trace: Any = field(default=None, compare=False, repr=False)

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

    @property
    def meta(self) -> dict[str, Any]:
        """The run's facts as the JSON's ``meta`` object holds them (read-only)."""
        facts: dict[str, Any] = {}
        if self.dtype_asked is not None:
            facts["dtype_asked"] = self.dtype_asked
        if self.call is not None:
            facts["call"] = self.call
        if self.layout_call is not None:
            facts["layout_call"] = self.layout_call
        if self.diagnosis is not None:
            if self.diagnosis.matches is not None:
                facts["matches"] = list(self.diagnosis.matches)
            facts["looks_like"] = [str(e) for e in self.diagnosis.looks_like]
        if self.reproduce_call is not None:
            facts["reproduce"] = self.reproduce_call
        if self.draw_seconds is not None:
            facts["draw_seconds"] = self.draw_seconds
        if self.elements is not None:
            facts["elements"] = self.elements
        return facts

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
        if self.reproduce_call is not None:  # a check of given tensors says its own call
            return self.reproduce_call
        shapes = [tuple(shape)] if shape is not None else [tuple(s) for s in self.shapes]
        init = self.call or self.initializer
        parts = [init, f"expect=initcheck.{self.spec}" if self.spec.startswith("spec(") else
                 f"expect={self.spec}"]
        if self.framework != "numpy":
            parts.append(f"framework={self.framework!r}")
        parts.append(f"layout={self.layout_call or repr(self.layout)}")
        parts += [f"shapes={shapes!r}", f"seed={self.seed}", f"alpha={short(self.alpha)}"]
        if self.dtype_asked is not False:
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
            "checks": [c.to_dict() for c in self.checks],
            "meta": _jsonable(self.meta),
        }

    def __str__(self) -> str:
        statistical = {c.alpha for c in self.checks if c.alpha > 0}
        each = (f"; each check's alpha {num(statistical.pop())}" if len(statistical) == 1
                else "")
        lines = [
            wrap(f"initcheck: {self.initializer} ({self.framework}, layout {self.layout}) against"
                 f" {self.spec}", indent=4),
            wrap(f"  seed {self.seed}, dtype {self.dtype}, {len(self.shapes)} shapes, family-wise"
                 f" alpha {self.alpha:g} (spent {self.alpha_spent:.3g}){each}", indent=4)]
        head = ["check", "observed", "expected", "p-value", "MDE", "verdict", "where"]
        if not each:
            head.insert(4, "alpha")
        rows = [tuple(head)]
        for c in self.checks:
            cells = [c.name, num(c.observed), num(c.expected), num(c.pvalue), num(c.mde),
                     "pass" if c.passed else "FAIL", c.where]
            if not each:
                cells.insert(4, num(c.alpha))
            rows.append(tuple(cells))
        where = last_column_fits(rows)  # else each failure says where, below
        lines += table(rows if where else [r[:-1] for r in rows])
        for c in self.failures:
            tag = "" if where or c.detail.startswith(str(c.where)) else f" [{c.where}]"
            lines.append(wrap(f"  FAIL {c.name}{tag}: {c.detail}", indent=7))
        lines += [wrap("  " + line, indent=7) for line in self._diagnosis_lines()]
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'}"
                     f" ({len(self.checks) - len(self.failures)}/{len(self.checks)} checks passed)")
        return "\n".join(lines)

    def _diagnosis_lines(self) -> list[str]:
        return self.diagnosis.lines() if self.diagnosis is not None else []

    def failure_message(self) -> str:
        """Each failed check with its numbers, the conventions the samples match, and the
        call that reproduces the run ("" when every check passed)."""
        if self.passed:
            return ""
        parts = [f"{self.initializer} does not match {self.spec}:"]
        parts += ["  " + c.failure_message() for c in self.failures]
        parts += ["  " + line for line in self._diagnosis_lines()]
        parts.append("reproduce: " + self.reproduce())
        return "\n".join(parts)


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
