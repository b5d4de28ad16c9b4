"""Keras 3: initializer objects called as ``init(shape, dtype)``; layout (*k, in, out).
A seeded Keras initializer returns the same tensor on every call, so each call here gets
a fresh object from the initializer's config with the call's seed (``from_config``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from initcheck.core.contract import Adapter, qualified_name
from initcheck.core.fans import Layout, get_layout
from initcheck.core.seeding import int_seed
from initcheck.frameworks import require


def adapter(init: Any, *, layout: str | Layout | None = None, name: str | None = None,
            reseed: bool = True) -> Adapter:
    """``reseed=False`` calls the object as it is, to audit what reusing it does."""
    keras = require("keras")
    label = name or qualified_name(init)
    config = init.get_config() if hasattr(init, "get_config") else None
    seeded = reseed and config is not None and "seed" in config

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        fn = init
        if seeded:
            fn = type(init).from_config(
                {**config, "seed": int_seed(int(seed.generate_state(1)[0]), "keras")}
            )
        out = fn(shape, dtype=dt.name)
        return np.asarray(keras.ops.convert_to_numpy(out))

    return Adapter("keras", label, get_layout("keras" if layout is None else layout), draw)
