"""Flax module defaults, linen and nnx: what Dense/Linear, Conv (grouped too) and Embed hold
after their own initialization (flax imports on use). Each entry is a jax-convention
function ``init(key, shape, dtype)`` that builds the module for ``shape`` and returns the
parameter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from initcheck.audit.entry import Entry
from initcheck.core.fans import EMBEDDING, Layout
from initcheck.frameworks import require


def _param(kind: str, api: str) -> Callable[[], Callable[..., Any]]:
    """A jax-convention init that builds flax's ``kind`` module (linen or nnx) for ``shape``."""
    def make() -> Callable[..., Any]:
        jax = require("jax")
        jnp = jax.numpy

        def init(key: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
            dtype = dtype or jnp.float32
            if api == "linen":
                import flax.linen as nn
                if kind == "dense_general":  # two input axes in, one feature axis out
                    return nn.DenseGeneral(shape[2], axis=(-2, -1), param_dtype=dtype).init(
                        key, jnp.ones((1, shape[0], shape[1])))["params"]["kernel"]
                if kind == "dense":
                    return nn.Dense(shape[1], param_dtype=dtype).init(key, jnp.ones((1, shape[0])))[
                        "params"
                    ]["kernel"]
                if kind == "embed":
                    return nn.Embed(shape[0], shape[1], param_dtype=dtype).init(
                        key, jnp.zeros((1,), jnp.int32))["params"]["embedding"]
                *k, per_group, out = shape
                groups = CONV_GROUPS
                module = nn.Conv(out, tuple(k), feature_group_count=groups, param_dtype=dtype)
                return module.init(key, jnp.ones((1, *[8] * len(k), per_group * groups)))["params"][
                    "kernel"
                ]
            from flax import nnx
            rngs = nnx.Rngs(params=key)
            if kind == "dense":
                return nnx.Linear(shape[0], shape[1], param_dtype=dtype, rngs=rngs).kernel[...]
            if kind == "embed":
                return nnx.Embed(shape[0], shape[1], param_dtype=dtype, rngs=rngs).embedding[...]
            *k, per_group, out = shape
            return nnx.Conv(per_group * CONV_GROUPS, out, tuple(k), feature_group_count=CONV_GROUPS,
                            param_dtype=dtype, rngs=rngs).kernel[...]

        init.__qualname__ = f"flax.{api}.{kind} default"
        return init
    return make


#: A DenseGeneral kernel reducing two input axes: (in_a, in_b, features).
DENSE_GENERAL = Layout("dense_general (in_a, in_b, out)", in_axis=(0, 1), out_axis=2)
#: Groups of the grouped Conv entries (their kernels hold in/groups input channels).
CONV_GROUPS = 4


def catalogue() -> list[Entry]:
    from initcheck.claims.specs import spec

    require("flax")
    lecun = spec("variance_scaling", scale=1.0, mode="fan_in", distribution="truncated_normal")
    dense, conv = ((512, 256), (64, 128), (7, 3)), ((3, 3, 4, 32), (5, 2, 32), (1, 5, 8, 16))
    embed = ((1000, 64), (50, 16))
    out = [
        Entry(
            "linen DenseGeneral(axis=(-2, -1)) default kernel",
            _param("dense_general", "linen"),
            lecun,
            None,
            "jax",
            DENSE_GENERAL,
            "flattens its two input axes into one fan_in before lecun_normal",
            ((8, 32, 16), (4, 4, 64), (16, 2, 8)),
        )
    ]
    for api in ("linen", "nnx"):
        out += [
            Entry(
                f"{api} Dense default kernel",
                _param("dense", api),
                lecun,
                "selu",
                "jax",
                "jax",
                "jax's lecun_normal: truncated at 2 std, corrected",
                dense,
            ),
            Entry(
                f"{api} Conv default kernel, {CONV_GROUPS} groups",
                _param("conv", api),
                lecun,
                None,
                "jax",
                "jax",
                "fan_in = in/groups x k: the logical fan",
                conv,
            ),
            Entry(
                f"{api} Embed default",
                _param("embed", api),
                spec("variance_scaling", scale=1.0, mode="fan_in", distribution="normal"),
                None,
                "jax",
                EMBEDDING,
                "N(0, 1/features)",
                embed,
            ),
        ]
    return out


__all__ = ["CONV_GROUPS", "DENSE_GENERAL", "catalogue"]
