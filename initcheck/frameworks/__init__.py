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


#: module a missing import names -> the extra that installs it
EXTRAS: dict[str, str] = {**dict(FRAMEWORKS.values()),
                          "jaxlib": "jax", "dm-haiku": "haiku", "matplotlib": "plot"}


def install_hint(exc: ImportError) -> str:
    """What to install for a failed import: the extra for a module initcheck has one for
    (``pip install 'initcheck[torch]'``), ``pip install NAME`` for another, "" if unknown."""
    name = (getattr(exc, "name", None) or "").split(".")[0]
    if not name:
        return ""
    if name in EXTRAS:
        return f"pip install 'initcheck[{EXTRAS[name]}]'"
    return f"pip install {name}"


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
