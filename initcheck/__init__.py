"""initcheck: verifiable neural-network weight initialization.

>>> import numpy as np, initcheck as ic
>>> init = ic.initializers.get("he_normal")
>>> w = init((784, 256), rng=np.random.default_rng(0))
>>> ic.compute_fans((64, 32, 3, 3), layout="torch")
Fans(fan_in=288, fan_out=576, receptive_field=9)
"""

from initcheck import activations, initializers, specs, strategies, theory
from initcheck.adapters import InitializerError
from initcheck.fans import LAYOUTS, Fans, Layout, compute_fans, get_layout
from initcheck.initializers import Initializer
from initcheck.specs import Law, Spec, spec
from initcheck.report import Report
from initcheck.stats import CheckResult
from initcheck.torch_gains import torch_gain
from initcheck.simulate import Trace, simulate
from initcheck.theory import gain
from initcheck.verify import verify

__version__ = "0.1.0"

__all__ = [
    "Trace",
    "activations",
    "gain",
    "simulate",
    "theory",
    "CheckResult",
    "InitializerError",
    "Report",
    "strategies",
    "verify",
    "LAYOUTS",
    "Fans",
    "Initializer",
    "Law",
    "Layout",
    "Spec",
    "compute_fans",
    "get_layout",
    "initializers",
    "spec",
    "specs",
    "torch_gain",
]
