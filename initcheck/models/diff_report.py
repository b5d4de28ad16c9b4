"""``compare_models``' result: ``ModelDiff``, a row per matched tensor (``DiffRow``) and the
pooled scale test of each group. Frozen and built by keyword, as every result
(``initcheck.core.results``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from initcheck.core.results import CheckResult, Verdict, _jsonable
from initcheck.core.text import table, wrap

#: Tensor names longer than this go on a line of their own in the table.
NAME_COLUMN = 40

SCHEMA = "initcheck.model_diff/1"


@dataclass(frozen=True, kw_only=True)
class DiffRow:
    """One tensor matched across the two models: its name in each, its shape in each, the
    std ratio (a over b) with its 99% interval, the two-sample checks, and, where they fail,
    what each side looks like (``identify``'s best claim, or its constant).

    Attributes:
        name: the tensor's name in model a.
        name_b: its name in model b.
        shape: its shape in a.
        shape_b: its shape in b (its axes may be stored in another order).
        ratio: std(a) / std(b) (nan where a side is constant).
        ratio_low: the ratio's 99% interval, low end.
        ratio_high: the ratio's 99% interval, high end.
        checks: the two-sample checks.
        holds_a: what a's values look like, where the checks fail.
        holds_b: what b's values look like, where the checks fail.
    """

    name: str
    name_b: str
    shape: tuple[int, ...]
    shape_b: tuple[int, ...]
    ratio: float
    ratio_low: float
    ratio_high: float
    checks: tuple[CheckResult, ...]
    holds_a: str = ""
    holds_b: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({"name": self.name, "name_b": self.name_b, "shape": list(self.shape),
                          "shape_b": list(self.shape_b), "ratio": self.ratio,
                          "ratio_low": self.ratio_low, "ratio_high": self.ratio_high,
                          "passed": self.passed, "checks": [c.to_dict() for c in self.checks],
                          "holds_a": self.holds_a, "holds_b": self.holds_b})


@dataclass(frozen=True, kw_only=True)
class ModelDiff(Verdict):
    """Whether two models' initializations follow the same laws, tensor by tensor.

    Attributes:
        model_a: model a's class name.
        model_b: model b's class name.
        alpha: the family-wise false-alarm rate over every check.
        rows: a ``DiffRow`` per matched tensor, in a's order.
        groups: the pooled scale test of each group of tensors (one module type and tensor
            name, as ``Linear.weight``), where a group has two or more.
        only_a: tensors of a with no match in b.
        only_b: tensors of b with no match in a.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> a = {"w": np.random.default_rng(0).normal(0, 0.02, (256, 128))}
        >>> b = {"w": np.random.default_rng(1).normal(0, 0.02, (256, 128))}
        >>> ic.compare_models(a, b).passed
        True
    """

    SCHEMA: ClassVar[str] = SCHEMA

    model_a: str
    model_b: str
    alpha: float
    rows: tuple[DiffRow, ...]
    groups: tuple[tuple[str, CheckResult], ...] = ()
    only_a: tuple[str, ...] = ()
    only_b: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """Every matched tensor and group agrees, and every tensor has its match."""
        return (all(r.passed for r in self.rows) and all(c.passed for _, c in self.groups)
                and not self.only_a and not self.only_b)

    @property
    def differences(self) -> list[DiffRow]:
        """The tensors whose initialization differs."""
        return [r for r in self.rows if not r.passed]

    def _problems(self) -> list[str]:
        out = []
        for r in self.differences:
            failed = ", ".join(c.name for c in r.checks if not c.passed)
            renamed = f" (b: {r.name_b})" if r.name_b != r.name else ""
            ratio = (f"; std ratio {r.ratio:.4g} [{r.ratio_low:.4g}, {r.ratio_high:.4g}]"
                     if r.ratio == r.ratio else "")
            out.append(f"{r.name}{renamed}: {failed}{ratio}"
                       + (f"; a holds {r.holds_a}; b holds {r.holds_b}" if r.holds_a else ""))
        out += [f"{key}, pooled: {c.detail}" for key, c in self.groups if not c.passed]
        if self.only_a:
            out.append(f"{len(self.only_a)} tensors of a have no match in b: "
                       + ", ".join(self.only_a[:8]) + (" ..." if len(self.only_a) > 8 else ""))
        if self.only_b:
            out.append(f"{len(self.only_b)} tensors of b have no match in a: "
                       + ", ".join(self.only_b[:8]) + (" ..." if len(self.only_b) > 8 else ""))
        return out

    def failure_message(self) -> str:
        """The tensors whose initialization differs, with the numbers ("" when none)."""
        if self.passed:
            return ""
        lines = [f"{self.model_a} and {self.model_b} are initialized differently:"]
        return "\n".join(lines + [wrap("  " + p, indent=6) for p in self._problems()])

    def __str__(self) -> str:
        verdict = "SAME" if self.passed else "DIFFERENT"
        lines = [wrap(f"initcheck diff: {self.model_a} vs {self.model_b}: {verdict},"
                      f" {len(self.differences)} of {len(self.rows)} matched tensors differ;"
                      f" family-wise alpha {self.alpha:g}", indent=4)]
        lines += [wrap("  DIFF " + p, indent=7) for p in self._problems()]
        rows = [("tensor", "verdict", "std ratio (99%)")]
        for r in self.rows:
            ratio = (f"{r.ratio:.4f} [{r.ratio_low:.4f}, {r.ratio_high:.4f}]"
                     if r.ratio == r.ratio else "constant")
            rows.append((r.name, "same" if r.passed else "DIFF", ratio))
        lines += table(rows, first_max=NAME_COLUMN)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "model_a": self.model_a, "model_b": self.model_b,
                "alpha": self.alpha, "passed": self.passed,
                "tensors": [r.to_dict() for r in self.rows],
                "groups": [{"group": k, "check": c.to_dict()} for k, c in self.groups],
                "only_a": list(self.only_a), "only_b": list(self.only_b)}


__all__ = ["SCHEMA", "DiffRow", "ModelDiff"]
