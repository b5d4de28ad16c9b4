"""initcheck: verifiable neural-network weight initialization.

>>> import numpy as np, initcheck as ic
>>> init = ic.initializers.get("he_normal")
>>> w = init((784, 256), rng=np.random.default_rng(0))
>>> ic.compute_fans((64, 32, 3, 3), layout="torch")
Fans(fan_in=288, fan_out=576, receptive_field=9)

The exported names are declared once, in ``__init__.pyi`` (type checkers read it); this module
reads that table and loads each name on first use (PEP 562), so ``import initcheck`` and the
pytest plugin stay cheap. Everything else is importable by its module path
(docs/architecture.md); initcheck 0.2's flat paths still work, with a DeprecationWarning
(``initcheck.core.compat``).
"""

from __future__ import annotations

import ast
import importlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from initcheck.core import compat

try:  # one place for the version: pyproject.toml, read back from the installed metadata
    __version__ = version("initcheck")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"


def _exports() -> dict[str, tuple[str, str]]:
    """Public name -> (module, attribute), from the stub's ``from M import N as N`` lines."""
    tree = ast.parse(Path(__file__).with_suffix(".pyi").read_text(encoding="utf-8"))
    return {alias.asname or alias.name: (node.module or "", alias.name)
            for node in tree.body if isinstance(node, ast.ImportFrom)
            for alias in node.names}


_EXPORTS = _exports()
__all__ = sorted(_EXPORTS)
compat.install()


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        return compat.submodule(name)  # initcheck.stats, ...; 0.2's flat paths warn
    module_name, attr = _EXPORTS[name]
    if module_name == __name__:  # a subpackage: initcheck.models, initcheck.audit, ...
        value: Any = importlib.import_module(f"{module_name}.{attr}")
    else:
        module = importlib.import_module(module_name)
        try:
            value = getattr(module, attr)
        except AttributeError:  # a submodule not imported yet
            value = importlib.import_module(f"{module_name}.{attr}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
