"""The model wing: check what a model actually holds. ``check_tensor`` judges one given
tensor; ``check_model`` every tensor of a torch, flax, jax, equinox or keras model against a
policy of rules (``rule``, ``Except``, ``Split``, ``Relative``; TOML files; the built-in
``"torch"``, ``"flax"`` and ``"keras"`` policies). docs/models.md explains the statistics.
"""

from initcheck.models.model import check_model
from initcheck.models.policy import SKIP, Except, Policy, Relative, Rule, Split, load, rule
from initcheck.models.presets import as_policy
from initcheck.models.report import GroupResult, ModelReport, TensorRow
from initcheck.models.tensor import check_tensor

__all__ = ["SKIP", "Except", "GroupResult", "ModelReport", "Policy", "Relative", "Rule", "Split",
           "TensorRow", "as_policy", "check_model", "check_tensor", "load", "rule"]
