"""Import paths of initcheck 0.2's flat layout, kept working until 0.3 with a warning.

0.3 put the modules in folders by layer (docs/architecture.md). ``MOVED`` maps each old
module path to its new one: ``import initcheck.simulation`` finds
``initcheck.propagation.simulation`` through a meta-path finder and warns once per path.
``FORMER_MODULES`` maps the old modules whose name is now a package (``initcheck.theory``)
to the module that holds their contents: the package's ``__getattr__`` (``forward``) hands
out the old names with the same warning. The new paths carry no warning.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

#: Old module path -> its home since 0.3 (the old path goes in 0.4).
MOVED: dict[str, str] = {
    f"initcheck.{old}": f"initcheck.{new}" for old, new in {
        "_validate": "core._validate", "defaults": "core.defaults", "seeding": "core.seeding",
        "schema": "core.schema", "fans": "core.fans", "contract": "core.contract",
        "results": "core.results", "report": "core.results", "memory": "core.memory",
        "threads": "core.threads",
        "activations": "theory.activations", "gaussian": "theory.gaussian",
        "gains": "theory.gains", "torch_gains": "theory.torch_gains",
        "laws": "claims.laws", "specs": "claims.specs", "initializers": "claims.initializers",
        "stats.shards": "sharding.array", "stats.keys": "sharding.keys",
        "stats.merge": "sharding.merge",
        "adapters": "frameworks.dispatch",
        "catalogues": "audit.entry",
        **{f"frameworks.{name}_catalogue": f"audit.catalogues.{name}"
           for name in ("torch", "jax", "keras", "haiku", "flax", "equinox")},
        "simulation": "propagation.simulation", "trace": "propagation.model_trace",
        "plot": "propagation.plot",
        "contexts": "checks.contexts", "shapes": "checks.shapes",
        "claim_space": "identification.claim_space",
        "conventions": "identification.conventions",
        "models.builtin": "models.presets",
        "cli_commands": "cli.commands", "cli_inputs": "cli.inputs",
    }.items()}

#: Old module that is a package since 0.3 -> the module that holds what it held.
FORMER_MODULES: dict[str, str] = {
    "initcheck.theory": "initcheck.theory.meanfield",
    "initcheck.propagation": "initcheck.propagation.property",
    "initcheck.checks": "initcheck.checks.battery",
    "initcheck.identification": "initcheck.identification.search",
    "initcheck.verification": "initcheck.verification.pipeline",
    "initcheck.cli": "initcheck.cli.parser",
}


def submodule(name: str) -> ModuleType:
    """``initcheck.<name>`` as an attribute: a subpackage or module loads on first use (an old
    flat path with a DeprecationWarning, through ``MOVED``); any other name is an
    AttributeError."""
    full = f"initcheck.{name}"
    if full not in MOVED and (name.startswith("__") or importlib.util.find_spec(full) is None):
        raise AttributeError(f"module 'initcheck' has no attribute {name!r}")
    return importlib.import_module(full)


def _warn(old: str, new: str) -> None:
    warnings.warn(f"{old} moved to {new} in initcheck 0.3; the old path goes in 0.4",
                  DeprecationWarning, stacklevel=3)


class _Alias(importlib.abc.Loader):
    """Loads an old path as the module at its new one (the same object, not a copy)."""

    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        _warn(spec.name, self.new)
        module = importlib.import_module(self.new)
        self.spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the module ran at its new path); the import machinery set the old
        path's spec on it, so its own is put back."""
        module.__spec__ = self.spec


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder for the old paths on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())


def forward(package: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that hands out, with a warning, the names its
    former module held (``FORMER_MODULES``)."""
    home = FORMER_MODULES[package]

    def __getattr__(name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        value = getattr(importlib.import_module(home), name, _MISSING)
        if value is _MISSING:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        _warn(f"{package}.{name}", f"{home}.{name}")
        return value

    return __getattr__


_MISSING = object()


def renamed(function: Callable[..., Any], old: str) -> Callable[..., Any]:
    """``function`` under its 0.2 name ``old``, warning that the name changed."""
    new = f"{function.__module__}.{function.__qualname__}"

    def alias(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(f"{old} was renamed {new} in initcheck 0.3; the old name goes in 0.4",
                      DeprecationWarning, stacklevel=2)
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old.rsplit(".", 1)[-1]
    alias.__doc__ = f"Deprecated: ``{new}``."
    return alias
