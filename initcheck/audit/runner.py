"""Audits: verify a whole set of initializers against the specs they document and, where an
initializer is meant for an activation, the propagation property under it.

``builtin`` is initcheck's own set; the framework sets (torch, jax, keras, haiku, flax,
equinox) are loaded by name from ``initcheck.audit.catalogues`` through ``CATALOGUES``, and
plug-ins through ``ENTRY_POINT_GROUP``. The audit's alpha is split evenly over its initializers
(Bonferroni)."""

from __future__ import annotations

import importlib
import importlib.metadata
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from initcheck.audit.entry import Entry
from initcheck.core import _validate
from initcheck.core.defaults import DEFAULT_AUDIT_ALPHA
from initcheck.core.results import Report, Verdict
from initcheck.core.text import text_width, wrap

#: Initializer names longer than this go on a line of their own in the audit's text.
NAME_COLUMN = 36

__all__ = [
    "CATALOGUES",
    "ENTRY_POINT_GROUP",
    "AuditResult",
    "AuditRow",
    "Entry",
    "available",
    "run",
]


def _catalogue(name: str) -> Callable[[], list[Entry]]:
    def entries() -> list[Entry]:
        return list(importlib.import_module(f"initcheck.audit.catalogues.{name}").catalogue())
    return entries


#: Catalogue name -> function listing its entries (frameworks import on use).
CATALOGUES: dict[str, Callable[[], list[Entry]]] = {
    name: _catalogue(name)
    for name in ("builtin", "torch", "jax", "keras", "haiku", "flax", "equinox")}
#: The entry-point group through which other packages add catalogues: in their
#: pyproject.toml, ``[project.entry-points."initcheck.catalogues"] NAME = "pkg.mod:function"``,
#: the function returning a list of ``initcheck.audit.entry.Entry``.
ENTRY_POINT_GROUP = "initcheck.catalogues"


def _plugin(ep: importlib.metadata.EntryPoint) -> Callable[[], list[Entry]]:
    def entries() -> list[Entry]:
        try:
            listing = ep.load()()
        except ImportError:
            raise
        except Exception as exc:  # the plug-in's own failure, named
            raise ValueError(f"catalogue {ep.name!r} ({ep.value}) failed: {type(exc).__name__}:"
                             f" {exc}") from exc
        if not isinstance(listing, list) or not all(isinstance(e, Entry) for e in listing):
            raise ValueError(f"catalogue {ep.name!r} ({ep.value}) must return a list of"
                             " initcheck.audit.entry.Entry")
        return listing
    return entries


def available() -> dict[str, Callable[[], list[Entry]]]:
    """``CATALOGUES`` and the plug-ins installed under ``ENTRY_POINT_GROUP`` (a plug-in
    cannot take a built-in catalogue's name)."""
    found = dict(CATALOGUES)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, _plugin(ep))
    return found


@dataclass(frozen=True, kw_only=True)
class AuditRow(Verdict):
    """One initializer of an audit: its catalogue ``entry`` and either verify's ``report`` or
    the ``error`` its initializer raised (a broken contract, a framework refusing it)."""

    SCHEMA: ClassVar[str] = "initcheck.audit_row/1"

    entry: Entry
    report: Report | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.report is not None and self.report.passed

    @property
    def verdict(self) -> str:
        """``pass``, ``fail`` or ``error``."""
        return "error" if self.report is None else ("pass" if self.report.passed else "fail")

    @property
    def finding(self) -> str:
        """What the audit found, in one line: the failed checks and what the samples follow
        instead, or how much a pass could have seen (the std's MDE, the propagation rates)."""
        report = self.report
        if self.error or report is None:
            return f"error: {self.error}"
        if report.failures:
            diagnosis = report.diagnosis
            looks = "".join(f"looks like {e.claim}; "
                            for e in (diagnosis.looks_like[:1] if diagnosis else ()))
            looks += "".join(
                f"matches {m}; " for m in (diagnosis.matches or () if diagnosis else ())
            )
            return (looks + "; ".join(f"{c.name}: {c.detail}" for c in report.failures))[:300]
        names = {c.name: c for c in report.checks}
        if "std" in names:
            parts = [f"std within {names['std'].mde:.1%} (MDE)"]
        elif "orthogonal" in names:
            parts = ["orthonormal, Haar"]
        else:
            parts = ["exact constant"]
        if "propagation" in names:
            e = names["propagation"].extra
            parts.append(f"{e['activation']}: fwd x{math.exp(e['rate_q']):.3f}/layer,"
                         f" bwd x{math.exp(e['rate_grad']):.3f}/layer")
        return "; ".join(parts)

    def failure_message(self) -> str:
        return "" if self.passed else f"{self.entry.name}: {self.finding}"

    def __str__(self) -> str:
        return wrap(f"{self.entry.name}: {self.verdict.upper()}; {self.finding}", indent=4)

    def to_dict(self) -> dict[str, Any]:
        e, r = self.entry, self.report
        return {"name": e.name, "framework": e.framework, "activation": e.activation,
                "verdict": self.verdict, "finding": self.finding, "note": e.note,
                "report": None if r is None else r.to_dict()}


