"""initcheck's own initializers, each against the spec it carries, with the activation it is
meant for (the propagation property is checked under it)."""

from __future__ import annotations

import functools

from initcheck.audit.entry import Entry
from initcheck.claims import initializers, specs

#: The activation each built-in is meant for (the propagation property is checked under it).
BUILTIN_ACTIVATIONS: dict[str, str] = {
    "xavier_normal": "tanh", "xavier_uniform": "tanh", "he_normal": "relu", "he_uniform": "relu",
    "lecun_normal": "selu", "lecun_uniform": "selu", "orthogonal": "linear",
    "variance_scaling": "selu",
}


def catalogue() -> list[Entry]:
    """initcheck's own initializers, each against the spec it carries."""
    return [Entry(name, functools.partial(initializers.get, name), None,
                  BUILTIN_ACTIVATIONS.get(name)) for name in specs.SPECS]
