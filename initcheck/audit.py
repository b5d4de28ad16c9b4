"""Audits: verify a whole set of initializers against the specs they document and, where an
initializer is meant for an activation, the propagation property under it.

``builtin`` is initcheck's own set (``initcheck.catalogues``); the framework sets (torch,
jax, keras) live in ``initcheck.frameworks`` and are loaded through ``CATALOGUES``. The
audit's alpha is split evenly over its initializers (Bonferroni)."""

from __future__ import annotations

import importlib
import importlib.metadata
import math
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from initcheck import _validate, catalogues
from initcheck.catalogues import Entry
from initcheck.defaults import DEFAULT_AUDIT_ALPHA
from initcheck.results import Report
from initcheck.verification import PropagationOptions, verify

__all__ = ["CATALOGUES", "ENTRY_POINT_GROUP", "AuditResult", "Entry", "available", "run"]


def _framework(name: str) -> Callable[[], list[Entry]]:
    def entries() -> list[Entry]:
        return list(importlib.import_module(f"initcheck.frameworks.{name}_catalogue").catalogue())
    return entries


#: Columns the audit's terminal text fits in.
TEXT_WIDTH = 100
#: Catalogue name -> function listing its entries (frameworks import on use).
CATALOGUES: dict[str, Callable[[], list[Entry]]] = {
    "builtin": catalogues.builtin,
    **{name: _framework(name) for name in ("torch", "jax", "keras", "haiku", "flax", "equinox")}}
#: The entry-point group through which other packages add catalogues: in their
#: pyproject.toml, ``[project.entry-points."initcheck.catalogues"] NAME = "pkg.mod:function"``,
#: the function returning a list of ``initcheck.catalogues.Entry``.
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
                             " initcheck.catalogues.Entry")
        return listing
    return entries


def available() -> dict[str, Callable[[], list[Entry]]]:
    """``CATALOGUES`` and the plug-ins installed under ``ENTRY_POINT_GROUP`` (a plug-in
    cannot take a built-in catalogue's name)."""
    found = dict(CATALOGUES)
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, _plugin(ep))
    return found


@dataclass
class AuditResult:
    target: str
    seed: int
    alpha: float
    entries: list[Entry] = field(default_factory=list)
    reports: list[Report | None] = field(default_factory=list)
    errors: list[str | None] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r is not None and r.passed for r in self.reports)

    def finding(self, i: int) -> str:
        report, error = self.reports[i], self.errors[i]
        if error or report is None:
            return f"error: {error}"
        bad = report.failures
        if bad:
            looks = "".join(f"looks like {m.split(', std ratio')[0]}; "
                            for m in report.meta.get("looks_like", ())[:1])
            looks += "".join(f"matches {m}; " for m in report.meta.get("matches", ()))
            return (looks + "; ".join(f"{c.name}: {c.detail}" for c in bad))[:300]
        parts = []
        names = {c.name: c for c in report.checks}
        if "std" in names:
            parts.append(f"std within {names['std'].mde:.1%} (MDE)")
        elif "orthogonal" in names:
            parts.append("orthonormal, Haar")
        else:
            parts.append("exact constant")
        if "propagation" in names:
            e = names["propagation"].extra
            parts.append(f"{e['activation']}: fwd x{math.exp(e['rate_q']):.3f}/layer,"
                         f" bwd x{math.exp(e['rate_grad']):.3f}/layer")
        return "; ".join(parts)

    def rows(self) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = [("initializer", "claims", "activation", "verdict", "checks", "finding")]
        for i, (entry, report) in enumerate(zip(self.entries, self.reports)):
            claims = report.spec if report else str(entry.expect or "-")
            if entry.dtype is not None:
                claims += f" [{entry.dtype}]"
            verdict = "ERROR" if report is None else ("PASS" if report.passed else "FAIL")
            checks = "-" if report is None else f"{len(report.checks) - len(report.failures)}/{len(report.checks)}"
            rows.append((entry.name, claims, entry.activation or "-", verdict, checks, self.finding(i)))
        return rows

    def text(self, width: int = TEXT_WIDTH) -> str:
        """The audit as terminal text within ``width`` columns: one line per initializer
        (name, activation, verdict, checks passed), its claim and finding wrapped below it."""
        rows = self.rows()
        name_w = min(max(len(r[0]) for r in rows), width - 30)
        lines = []
        for name, claims, activation, verdict, checks, finding in rows:
            lines.append(f"{name[:name_w]:<{name_w}}  {activation[:10]:<10}  {verdict:<7}  {checks}".rstrip())
            if name == "initializer":  # the header
                continue
            for label, value in (("claims", claims), ("finding", finding)):
                lines += textwrap.wrap(value, width, initial_indent=f"    {label}: ",
                                       subsequent_indent=" " * (6 + len(label)))
        return "\n".join(lines)

    def summary(self) -> str:
        ok = sum(1 for r in self.reports if r is not None and r.passed)
        text = (f"audit {self.target}: {ok}/{len(self.reports)} pass; seed {self.seed}, family-wise"
                f" alpha {self.alpha:g} ({self.alpha / max(1, len(self.reports)):.3g} per initializer)")
        for name, why in self.skipped:
            text += f"\nskipped {name}: {why}"
        if self.target == "all" and self.skipped and {e.framework for e in self.entries} <= {"numpy"}:
            text += ("\nno framework is installed: only initcheck's own initializers were audited"
                     " (pip install 'initcheck[all]')")
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "initcheck.audit/1", "target": self.target, "seed": self.seed,
            "alpha": self.alpha, "passed": self.passed,
            "skipped": [{"catalogue": n, "reason": why} for n, why in self.skipped],
            "initializers": [
                {"name": e.name, "framework": e.framework, "activation": e.activation,
                 "verdict": "error" if r is None else ("pass" if r.passed else "fail"),
                 "finding": self.finding(i), "note": e.note,
                 "report": None if r is None else r.to_dict()}
                for i, (e, r) in enumerate(zip(self.entries, self.reports))],
        }


def run(target: str = "builtin", *, seed: int = 0, alpha: float = DEFAULT_AUDIT_ALPHA,
        progress: Callable[[int, int, str], None] | None = None,
        propagation: bool = True) -> AuditResult:
    """Audit ``target`` ('builtin', a framework name, a plug-in catalogue, or 'all')."""
    known = available()
    names = list(known) if target == "all" else [_validate.choice("target", target, [*known, "all"])]
    entries: list[Entry] = []
    errors: list[tuple[str, str]] = []
    for n in names:
        try:
            entries.extend(known[n]())
        except ImportError as exc:  # a framework that is not installed
            if target != "all":
                raise
            errors.append((n, str(exc)))
    result = AuditResult(target, seed, alpha, entries, skipped=errors)
    share = alpha / max(1, len(entries))
    for i, entry in enumerate(entries, 1):
        if progress:
            progress(i, len(entries), entry.name)
        try:
            report = verify(entry.make(), expect=entry.expect, framework=entry.framework,
                            layout=entry.layout, seed=seed, alpha=share, name=entry.name,
                            propagation=PropagationOptions(entry.activation)
                            if propagation and entry.activation else None,
                            shapes=list(entry.shapes) if entry.shapes else None,
                            dtype=entry.dtype)
            result.reports.append(report)
            result.errors.append(None)
        except (ValueError, ImportError) as exc:  # an initializer that breaks its contract
            result.reports.append(None)
            result.errors.append(str(exc))
    return result
