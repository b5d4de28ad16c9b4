"""Keras 3: initializer objects called as ``init(shape, dtype)``; layout (*k, in, out).
A seeded Keras initializer returns the same tensor on every call, so each call here gets
a fresh object from the initializer's config with the call's seed (``from_config``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.adapters import Adapter
from initcheck.audit import Entry
from initcheck.fans import Layout, get_layout
from initcheck.frameworks import require
from initcheck.seeding import int_seed


def adapter(init: Any, *, layout: str | Layout | None = None, name: str | None = None,
            reseed: bool = True) -> Adapter:
    """``reseed=False`` calls the object as it is, to audit what reusing it does."""
    keras = require("keras")
    label = name or f"keras.initializers.{type(init).__name__}"
    config = init.get_config() if hasattr(init, "get_config") else None
    seeded = reseed and config is not None and "seed" in config

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        fn = init
        if seeded:
            fn = type(init).from_config({**config, "seed": int_seed(int(seed.generate_state(1)[0]), "keras")})
        out = fn(shape, dtype=dt.name)
        return np.asarray(keras.ops.convert_to_numpy(out))

    return Adapter("keras", label, get_layout("keras" if layout is None else layout), draw)


def catalogue() -> list[Entry]:
    """keras.initializers with the specs their documentation states (keras's fans: rank-1
    shapes use shape[0])."""
    from initcheck.specs import spec

    keras = require("keras")
    ki = keras.initializers

    def e(label: str, make: Callable[[], Any], expect: Any, activation: str | None = None,
          note: str = "") -> Entry:
        return Entry(label, make, expect, activation, "keras", "keras", note)

    trunc = "truncated_normal"
    return [
        e("RandomNormal()", ki.RandomNormal, spec("normal", mean=0.0, std=0.05)),
        e("RandomUniform()", ki.RandomUniform, spec("uniform", low=-0.05, high=0.05)),
        e("TruncatedNormal()", ki.TruncatedNormal, spec("truncated_normal", std=0.05, lower=-2.0, upper=2.0),
          note="stddev is the parent's: the result's std is 0.88 x 0.05"),
        e("GlorotNormal()", ki.GlorotNormal, spec("variance_scaling", scale=1.0, mode="fan_avg", distribution=trunc), "tanh"),
        e("GlorotUniform()", ki.GlorotUniform, spec("xavier_uniform"), "tanh"),
        e("HeNormal()", ki.HeNormal, spec("variance_scaling", scale=2.0, mode="fan_in", distribution=trunc), "relu"),
        e("HeUniform()", ki.HeUniform, spec("he_uniform"), "relu"),
        e("LecunNormal()", ki.LecunNormal, spec("variance_scaling", scale=1.0, mode="fan_in", distribution=trunc), "selu"),
        e("LecunUniform()", ki.LecunUniform, spec("lecun_uniform"), "selu"),
        e("Orthogonal()", ki.Orthogonal, spec("orthogonal"), "linear"),
        e("VarianceScaling(2, fan_out, untruncated_normal)",
          lambda: ki.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
          spec("variance_scaling", scale=2.0, mode="fan_out", distribution="normal")),
        e("Zeros()", ki.Zeros, spec("zeros")),
        e("Ones()", ki.Ones, spec("ones")),
        e("Constant(0.3)", lambda: ki.Constant(0.3), spec("constant", value=0.3)),
    ]
