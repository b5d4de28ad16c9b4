# initcheck's public API: the one table of exported names (docs/api.md lists the same).
# Type checkers read this stub; at run time initcheck/__init__.py reads it to load each name
# on first use. Add a name here and to docs/api.md (tests/test_public_api.py compares them).

from initcheck import audit as audit, models as models, strategies as strategies
from initcheck.claims import initializers as initializers
from initcheck.claims.initializers import Initializer as Initializer
from initcheck.claims.specs import Law as Law, Spec as Spec, spec as spec
from initcheck.core import schema as schema
from initcheck.core.contract import (
    InitializerError as InitializerError,
    InitializerFunction as InitializerFunction,
    InitializerLike as InitializerLike,
)
from initcheck.core.fans import (
    LAYOUTS as LAYOUTS,
    Fans as Fans,
    Layer as Layer,
    Layout as Layout,
    compute_fans as compute_fans,
    get_layout as get_layout,
)
from initcheck.core.results import CheckResult as CheckResult, Report as Report
from initcheck.identification.report import Candidate as Candidate
from initcheck.identification.search import identify as identify
from initcheck.models.compare import compare_models as compare_models
from initcheck.models.describe import describe_model as describe_model
from initcheck.models.describe_report import ModelDescription as ModelDescription
from initcheck.models.diff_report import ModelDiff as ModelDiff
from initcheck.models.model import check_model as check_model
from initcheck.models.report import ModelReport as ModelReport
from initcheck.models.tensor import check_tensor as check_tensor
from initcheck.propagation import plot as plot
from initcheck.propagation.model_trace import (
    trace_model as trace_model,
    width_sweep as width_sweep,
)
from initcheck.propagation.property import PropagationOptions as PropagationOptions
from initcheck.propagation.report import ModelTrace as ModelTrace, Trace as Trace
from initcheck.propagation.simulation import simulate as simulate
from initcheck.theory import activations as activations
from initcheck.theory.gains import Gain as Gain, gain as gain
from initcheck.theory.torch_gains import torch_gain as torch_gain
from initcheck.verification.exploration import explore as explore
from initcheck.verification.exploration_report import ExploreResult as ExploreResult
from initcheck.verification.pipeline import verify as verify

__version__: str
