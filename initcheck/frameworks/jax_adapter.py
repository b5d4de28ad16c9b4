"""JAX: ``jax.nn.initializers`` are functions ``init(key, shape, dtype)`` made by factories
(``glorot_uniform()``); the layout is keras's (*k, in, out). Each call gets a fresh key."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.adapters import Adapter
from initcheck.audit import Entry
from initcheck.fans import Layout, get_layout
from initcheck.frameworks import require
from initcheck.seeding import int_seed


def _check_is_initializer(fn: Any, label: str) -> None:
    """Refuse a factory passed where its initializer belongs (``glorot_uniform`` instead of
    ``glorot_uniform()``), which would otherwise fail with a cryptic shape error."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return
    if params and params[0] != "key" and ("in_axis" in params or "stddev" in params
                                          or "scale" in params or "column_axis" in params
                                          or "value" in params):
        raise ValueError(
            f"{label} looks like an initializer factory (its parameters are {params}); pass the"
            f" initializer it makes, e.g. {getattr(fn, '__name__', 'factory')}(), which takes"
            " (key, shape, dtype).")


def adapter(fn: Callable[..., Any], *, layout: str | Layout | None = None,
            name: str | None = None) -> Adapter:
    jax = require("jax")
    label = name or f"jax.nn.initializers.{getattr(fn, '__qualname__', fn)}"
    _check_is_initializer(fn, label)

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        key = jax.random.key(int_seed(int(seed.generate_state(1)[0]), "jax"))
        out = fn(key, shape, jax.numpy.dtype(dt.name))
        return np.asarray(out)

    return Adapter("jax", label, get_layout("jax" if layout is None else layout), draw)


def catalogue() -> list[Entry]:
    """jax.nn.initializers with the specs their documentation states."""
    from initcheck.specs import spec

    jax = require("jax")
    ini = jax.nn.initializers

    def e(label: str, make: Callable[[], Any], expect: Any, activation: str | None = None,
          note: str = "") -> Entry:
        return Entry(label, make, expect, activation, "jax", "jax", note)

    trunc = "truncated_normal"
    return [
        e("glorot_normal()", ini.glorot_normal, spec("variance_scaling", scale=1.0, mode="fan_avg", distribution=trunc),
          "tanh", "truncated at 2 std and corrected by 1/0.8796 (torch's xavier_normal_ is untruncated)"),
        e("glorot_uniform()", ini.glorot_uniform, spec("xavier_uniform"), "tanh"),
        e("he_normal()", ini.he_normal, spec("variance_scaling", scale=2.0, mode="fan_in", distribution=trunc), "relu"),
        e("he_uniform()", ini.he_uniform, spec("he_uniform"), "relu"),
        e("lecun_normal()", ini.lecun_normal, spec("variance_scaling", scale=1.0, mode="fan_in", distribution=trunc), "selu"),
        e("lecun_uniform()", ini.lecun_uniform, spec("lecun_uniform"), "selu"),
        e("normal()", ini.normal, spec("normal", mean=0.0, std=0.01)),
        e("uniform()", ini.uniform, spec("uniform", low=0.0, high=0.01),
          note="[0, scale): not centred, unlike keras's RandomUniform"),
        e("truncated_normal()", ini.truncated_normal, spec("truncated_normal", std=0.01, lower=-2.0, upper=2.0),
          note="stddev is the parent's: the result's std is 0.88 x 0.01"),
        e("orthogonal()", ini.orthogonal, spec("orthogonal"), "linear"),
        e("variance_scaling(2, fan_out, uniform)",
          lambda: ini.variance_scaling(2.0, "fan_out", "uniform"),
          spec("variance_scaling", scale=2.0, mode="fan_out", distribution="uniform")),
        e("zeros", lambda: ini.zeros, spec("zeros")),
        e("ones", lambda: ini.ones, spec("ones")),
        e("constant(0.3)", lambda: ini.constant(0.3), spec("constant", value=0.3)),
    ]
