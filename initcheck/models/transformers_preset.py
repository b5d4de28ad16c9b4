"""The ``"transformers"`` preset: Hugging Face transformers' common ``_init_weights`` pattern,
read from the model's own config. Linear, Conv1D (GPT-2's, stored (in, out)) and Embedding
weights N(0, initializer_range^2), an Embedding's padding row zero, biases zero, norms'
weights one and biases zero. ``initializer_range`` is read from the config (``init_std``
where a model spells it so), times ``initializer_factor`` where the config has one. A model
whose own ``_init_weights`` departs from the pattern (GPT-2's residual projections scaled by
1/sqrt(2 n_layer), T5's per-projection stds) fails on exactly those tensors, each report row
saying what the tensor holds instead."""

from __future__ import annotations

from typing import Any

from initcheck.claims.specs import spec
from initcheck.models.policy import Except, Policy, rule

#: The config attributes that hold the common std, in the order read.
STD_KEYS = ("initializer_range", "init_std")


def config_std(model: Any) -> float:
    """The std the model's config gives its weights (``STD_KEYS``, times
    ``initializer_factor`` where present); a ValueError naming what is missing."""
    config = getattr(model, "config", None)
    if config is None:
        raise ValueError(f"the 'transformers' preset reads the model's config, and a"
                         f" {type(model).__name__} has none: pass a transformers model"
                         " (PreTrainedModel), or write the policy's rules.")
    std = next((getattr(config, k) for k in STD_KEYS
                if isinstance(getattr(config, k, None), (int, float))), None)
    if std is None:
        raise ValueError(f"{type(config).__name__} has none of {', '.join(STD_KEYS)}: this"
                         " model does not follow transformers' common init pattern. Write its"
                         " policy's rules (docs/models.md).")
    factor = getattr(config, "initializer_factor", None)
    return float(std) * (float(factor) if isinstance(factor, (int, float)) else 1.0)


def transformers(model: Any) -> Policy:
    """The common pattern at ``model``'s config std (see the module's docstring)."""
    normal = spec("normal", std=config_std(model))
    zeros, ones = spec("zeros"), spec("ones")
    norms = ("LayerNorm", "*LayerNorm", "*RMSNorm", "*GroupNorm")
    rules = (
        rule("*.weight", normal, module=("Linear", "Conv1D")),
        rule("*.bias", zeros, module=("Linear", "Conv1D")),
        rule("*.weight", Except(normal, {"padding_idx": zeros}), module="Embedding"),
        rule("*.weight", ones, module=norms),
        rule("*.bias", zeros, module=norms),
    )
    return Policy(rules, "transformers", optional=True, builtin=True)


__all__ = ["STD_KEYS", "config_std", "transformers"]
