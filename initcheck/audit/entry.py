"""One entry of an audit's catalogue: how to get an initializer (lazily: frameworks import on
use), what it claims, the activation it is meant for, and how it is verified (``Entry.verify``,
the one place an audit, the tests and plug-ins verify an entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import Layout
from initcheck.core.results import Report
from initcheck.propagation.property import PropagationOptions
from initcheck.verification.pipeline import verify


@dataclass(frozen=True)
class Entry:
    """One initializer of a catalogue: a display name, how to get it (``make``), the spec it
    documents (None for an initcheck initializer, which carries its own), the activation it
    is meant for, its framework and layout, a note for the report, and optionally the shapes
    and dtype to verify it on."""

    name: str
    make: Callable[[], Any]
    expect: Any = None
    activation: str | None = None
    framework: str = "numpy"
    layout: str | Layout | None = None
    note: str = ""
    shapes: tuple[tuple[int, ...], ...] | None = None
    dtype: str | None = None  # None: verify's default where the initializer takes a dtype

    def verify(self, *, seed: int = 0, alpha: float = DEFAULT_ALPHA, propagation: bool = True,
               activation: str | None = None, samples: int | None = None) -> Report:
        """``verify`` this entry's initializer against what it documents, on its own shapes and
        dtype: the one way an audit, the tests and plug-ins verify an entry.

        Args:
            seed: the seed the draws derive from.
            alpha: the false-alarm rate this entry may spend.
            propagation: check the propagation property under the entry's activation (or
                ``activation``), where it names one.
            activation: the activation to check it under instead of the entry's.
            samples: rescale verify's default shapes to about this many elements (an entry
                with its own ``shapes`` keeps them).

        Returns:
            verify's ``Report``, named after the entry.

        Raises:
            ValueError: the initializer breaks its contract (or a framework refuses it).
            ImportError: its framework is not installed.
        """
        act = (activation or self.activation) if propagation else None
        return verify(self.make(), expect=self.expect, framework=self.framework,
                      layout=self.layout, seed=seed, alpha=alpha, name=self.name,
                      propagation=PropagationOptions(act) if act else None,
                      shapes=list(self.shapes) if self.shapes else None,
                      samples=None if self.shapes else samples, dtype=self.dtype)


def entry_maker(framework: str, layout: str | Layout | None) -> Callable[..., Entry]:
    """``e(name, make, expect, activation=None, note="")``: entries of one framework read in
    one layout (None: the adapter's own choice), as a catalogue lists them."""
    def e(name: str, make: Callable[[], Any], expect: Any, activation: str | None = None,
          note: str = "") -> Entry:
        return Entry(name, make, expect, activation, framework, layout, note)
    return e
