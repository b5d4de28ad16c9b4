"""initcheck: verifiable neural-network weight initialization.

>>> import numpy as np, initcheck as ic
>>> init = ic.initializers.get("he_normal")
>>> w = init((784, 256), rng=np.random.default_rng(0))
>>> ic.compute_fans((64, 32, 3, 3), layout="torch")
Fans(fan_in=288, fan_out=576, receptive_field=9)

Names load on first use (PEP 562), so ``import initcheck`` and the pytest plugin stay cheap.
No submodule shares a name with a function exported here (``verify`` lives in
``initcheck.verification``, ``simulate`` in ``initcheck.simulation``): importing a
submodule sets it as a package attribute, which would shadow the function.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: Public name -> (module, attribute or None for the module itself).
_LAZY: dict[str, tuple[str, str | None]] = {
    "activations": ("initcheck.activations", None),
    "initializers": ("initcheck.initializers", None),
    "specs": ("initcheck.specs", None),
    "strategies": ("initcheck.strategies", None),
    "theory": ("initcheck.theory", None),
    "stats": ("initcheck.stats", None),
    "checks": ("initcheck.checks", None),
    "catalogues": ("initcheck.catalogues", None),
    "contract": ("initcheck.contract", None),
    "defaults": ("initcheck.defaults", None),
    "results": ("initcheck.results", None),
    "seeding": ("initcheck.seeding", None),
    "torch_gains": ("initcheck.torch_gains", None),
    "propagation": ("initcheck.propagation", None),
    "adapters": ("initcheck.adapters", None),
    "audit": ("initcheck.audit", None),
    "verification": ("initcheck.verification", None),
    "simulation": ("initcheck.simulation", None),
    "plot": ("initcheck.plot", None),
    "schema": ("initcheck.schema", None),
    "LAYOUTS": ("initcheck.fans", "LAYOUTS"),
    "Fans": ("initcheck.fans", "Fans"),
    "Layout": ("initcheck.fans", "Layout"),
    "Layer": ("initcheck.fans", "Layer"),
    "InitializerFunction": ("initcheck.contract", "InitializerFunction"),
    "InitializerLike": ("initcheck.contract", "InitializerLike"),
    "PropagationOptions": ("initcheck.propagation", "PropagationOptions"),
    "compute_fans": ("initcheck.fans", "compute_fans"),
    "get_layout": ("initcheck.fans", "get_layout"),
    "Initializer": ("initcheck.initializers", "Initializer"),
    "InitializerError": ("initcheck.contract", "InitializerError"),
    "Law": ("initcheck.specs", "Law"),
    "Spec": ("initcheck.specs", "Spec"),
    "spec": ("initcheck.specs", "spec"),
    "CheckResult": ("initcheck.results", "CheckResult"),
    "Report": ("initcheck.results", "Report"),
    "torch_gain": ("initcheck.torch_gains", "torch_gain"),
    "verify": ("initcheck.verification", "verify"),
    "simulate": ("initcheck.simulation", "simulate"),
    "Trace": ("initcheck.simulation", "Trace"),
    "gain": ("initcheck.gains", "gain"),
    "gains": ("initcheck.gains", None),
    "models": ("initcheck.models", None),
    "identify": ("initcheck.identification", "identify"),
    "trace_model": ("initcheck.trace", "trace_model"),
    "width_sweep": ("initcheck.trace", "width_sweep"),
    "ModelTrace": ("initcheck.trace", "ModelTrace"),
    "Candidate": ("initcheck.identification", "Candidate"),
    "check_tensor": ("initcheck.models.tensor", "check_tensor"),
    "check_model": ("initcheck.models.model", "check_model"),
    "ModelReport": ("initcheck.models.report", "ModelReport"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'initcheck' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
