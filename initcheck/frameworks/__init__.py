"""Calling other frameworks' initializers and reading their tensors: one adapter per
framework (leaves: they import only the contract), ``dispatch`` (any initializer to an
adapter), and ``sharding`` (DTensors, sharded jax arrays). Each module imports its framework
only when used; a missing framework raises an ImportError naming the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

#: framework -> (module that imports it, pip extra that installs it)
FRAMEWORKS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "torch"),
    "jax": ("jax", "jax"),
    "keras": ("keras", "keras"),
    "haiku": ("haiku", "haiku"),
    "flax": ("flax", "flax"),
    "equinox": ("equinox", "equinox"),
}


def require(framework: str) -> ModuleType:
    """Import ``framework`` or raise an ImportError that says how to install it."""
    module, extra = FRAMEWORKS[framework]
    if framework == "keras":
        import os

        os.environ.setdefault("KERAS_BACKEND", "jax")  # keras 3 on jax unless told otherwise
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{framework} is not installed: pip install 'initcheck[{extra}]'"
            + (" (torch==2.13.0, the CPU build)" if framework == "torch" else "")) from None
