"""Equinox module defaults: eqx.nn.Linear and Conv (grouped too) draw weight and bias from
U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias with the *weight's* fan_in (equinox imports on
use). Weights are stored (out, in/groups, *k): torch's layout."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from initcheck.audit.entry import Entry
from initcheck.frameworks import require

#: Groups of the grouped Conv entry.
CONV_GROUPS = 4
#: in_features of the Linear whose bias the bias entry draws: its bound is 1/sqrt(this).
BIAS_FAN_IN = 100


def _param(kind: str) -> Callable[[], Callable[..., Any]]:
    """A jax-convention init that builds equinox's ``kind`` for ``shape`` and returns it."""
    def make() -> Callable[..., Any]:
        eqx = require("equinox")

        def init(key: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
            if kind == "linear":
                return eqx.nn.Linear(shape[1], shape[0], key=key, dtype=dtype).weight
            if kind == "bias":
                return eqx.nn.Linear(BIAS_FAN_IN, shape[0], key=key, dtype=dtype).bias
            out, per_group, *k = shape
            conv = eqx.nn.Conv(len(k), per_group * CONV_GROUPS, out, tuple(k), groups=CONV_GROUPS,
                               key=key, dtype=dtype)
            return conv.weight

        init.__qualname__ = f"equinox.nn.{kind} default"
        return init
    return make


def catalogue() -> list[Entry]:
    from initcheck.claims.specs import spec

    require("equinox")
    # U(-1/sqrt(fan_in), 1/sqrt(fan_in)): variance 1/(3 fan_in), torch's a=sqrt(5) rule
    rule = spec("variance_scaling", scale=1.0 / 3.0, mode="fan_in", distribution="uniform")
    bound = 1.0 / math.sqrt(BIAS_FAN_IN)
    return [
        Entry("nn.Linear default weight", _param("linear"), rule, None, "jax", "torch",
              "U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch's nn.Linear",
              ((256, 512), (128, 64), (3, 7))),
        Entry(f"nn.Conv default weight, {CONV_GROUPS} groups", _param("conv"), rule, None, "jax",
              "torch", "fan_in = in/groups x k", ((32, 4, 3, 3), (16, 2, 5), (64, 8, 1, 3))),
        Entry(f"nn.Linear default bias (in_features {BIAS_FAN_IN})", _param("bias"),
              spec("uniform", low=-bound, high=bound), None, "jax", "torch",
              "the bias is drawn with the weight's fan_in", ((64,), (512,))),
    ]
