"""JAX: ``jax.nn.initializers`` are functions ``init(key, shape, dtype)`` made by factories
(``glorot_uniform()``); the layout is keras's (*k, in, out). Each call gets a fresh key."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.contract import Adapter
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
