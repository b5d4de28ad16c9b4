"""Catalogues: named sets of initializers with the specs they document, for audits.

An ``Entry`` says how to get one initializer (lazily: frameworks import on use), what it
claims and the activation it is meant for. initcheck's own set is ``builtin``; each
framework's set lives beside its adapter in ``initcheck.frameworks`` and imports ``Entry``
from here, so the dependency runs one way (frameworks -> catalogues, audit -> both).
"""

from __future__ import annotations

import functools

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from initcheck.fans import Layout

#: The activation each built-in is meant for (the propagation property is checked under it).
BUILTIN_ACTIVATIONS: dict[str, str] = {
    "xavier_normal": "tanh", "xavier_uniform": "tanh", "he_normal": "relu", "he_uniform": "relu",
    "lecun_normal": "selu", "lecun_uniform": "selu", "orthogonal": "linear",
    "variance_scaling": "selu",
}


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


def entry_maker(framework: str, layout: str | Layout | None) -> Callable[..., Entry]:
    """``e(name, make, expect, activation=None, note="")``: entries of one framework read in
    one layout (None: the adapter's own choice), as a catalogue lists them."""
    def e(name: str, make: Callable[[], Any], expect: Any, activation: str | None = None,
          note: str = "") -> Entry:
        return Entry(name, make, expect, activation, framework, layout, note)
    return e


def builtin() -> list[Entry]:
    """initcheck's own initializers, each against the spec it carries."""
    from initcheck import initializers, specs

    return [Entry(name, functools.partial(initializers.get, name), None, BUILTIN_ACTIVATIONS.get(name))
            for name in specs.SPECS]
