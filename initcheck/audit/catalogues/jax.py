"""jax.nn.initializers with the specs their documentation states (jax imports on use)."""

from __future__ import annotations

from initcheck.audit.entry import Entry, entry_maker
from initcheck.frameworks import require


def catalogue() -> list[Entry]:
    """jax.nn.initializers with the specs their documentation states."""
    from initcheck.claims.specs import spec

    jax = require("jax")
    ini = jax.nn.initializers

    e = entry_maker("jax", None)  # layout: the closure's, else jax's

    trunc = "truncated_normal"
    return [
        e(
            "glorot_normal()",
            ini.glorot_normal,
            spec("variance_scaling", scale=1.0, mode="fan_avg", distribution=trunc),
            "tanh",
            "truncated at 2 std and corrected by 1/0.8796 (torch's xavier_normal_ is untruncated)",
        ),
        e("glorot_uniform()", ini.glorot_uniform, spec("xavier_uniform"), "tanh"),
        e(
            "he_normal()",
            ini.he_normal,
            spec("variance_scaling", scale=2.0, mode="fan_in", distribution=trunc),
            "relu",
        ),
        e("he_uniform()", ini.he_uniform, spec("he_uniform"), "relu"),
        e(
            "lecun_normal()",
            ini.lecun_normal,
            spec("variance_scaling", scale=1.0, mode="fan_in", distribution=trunc),
            "selu",
        ),
        e("lecun_uniform()", ini.lecun_uniform, spec("lecun_uniform"), "selu"),
        e("normal()", ini.normal, spec("normal", mean=0.0, std=0.01)),
        e(
            "uniform()",
            ini.uniform,
            spec("uniform", low=0.0, high=0.01),
            note="[0, scale): not centred, unlike keras's RandomUniform",
        ),
        e(
            "truncated_normal()",
            ini.truncated_normal,
            spec("truncated_normal", std=0.01, lower=-2.0, upper=2.0),
            note="stddev is the parent's: the result's std is 0.88 x 0.01",
        ),
        e("orthogonal()", ini.orthogonal, spec("orthogonal"), "linear"),
        e(
            "variance_scaling(2, fan_out, uniform)",
            lambda: ini.variance_scaling(2.0, "fan_out", "uniform"),
            spec("variance_scaling", scale=2.0, mode="fan_out", distribution="uniform"),
        ),
        e(
            "variance_scaling(1, fan_avg, normal, in_axis=(0, 1))",
            lambda: ini.variance_scaling(1.0, "fan_avg", "normal", in_axis=(0, 1), out_axis=-1),
            spec("variance_scaling", scale=1.0, mode="fan_avg", distribution="normal"),
            note="two in axes (a DenseGeneral kernel): fan_in is their product",
        ),
        e("zeros", lambda: ini.zeros, spec("zeros")),
        e("ones", lambda: ini.ones, spec("ones")),
        e("constant(0.3)", lambda: ini.constant(0.3), spec("constant", value=0.3)),
    ]
