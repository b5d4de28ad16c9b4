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
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:  # one place for the version: pyproject.toml, read back from the installed metadata
    __version__ = version("initcheck")
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"

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

# Type checkers see every lazy name's real type (``name as name``: re-exported); at run
# time they load on first use.
# tests/test_package.py keeps this block and _LAZY in step.
if TYPE_CHECKING:
    from initcheck import (
        activations as activations,
        adapters as adapters,
        audit as audit,
        catalogues as catalogues,
        checks as checks,
        contract as contract,
        defaults as defaults,
        gains as gains,
        initializers as initializers,
        models as models,
        plot as plot,
        propagation as propagation,
        results as results,
        schema as schema,
        seeding as seeding,
        simulation as simulation,
        specs as specs,
        stats as stats,
        strategies as strategies,
        theory as theory,
        torch_gains as torch_gains,
        verification as verification,
    )
    from initcheck.contract import (
        InitializerError as InitializerError,
        InitializerFunction as InitializerFunction,
        InitializerLike as InitializerLike,
    )
    from initcheck.fans import (
        Fans as Fans,
        LAYOUTS as LAYOUTS,
        Layer as Layer,
        Layout as Layout,
        compute_fans as compute_fans,
        get_layout as get_layout,
    )
    from initcheck.gains import gain as gain
    from initcheck.identification import Candidate as Candidate, identify as identify
    from initcheck.initializers import Initializer as Initializer
    from initcheck.models.model import check_model as check_model
    from initcheck.models.report import ModelReport as ModelReport
    from initcheck.models.tensor import check_tensor as check_tensor
    from initcheck.propagation import PropagationOptions as PropagationOptions
    from initcheck.results import CheckResult as CheckResult, Report as Report
    from initcheck.simulation import Trace as Trace, simulate as simulate
    from initcheck.specs import Law as Law, Spec as Spec, spec as spec
    from initcheck.torch_gains import torch_gain as torch_gain
    from initcheck.trace import (
        ModelTrace as ModelTrace,
        trace_model as trace_model,
        width_sweep as width_sweep,
    )
    from initcheck.verification import verify as verify

__all__ = [  # the lazy names (tests/test_package.py checks they match _LAZY)
    "Candidate", "CheckResult", "Fans", "Initializer", "InitializerError",
    "InitializerFunction", "InitializerLike", "LAYOUTS", "Law", "Layer", "Layout",
    "ModelReport", "ModelTrace", "PropagationOptions", "Report", "Spec", "Trace", "activations",
    "adapters", "audit", "catalogues", "check_model", "check_tensor", "checks", "compute_fans",
    "contract", "defaults", "gain", "gains", "get_layout", "identify", "initializers", "models",
    "plot", "propagation", "results", "schema", "seeding", "simulate", "simulation", "spec",
    "specs", "stats", "strategies", "theory", "torch_gain", "torch_gains", "trace_model",
    "verification", "verify", "width_sweep",
]


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
