"""keras.initializers with the specs their documentation states (keras imports on use;
keras's fans: rank-1 shapes use shape[0])."""

from __future__ import annotations

from initcheck.audit.entry import Entry, entry_maker
from initcheck.frameworks import require


def catalogue() -> list[Entry]:
    """keras.initializers with the specs their documentation states (keras's fans: rank-1
    shapes use shape[0])."""
    from initcheck.claims.specs import spec

    keras = require("keras")
    ki = keras.initializers

    e = entry_maker("keras", "keras")

    trunc = "truncated_normal"
    return [
        e("RandomNormal()", ki.RandomNormal, spec("normal", mean=0.0, std=0.05)),
        e("RandomUniform()", ki.RandomUniform, spec("uniform", low=-0.05, high=0.05)),
        e(
            "TruncatedNormal()",
            ki.TruncatedNormal,
            spec("truncated_normal", std=0.05, lower=-2.0, upper=2.0),
            note="stddev is the parent's: the result's std is 0.88 x 0.05",
        ),
        e(
            "GlorotNormal()",
            ki.GlorotNormal,
            spec("variance_scaling", scale=1.0, mode="fan_avg", distribution=trunc),
            "tanh",
        ),
        e("GlorotUniform()", ki.GlorotUniform, spec("xavier_uniform"), "tanh"),
        e(
            "HeNormal()",
            ki.HeNormal,
            spec("variance_scaling", scale=2.0, mode="fan_in", distribution=trunc),
            "relu",
        ),
        e("HeUniform()", ki.HeUniform, spec("he_uniform"), "relu"),
        e(
            "LecunNormal()",
            ki.LecunNormal,
            spec("variance_scaling", scale=1.0, mode="fan_in", distribution=trunc),
            "selu",
        ),
        e("LecunUniform()", ki.LecunUniform, spec("lecun_uniform"), "selu"),
        e("Orthogonal()", ki.Orthogonal, spec("orthogonal"), "linear"),
        e(
            "VarianceScaling(2, fan_out, untruncated_normal)",
            lambda: ki.VarianceScaling(2.0, "fan_out", "untruncated_normal"),
            spec("variance_scaling", scale=2.0, mode="fan_out", distribution="normal"),
        ),
        e("Zeros()", ki.Zeros, spec("zeros")),
        e("Ones()", ki.Ones, spec("ones")),
        e("Constant(0.3)", lambda: ki.Constant(0.3), spec("constant", value=0.3)),
    ]
