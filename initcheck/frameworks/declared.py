"""What a framework's initializer object declares it draws, as a spec: read from its own
configuration (a torch.nn.init function and the keywords a partial binds, a jax closure's
parameters, a keras object's attributes), never from its output. So a claim can be written
the way the model's code writes its init: ``expect=jax.nn.initializers.lecun_normal()``,
``rule("*.kernel", keras.initializers.HeNormal())``.

The frameworks' conventions carried over: jax's and keras's truncated normals are corrected
variance-scaling draws; jax's ``uniform(scale)`` is U[0, scale); keras's TruncatedNormal cuts
at 2 stddev of its parent; torch reads fans its own way (``convention='torch'``), keras
too (``'keras'``).
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any

from initcheck.claims.specs import Spec, spec


@dataclass(frozen=True)
class Declared:
    """A framework initializer's declared claim.

    Attributes:
        spec: what it draws.
        convention: the fan convention it computes fans by.
        framework: whose initializer it is.
    """

    spec: Spec
    convention: str
    framework: str


class NotExpressible(ValueError):
    """A framework initializer recognised, whose law no spec states (eye_, dirac_, sparse_,
    keras's Identity, jax's delta_orthogonal)."""


def declared(obj: Any) -> Declared | None:
    """The claim ``obj`` declares, if it is a torch, jax (or flax re-exported) or keras
    initializer; None for anything else.

    Raises:
        NotExpressible: a framework initializer no spec states (the message names it).
    """
    for read in (_torch, _jax, _keras):
        found = read(obj)
        if found is not None:
            return found
    return None


# ---------------------------------------------------------------------------------- torch

#: torch.nn.init functions -> (spec name, how their bound arguments become its params)
_TORCH = {
    "uniform_": lambda a: spec("uniform", low=float(a["a"]), high=float(a["b"])),
    "normal_": lambda a: spec("normal", mean=float(a["mean"]), std=float(a["std"])),
    "trunc_normal_": lambda a: spec("truncated_normal", mean=float(a["mean"]),
                                    std=float(a["std"]), a=float(a["a"]), b=float(a["b"])),
    "constant_": lambda a: spec("constant", value=float(a["val"])),
    "zeros_": lambda a: spec("zeros"),
    "ones_": lambda a: spec("ones"),
    "xavier_uniform_": lambda a: spec("xavier_uniform", gain=float(a["gain"])),
    "xavier_normal_": lambda a: spec("xavier_normal", gain=float(a["gain"])),
    "kaiming_uniform_": lambda a: _kaiming("he_uniform", a),
    "kaiming_normal_": lambda a: _kaiming("he_normal", a),
    "orthogonal_": lambda a: spec("orthogonal", gain=float(a["gain"])),
}


def _kaiming(name: str, a: dict[str, Any]) -> Spec:
    if a["nonlinearity"] == "leaky_relu":
        return spec(name, mode=a["mode"], nonlinearity="leaky_relu", a=float(a["a"] or 0.0))
    return spec(name, mode=a["mode"], nonlinearity=a["nonlinearity"])


def _torch(obj: Any) -> Declared | None:
    fn, args, kwargs = obj, (), {}
    if isinstance(obj, functools.partial):
        fn, args, kwargs = obj.func, obj.args, dict(obj.keywords)
    if getattr(fn, "__module__", None) != "torch.nn.init":
        return None
    name = getattr(fn, "__name__", "")
    if name not in _TORCH:
        raise NotExpressible(f"torch.nn.init.{name} draws no law a spec states (only"
                             f" {', '.join(sorted(_TORCH))} do): claim what it should give as"
                             " a spec.")
    try:
        bound = inspect.signature(fn).bind_partial(None, *args, **kwargs)
    except TypeError as exc:
        raise ValueError(f"torch.nn.init.{name} with {args} {kwargs}: {exc}") from None
    bound.apply_defaults()
    return Declared(_TORCH[name](bound.arguments), "torch", "torch")


# ------------------------------------------------------------------------------------ jax


def _jax(obj: Any) -> Declared | None:
    module = getattr(obj, "__module__", "") or ""
    if not callable(obj) or not module.startswith(("jax.", "jax._src.")):
        return None
    kind = getattr(obj, "__qualname__", "").split(".<locals>")[0]
    try:
        c = inspect.getclosurevars(obj).nonlocals
    except TypeError:
        c = {}
    if kind == "variance_scaling":
        made = spec("variance_scaling", scale=float(c["scale"]), mode=c["mode"],
                    distribution=c["distribution"])
    elif kind == "normal":
        made = spec("normal", mean=0.0, std=float(c["stddev"]))
    elif kind == "uniform":  # jax's uniform(scale) is U[0, scale)
        made = spec("uniform", low=0.0, high=float(c["scale"]))
    elif kind == "truncated_normal":
        made = spec("truncated_normal", std=float(c["stddev"]), lower=float(c["lower"]),
                    upper=float(c["upper"]))
    elif kind == "orthogonal" and c.get("column_axis", -1) == -1:
        made = spec("orthogonal", gain=float(c["scale"]))
    elif kind == "constant":
        made = spec("constant", value=float(c["value"]))
    elif kind in ("zeros", "ones"):
        made = spec(kind)
    else:
        raise NotExpressible(f"jax initializer {kind!r} draws no law a spec states (only"
                             " variance_scaling and its glorot/he/lecun, normal, uniform,"
                             " truncated_normal, orthogonal, constant, zeros and ones do):"
                             " claim what it should give as a spec.")
    return Declared(made, "logical", "jax")


# ---------------------------------------------------------------------------------- keras


def _keras(obj: Any) -> Declared | None:
    mro = [f"{k.__module__}.{k.__name__}" for k in type(obj).__mro__]
    if not any(m.startswith("keras.") for m in mro) or not hasattr(obj, "get_config"):
        return None
    names = [k.__name__ for k in type(obj).__mro__]
    config = obj.get_config()
    if "VarianceScaling" in names:  # Glorot/He/Lecun keep their parameters as attributes
        dist = {"untruncated_normal": "normal"}.get(obj.distribution, obj.distribution)
        made = spec("variance_scaling", scale=float(obj.scale), mode=obj.mode, distribution=dist)
    elif "RandomNormal" in names:
        made = spec("normal", mean=float(config["mean"]), std=float(config["stddev"]))
    elif "RandomUniform" in names:
        made = spec("uniform", low=float(config["minval"]), high=float(config["maxval"]))
    elif "TruncatedNormal" in names:
        made = spec("truncated_normal", mean=float(config["mean"]),
                    std=float(config["stddev"]), lower=-2.0, upper=2.0)
    elif "Orthogonal" in names or "OrthogonalInitializer" in names:
        made = spec("orthogonal", gain=float(config.get("gain", 1.0)))
    elif "Constant" in names:
        made = spec("constant", value=float(config["value"]))
    elif "Zeros" in names or "Ones" in names:
        made = spec("zeros" if "Zeros" in names else "ones")
    else:
        raise NotExpressible(f"keras initializer {type(obj).__name__} draws no law a spec"
                             " states (only VarianceScaling and its Glorot/He/Lecun,"
                             " RandomNormal, RandomUniform, TruncatedNormal, Orthogonal,"
                             " Constant, Zeros and Ones do): claim what it should give as a"
                             " spec.")
    return Declared(made, "keras", "keras")


__all__ = ["Declared", "NotExpressible", "declared"]