@dataclass(frozen=True, kw_only=True)
class AuditResult(Verdict):
    """An audit: one ``AuditRow`` per initializer of the ``catalogue`` (a name, or ``all``),
    the catalogues ``skipped`` (name, why: a framework not installed), the seed and the
    family-wise alpha split evenly over the rows."""

    SCHEMA: ClassVar[str] = "initcheck.audit/1"

    catalogue: str
    seed: int
    alpha: float
    rows: tuple[AuditRow, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.rows)

    @property
    def entries(self) -> list[Entry]:
        return [r.entry for r in self.rows]

    @property
    def reports(self) -> list[Report | None]:
        return [r.report for r in self.rows]

    def table(self) -> list[tuple[str, ...]]:
        """One tuple per row (and a header): name, claim, activation, verdict, checks passed,
        finding."""
        out: list[tuple[str, ...]] = [
            ("initializer", "claims", "activation", "verdict", "checks", "finding")
        ]
        for row in self.rows:
            entry, report = row.entry, row.report
            claims = report.spec if report else str(entry.expect or "-")
            if entry.dtype is not None:
                claims += f" [{entry.dtype}]"
            checks = (
                "-"
                if report is None
                else f"{len(report.checks) - len(report.failures)}/{len(report.checks)}"
            )
            out.append((entry.name, claims, entry.activation or "-", row.verdict.upper(), checks,
                        row.finding))
        return out

    def text(self, width: int | None = None) -> str:
        """The audit as terminal text within ``width`` columns (default: the terminal's): one
        line per initializer (name, activation, verdict, checks passed), its claim and
        finding wrapped below it."""
        width = width or text_width()
        rows = self.table()
        name_w = min(max(len(r[0]) for r in rows), NAME_COLUMN)
        act_w = max(len(r[2]) for r in rows)
        lines = []
        for name, claims, activation, verdict, checks, finding in rows:
            if len(name) > name_w:  # a long name on a line of its own, never cut
                lines.append(name)
                name = ""
            line = f"{name:<{name_w}}  {activation:<{act_w}}  {verdict:<7}  {checks}"
            lines.append(line.rstrip())
            if verdict == "verdict":  # the header
                continue
            for label, value in (("claims", claims), ("finding", finding)):
                lines += textwrap.wrap(value, width, initial_indent=f"    {label}: ",
                                       subsequent_indent=" " * (6 + len(label)),
                                       break_long_words=False, break_on_hyphens=False)
        return "\n".join(lines)

    def summary(self) -> str:
        """The verdicts counted, the alpha, and the catalogues skipped."""
        ok = sum(1 for r in self.rows if r.passed)
        text = (
            f"audit {self.catalogue}: {ok}/{len(self.rows)} pass; seed {self.seed}, family-wise"
            f" alpha {self.alpha:g} ({self.alpha / max(1, len(self.rows)):.3g} per initializer)"
        )
        lines = [text] + [f"skipped {name}: {why}" for name, why in self.skipped]
        if (
            self.catalogue == "all"
            and self.skipped
            and {e.framework for e in self.entries} <= {"numpy"}
        ):
            lines.append("no framework is installed: only initcheck's own initializers were"
                         " audited (pip install 'initcheck[all]')")
        text = "\n".join(wrap(line, indent=4) for line in lines)
        return text

    def __str__(self) -> str:
        return self.text() + "\n" + self.summary()

    def failure_message(self) -> str:
        if self.passed:
            return ""
        return "\n".join([f"audit {self.catalogue}: {sum(not r.passed for r in self.rows)} of"
                          f" {len(self.rows)} initializers fail"]
                         + [wrap("  " + r.failure_message(), indent=4)
                            for r in self.rows if not r.passed])

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.SCHEMA, "target": self.catalogue, "seed": self.seed,
            "alpha": self.alpha, "passed": self.passed,
            "skipped": [{"catalogue": n, "reason": why} for n, why in self.skipped],
            "initializers": [r.to_dict() for r in self.rows],
        }


def run(catalogue: str = "builtin", *, seed: int = 0, alpha: float = DEFAULT_AUDIT_ALPHA,
        progress: Callable[[int, int, str], None] | None = None,
        propagation: bool = True) -> AuditResult:
    """Audit a catalogue: verify each of its initializers against what it documents.

    Args:
        catalogue: ``"builtin"``, a framework's name (``"torch"``, ``"jax"``, ``"keras"``,
            ``"haiku"``, ``"flax"``, ``"equinox"``), a plug-in's, or ``"all"``.
        seed: the seed every draw derives from.
        alpha: the family-wise false-alarm rate, split evenly over the initializers.
        progress: called as ``progress(i, n, name)`` before each initializer.
        propagation: check the propagation property under each entry's activation.

    Returns:
        An ``AuditResult``, one row per initializer.

    Raises:
        ValueError: an unknown catalogue (the message lists them), or a bad alpha or seed.
        ImportError: the catalogue's framework is not installed (with ``"all"``, such a
            catalogue is skipped and said).

    Example:
        >>> import initcheck as ic
        >>> ic.audit.run("builtin", propagation=False).passed  # doctest: +SKIP
        True
    """
    known = available()
    names = (
        list(known) if catalogue == "all"
        else [_validate.choice("catalogue", catalogue, [*known, "all"])]
    )
    entries: list[Entry] = []
    skipped: list[tuple[str, str]] = []
    for n in names:
        try:
            entries.extend(known[n]())
        except ImportError as exc:  # a framework that is not installed
            if catalogue != "all":
                raise
            skipped.append((n, str(exc)))
    share = alpha / max(1, len(entries))
    rows = []
    for i, entry in enumerate(entries, 1):
        if progress:
            progress(i, len(entries), entry.name)
        try:
            rows.append(AuditRow(entry=entry, report=entry.verify(
                seed=seed, alpha=share, propagation=propagation)))
        except (ValueError, ImportError) as exc:  # an initializer that breaks its contract
            rows.append(AuditRow(entry=entry, error=str(exc)))
    return AuditResult(catalogue=catalogue, seed=seed, alpha=alpha, rows=tuple(rows),
                       skipped=tuple(skipped))
