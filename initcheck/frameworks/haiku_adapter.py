"""Haiku: initializer objects called as ``init(shape, dtype)`` inside a transformed function,
where ``hk.next_rng_key()`` gives their randomness; the layout is keras's (*k, in, out).
Each call runs in its own ``hk.transform`` with a fresh key."""

from __future__ import annotations

from typing import Any

import numpy as np

from initcheck.core.contract import Adapter, qualified_name
from initcheck.core.fans import Layout, get_layout
from initcheck.core.seeding import int_seed
from initcheck.frameworks import require


def adapter(init: Any, *, layout: str | Layout | None = None, name: str | None = None) -> Adapter:
    hk = require("haiku")
    jax = require("jax")
    label = name or qualified_name(init)

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        key = jax.random.PRNGKey(int_seed(int(seed.generate_state(1)[0]), "haiku"))
        sample = hk.transform(lambda: init(shape, jax.numpy.dtype(dt.name)))
        return np.asarray(sample.apply({}, key))

    return Adapter(
        "haiku", label, get_layout(layout) if layout is not None else own_layout(init), draw
    )


def own_layout(init: Any) -> Layout:
    """The layout haiku reads ``init``'s shapes in: ``fan_in_axes`` where it was given (the
    fan in is their product, the fan out the product of every other axis; haiku applies it
    to kernels of rank 3 and more), else keras's (*k, in, out)."""
    axes = getattr(init, "fan_in_axes", None)
    if axes is None:
        return get_layout("keras")
    axes = tuple(int(a) for a in axes)
    return Layout(f"haiku(fan_in_axes={axes})", in_axis=axes, out_axis=None)


def draws_in_transform(init: Any, shape: tuple[int, ...]) -> bool:
    """Whether ``init`` behaves as a haiku initializer: ``init(shape, dtype)`` inside
    ``hk.transform`` returns an array of ``shape``."""
    hk = require("haiku")
    jax = require("jax")
    try:
        out = hk.transform(lambda: init(shape, jax.numpy.float32)).apply({}, jax.random.PRNGKey(0))
    except Exception:  # not haiku's convention
        return False
    return tuple(getattr(out, "shape", ())) == tuple(shape)
