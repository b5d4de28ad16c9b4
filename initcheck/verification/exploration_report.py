"""``ExploreResult``: what ``explore``'s search over layer shapes found, with the shrunk
failing layer, verify's report there and the call that reproduces it."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, ClassVar

from initcheck.core.fans import Layer
from initcheck.core.results import Report, Verdict, _jsonable
from initcheck.core.text import wrap

SCHEMA = "initcheck.explore/1"


@dataclass(frozen=True, kw_only=True)
class ExploreResult(Verdict):
    """What ``explore`` found: ``passed`` when no layer it tried drew the wrong law.

    Attributes:
        initializer: the initializer's name.
        spec: the claim, as Python.
        framework: how it was called.
        layout: the layout shapes were read in (each layer's groups and transposition
            added to it).
        seed: the seed of the search and of every draw.
        alpha: the family-wise false-alarm rate of the whole search.
        alpha_each: each verify's alpha: ``alpha`` over ``budget``.
        budget: the most verifies the search may run (examples and shrink steps).
        examples: the verifies it ran (distinct layers; a layer tried again is not drawn
            again).
        max_examples: the examples Hypothesis was asked to generate.
        mdes: each verify's ``std`` MDE (the smallest relative std error it detects at
            power 0.99), in the order run; NaN where a layer has no std check.
        layer: the shrunk failing layer (``Layer``), or None; a shape searched for itself
            (a strategy of shapes) has ``layer`` None and ``shape`` set.
        shape: the failing layer's weight shape, or None.
        found_at: the first failing shape the search met, before shrinking, or None.
        report: verify's ``Report`` at the failing shape (None if it passed, or if the
            initializer raised there: see ``error``).
        error: what the initializer raised at the failing shape, or None.
        exhausted: whether the search ran out of budget (further layers were not tried).
        seconds: wall time.

    Example:
        >>> import initcheck as ic
        >>> found = ic.explore("he_normal", max_examples=5)
        >>> found.passed, found.layer is None, found.examples >= 1
        (True, True, True)
    """

    SCHEMA: ClassVar[str] = SCHEMA

    initializer: str
    spec: str
    framework: str
    layout: str
    seed: int
    alpha: float
    alpha_each: float
    budget: int
    examples: int
    max_examples: int
    mdes: tuple[float, ...] = ()
    layer: Layer | None = None
    shape: tuple[int, ...] | None = None
    found_at: tuple[int, ...] | None = None
    report: Report | None = None
    error: str | None = None
    exhausted: bool = False
    seconds: float | None = None

    @property
    def passed(self) -> bool:
        return self.shape is None

    @property
    def counterexample(self) -> Layer | tuple[int, ...] | None:
        """The shrunk failing layer (or shape, when shapes were searched), or None."""
        return self.layer if self.layer is not None else self.shape

    def reproduce(self) -> str:
        """The Python call that reruns verify at the failing shape ("" when it passed)."""
        if self.report is not None:
            return self.report.reproduce()
        if self.shape is None:
            return ""
        return (f"initcheck.verify({self.initializer}, expect=initcheck.{self.spec},"
                f" shapes=[{self.shape!r}], seed={self.seed}, alpha={self.alpha_each!r})")

    def _power(self) -> str:
        known = [m for m in self.mdes if math.isfinite(m)]
        if not known:
            return "no std check"
        return (f"std MDE per example {min(known):.3g} to {max(known):.3g}"
                f" (median {statistics.median(known):.3g})")

    def failure_message(self) -> str:
        """The failing layer, what failed there, and the call that reproduces it ("" when
        it passed)."""
        if self.passed:
            return ""
        head = (f"{self.initializer} does not match {self.spec} on {self._where()}"
                f" (found by explore, seed {self.seed}, {self.examples} layers tried):")
        if self.error is not None:
            body = [f"  {self.error}"]
        else:
            assert self.report is not None
            body = ["  " + c.failure_message() for c in self.report.failures]
            body += ["  " + line for line in self.report._diagnosis_lines()]
        return "\n".join([head, *body, "reproduce: " + self.reproduce()])

    def _where(self) -> str:
        shape = list(self.shape or ())
        return f"{_layer_words(self.layer)}, shape {shape}" if self.layer else f"shape {shape}"

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "schema": SCHEMA, "initializer": self.initializer, "spec": self.spec,
            "framework": self.framework, "layout": self.layout, "seed": self.seed,
            "alpha": self.alpha, "alpha_each": self.alpha_each, "budget": self.budget,
            "examples": self.examples, "max_examples": self.max_examples,
            "passed": self.passed, "mdes": list(self.mdes),
            "layer": None if self.layer is None else {
                "in_channels": self.layer.in_channels, "out_channels": self.layer.out_channels,
                "kernel": list(self.layer.kernel), "groups": self.layer.groups,
                "transposed": self.layer.transposed},
            "shape": None if self.shape is None else list(self.shape),
            "found_at": None if self.found_at is None else list(self.found_at),
            "report": None if self.report is None else self.report.to_dict(),
            "error": self.error, "exhausted": self.exhausted,
            "reproduce": self.reproduce() or None, "seconds": self.seconds,
        })

    def __str__(self) -> str:
        lines = [
            wrap(f"initcheck explore: {self.initializer} ({self.framework}, layout"
                 f" {self.layout}) against {self.spec}", indent=4),
            wrap(f"  seed {self.seed}, {self.examples} layers verified of a budget of"
                 f" {self.budget} ({self.max_examples} examples + shrinking), family-wise"
                 f" alpha {self.alpha:g} ({self.alpha_each:.3g} each); {self._power()}",
                 indent=4)]
        if self.exhausted:
            lines.append(wrap("  the budget ran out: later layers were not tried", indent=4))
        if self.passed:
            lines.append("verdict: PASS (no layer tried draws the wrong law)")
            return "\n".join(lines)
        lines.append(wrap(f"  smallest failing layer: {self._where()} (first found at shape"
                          f" {list(self.found_at or ())}, then shrunk)", indent=4))
        if self.error is not None:
            lines.append(wrap(f"  {self.error}", indent=4))
        elif self.report is not None:
            lines += [wrap(f"  FAIL {c.name}: {c.detail}", indent=7)
                      for c in self.report.failures]
            lines += [wrap("  " + line, indent=7) for line in self.report._diagnosis_lines()]
        lines.append(wrap(f"  reproduce: {self.reproduce()}", indent=4))
        lines.append("verdict: FAIL")
        return "\n".join(lines)


def _layer_words(layer: Layer) -> str:
    """A layer in words: 'conv2d 64->32, kernel 3x3, 4 groups, transposed'."""
    kind = f"conv{len(layer.kernel)}d" if layer.kernel else "dense"
    words = f"{kind} {layer.in_channels}->{layer.out_channels}"
    if layer.kernel:
        words += ", kernel " + "x".join(map(str, layer.kernel))
    if layer.groups > 1:
        words += f", {layer.groups} groups"
    if layer.transposed:
        words += ", transposed"
    return words


__all__ = ["SCHEMA", "ExploreResult"]
