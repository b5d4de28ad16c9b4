"""haiku.initializers with the specs their documentation states, and hk.Linear's default
(haiku imports on use)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from initcheck.audit.entry import Entry, entry_maker
from initcheck.claims.laws import TRUNCATED_STD_2
from initcheck.frameworks import require


def catalogue() -> list[Entry]:
    from initcheck.claims.specs import spec

    hk = require("haiku")
    hi = hk.initializers

    e = entry_maker("haiku", "keras")

    trunc = "truncated_normal"
    return [
        e("RandomNormal()", hi.RandomNormal, spec("normal", mean=0.0, std=1.0)),
        e("RandomUniform()", hi.RandomUniform, spec("uniform", low=0.0, high=1.0)),
        e(
            "TruncatedNormal()",
            hi.TruncatedNormal,
            spec("truncated_normal", std=1.0, lower=-2.0, upper=2.0),
        ),
        e(
            "VarianceScaling()",
            hi.VarianceScaling,
            spec("variance_scaling", scale=1.0, mode="fan_in", distribution=trunc),
            "selu",
        ),
        e(
            "VarianceScaling(2, fan_out, uniform)",
            lambda: hi.VarianceScaling(2.0, "fan_out", "uniform"),
            spec("variance_scaling", scale=2.0, mode="fan_out", distribution="uniform"),
        ),
        e(
            "VarianceScaling(1, fan_avg, normal)",
            lambda: hi.VarianceScaling(1.0, "fan_avg", "normal"),
            spec("variance_scaling", scale=1.0, mode="fan_avg", distribution="normal"),
            "tanh",
        ),
        Entry(
            "VarianceScaling(1, fan_in, normal, fan_in_axes=(0, 1))",
            lambda: hi.VarianceScaling(1.0, "fan_in", "normal", fan_in_axes=(0, 1)),
            spec("variance_scaling", scale=1.0, mode="fan_in", distribution="normal"),
            None,
            "haiku",
            None,
            "fan in over axes 0 and 1, fan out over every other axis",
        ),
        Entry(
            "VarianceScaling(1, fan_out, uniform, fan_in_axes=(0,))",
            lambda: hi.VarianceScaling(1.0, "fan_out", "uniform", fan_in_axes=(0,)),
            spec("variance_scaling", scale=1.0, mode="fan_out", distribution="uniform"),
            None,
            "haiku",
            None,
            "fan out: the product of every axis but the first",
            ((8, 4, 3, 3), (16, 5, 7), (4, 2, 2, 6)),
        ),
        e("Orthogonal()", hi.Orthogonal, spec("orthogonal"), "linear"),
        linear_default(spec),
    ]


def linear_default(spec: Callable[..., Any]) -> Entry:
    """hk.Linear's default weights: TruncatedNormal(stddev=1/sqrt(fan_in)), cut at +-2 stddev
    and *not* widened by 1/0.8796, so their std is 0.88/sqrt(fan_in): variance scaling with
    scale 0.8796^2. Built by running hk.Linear itself."""
    hk = require("haiku")
    jax = require("jax")

    def make() -> Callable[..., Any]:
        def init(key: Any, shape: tuple[int, ...], dtype: Any = None) -> Any:
            if len(shape) != 2:
                raise ValueError(f"hk.Linear weights are (in, out), got {shape}")
            f = hk.transform(lambda x: hk.Linear(shape[1])(x))
            params = f.init(key, jax.numpy.ones((1, shape[0]), dtype or jax.numpy.float32))
            return params["linear"]["w"]
        init.__qualname__ = "hk.Linear.w default"
        return init

    return Entry(
        "hk.Linear default w_init",
        make,
        spec(
            "variance_scaling",
            scale=TRUNCATED_STD_2**2,
            mode="fan_in",
            distribution="truncated_normal",
        ),
        None,
        "jax",
        "keras",
        "TruncatedNormal(1/sqrt(fan_in)) without the 0.8796 correction: std 0.88/sqrt(fan_in)",
        ((512, 256), (64, 128), (7, 3)),
    )
