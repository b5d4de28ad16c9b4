# initcheck's public API: the one table of exported names (docs/api.md lists the same).
# Type checkers read this stub; at run time initcheck/__init__.py reads it to load each name
# on first use. Add a name here and to docs/api.md (tests/test_public_api.py compares them).

from initcheck import audit as audit
from initcheck import models as models
from initcheck import strategies as strategies
from initcheck.claims import initializers as initializers
from initcheck.claims.initializers import Initializer as Initializer
from initcheck.claims.specs import Law as Law
from initcheck.claims.specs import Spec as Spec
from initcheck.claims.specs import spec as spec
from initcheck.core import schema as schema
from initcheck.core.contract import (
    InitializerError as InitializerError,
)
from initcheck.core.contract import (
    InitializerFunction as InitializerFunction,
)
from initcheck.core.contract import (
    InitializerLike as InitializerLike,
)
from initcheck.core.fans import (
    LAYOUTS as LAYOUTS,
)
from initcheck.core.fans import (
    Fans as Fans,
)
from initcheck.core.fans import (
    Layer as Layer,
)
from initcheck.core.fans import (
    Layout as Layout,
)
from initcheck.core.fans import (
    compute_fans as compute_fans,
)
from initcheck.core.fans import (
    get_layout as get_layout,
)
from initcheck.core.results import CheckResult as CheckResult
from initcheck.core.results import Report as Report
from initcheck.identification.search import Candidate as Candidate
from initcheck.identification.search import identify as identify
from initcheck.models.model import check_model as check_model
from initcheck.models.report import ModelReport as ModelReport
from initcheck.models.tensor import check_tensor as check_tensor
from initcheck.propagation import plot as plot
from initcheck.propagation.model_trace import (
    ModelTrace as ModelTrace,
)
from initcheck.propagation.model_trace import (
    trace_model as trace_model,
)
from initcheck.propagation.model_trace import (
    width_sweep as width_sweep,
)
from initcheck.propagation.property import PropagationOptions as PropagationOptions
from initcheck.propagation.simulation import Trace as Trace
from initcheck.propagation.simulation import simulate as simulate
from initcheck.theory import activations as activations
from initcheck.theory.gains import Gain as Gain
from initcheck.theory.gains import gain as gain
from initcheck.theory.torch_gains import torch_gain as torch_gain
from initcheck.verification.pipeline import verify as verify

__version__: str
