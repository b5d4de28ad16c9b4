"""The public API's input space as Hypothesis strategies, and the contract every call in it
keeps (tests/test_api_contract.py and tests/test_api_faces.py draw from here).

The contract: a call either returns, or raises ``ValueError`` whose message names one of the
arguments it was given; never another exception type. Examples are scaled from the loaded
profile (``ci``: 60, see conftest.py), so ``--hypothesis-profile=wide`` runs each property
about 17x longer by hand.
"""

from __future__ import annotations

import contextlib
import math
import re

import numpy as np
from hypothesis import settings, strategies as st

import initcheck as ic
from initcheck.claims import specs
from initcheck.core.fans import CONVENTIONS, FAN_MODES, LAYOUTS, VECTOR_POLICIES, Layout
from initcheck.theory import activations
from initcheck.theory.gains import CRITERIA
from initcheck.theory.torch_gains import NONLINEARITIES

#: The profile every ``examples(k)`` count is written for.
BASE_EXAMPLES = 60


def examples(k: int) -> settings:
    """``k`` examples under the ``ci`` profile, scaled with the loaded profile's count."""
    return settings(max_examples=max(1, round(k * settings.default.max_examples / BASE_EXAMPLES)))


# ----------------------------------------------------------------------------- the contract


@contextlib.contextmanager
def contract(*arguments: str):
    """Run a call of the public API: ValueError is allowed only when its message names one of
    ``arguments`` (the argument names and parameter names the call was given); any other
    exception type fails the test. Yields a list that holds the ValueError, if one came."""
    __tracebackhide__ = True
    caught: list[ValueError] = []
    try:
        yield caught
    except ValueError as exc:  # InitializerError is one too
        text = str(exc)
        named = [
            a for a in arguments if re.search(rf"(?<![A-Za-z_]){re.escape(a)}(?![A-Za-z_])", text)
        ]
        assert named, (f"ValueError names none of the arguments {sorted(set(arguments))}:"
                       f" {type(exc).__name__}: {text}")
        caught.append(exc)


# ------------------------------------------------------------------------ initializers


def _gain():
    return st.floats(0.1, 3.0)


def _he_params(torch_defaults: bool):
    base = {"mode": st.sampled_from(FAN_MODES)}
    nonlin = st.sampled_from([n for n in NONLINEARITIES if n != "leaky_relu"])
    options = [
        st.fixed_dictionaries({}, optional=base),
        st.fixed_dictionaries({"gain": _gain()}, optional=base),
        st.fixed_dictionaries({"nonlinearity": nonlin}, optional=base),
        st.fixed_dictionaries({"nonlinearity": st.just("leaky_relu")},
                              optional={**base, "a": st.floats(0.0, 3.0)}),
    ]
    if torch_defaults:  # kaiming_*: nonlinearity defaults to leaky_relu, so a alone is allowed
        options.append(st.fixed_dictionaries({"a": st.floats(0.0, 3.0)}, optional=base))
    return st.one_of(options)


@st.composite
def _uniform_params(draw):
    low = draw(st.floats(-3.0, 2.0))
    return {"low": low, "high": low + draw(st.floats(0.05, 3.0))}


@st.composite
def _truncated_params(draw):
    out = draw(
        st.fixed_dictionaries(
            {}, optional={"std": st.floats(0.01, 3.0), "mean": st.floats(-1.0, 1.0)}
        )
    )
    lower = draw(st.floats(-3.0, 0.5))
    upper = lower + draw(st.floats(0.5, 4.0))
    window = draw(st.sampled_from(["default", "units", "absolute"]))
    if window == "units":
        out.update(lower=lower, upper=upper)
    elif window == "absolute":  # a window in the parent's units around its mean
        mean, std = out.get("mean", 0.0), out.get("std", 1.0)
        out.update(a=mean + lower * std, b=mean + upper * std)
    return out


#: Canonical spec name -> strategy for its parameters (each optional, as users omit them).
PARAMS = {
    "zeros": st.just({}),
    "ones": st.just({}),
    "small_normal": st.just({}),
    "large_normal": st.just({}),
    "lecun_normal": st.just({}),
    "lecun_uniform": st.just({}),
    "constant": st.fixed_dictionaries({}, optional={"value": st.floats(-3.0, 3.0)}),
    "normal": st.fixed_dictionaries(
        {}, optional={"mean": st.floats(-2.0, 2.0), "std": st.floats(0.01, 3.0)}
    ),
    "uniform": _uniform_params(),
    "xavier_normal": st.fixed_dictionaries({}, optional={"gain": _gain()}),
    "xavier_uniform": st.fixed_dictionaries({}, optional={"gain": _gain()}),
    "he_normal": _he_params(False),
    "he_uniform": _he_params(False),
    "truncated_normal": _truncated_params(),
    "orthogonal": st.fixed_dictionaries({}, optional={"gain": _gain()}),
    "variance_scaling": st.fixed_dictionaries(
        {},
        optional={
            "scale": st.floats(0.05, 4.0),
            "mode": st.sampled_from(FAN_MODES),
            "distribution": st.sampled_from(specs.DISTRIBUTIONS),
        },
    ),
}
NAMES = ic.initializers.names()
assert set(map(specs.canonical_name, NAMES)) == set(PARAMS), "a built-in has no parameter strategy"


@st.composite
def builtins(draw):
    """(name as a user writes it, canonical name, parameters)."""
    name = draw(st.sampled_from(NAMES))
    canonical = specs.canonical_name(name)
    torch_name = name.startswith("kaiming")
    params = draw(_he_params(True) if torch_name else PARAMS[canonical])
    return name, canonical, params


# ------------------------------------------------------------------------ layouts, shapes

#: Layouts users build: equivalents of the named ones, flax DenseGeneral's multi-axis fans,
#: haiku's "every other axis is out", stacked (scanned) layers with a batch axis.
CUSTOM_LAYOUTS = [
    Layout("oihw", in_axis=1, out_axis=0),
    Layout("hwio", in_axis=-2, out_axis=-1),
    Layout("dense_general", in_axis=(0, 1), out_axis=-1),
    Layout("dense_general_out", in_axis=0, out_axis=(-2, -1)),
    Layout("haiku_out_rest", in_axis=0, out_axis=None),
    Layout("stacked", in_axis=-2, out_axis=-1, batch_axes=0),
]


def layouts(*, custom: bool = True):
    named = st.sampled_from(sorted(LAYOUTS))
    return st.one_of(named, st.sampled_from(CUSTOM_LAYOUTS)) if custom else named


@st.composite
def layer_shapes(draw, layout, *, max_elements: int = 4096, count: tuple[int, int] = (1, 2)):
    """(shapes, groups, transposed): consistent conv/dense shapes for a single-axis layout
    (grouped and transposed kernels among them), or small shapes of rank 2-4 otherwise."""
    lay = ic.get_layout("keras" if layout is None else layout)
    n = draw(st.integers(*count))
    single = (isinstance(lay.in_axis, int) or len(lay.in_axis) == 1) and \
        lay.out_axis is not None and not lay.batch_axes and \
        (isinstance(lay.out_axis, int) or len(lay.out_axis) == 1)
    if single and draw(st.booleans()):
        groups = draw(st.sampled_from([1, 1, 2, 3]))
        transposed = draw(st.booleans())
        kind = draw(st.sampled_from(["dense", "conv1d", "conv2d"] if groups == 1 and not transposed
                                    else ["conv1d", "conv2d"]))
        out = []
        for _ in range(n):
            layer = draw(ic.strategies.layers(kinds=(kind,), max_channels=24, max_kernel=3,
                                              max_elements=max_elements, transposed=transposed))
            layer = layer._replace(groups=groups,
                                   in_channels=groups * max(1, layer.in_channels // groups),
                                   out_channels=groups * max(1, layer.out_channels // groups))
            out.append(layer.weight_shape(lay))
        return out, (groups if groups > 1 else None), (True if transposed else None)
    rank = draw(st.integers(2, 4))
    side = max(1, int(max_elements ** (1 / rank)))
    dims = st.tuples(*[st.integers(1, min(side, 40))] * rank)
    return [draw(dims) for _ in range(n)], None, None


# ---------------------------------------------------------------------- activations, dtypes

#: An activation registered by the tests themselves: LeCun's scaled tanh.
SCALED_TANH = activations.register(
    "api_space_scaled_tanh",
    lambda u: 1.7159 * np.tanh(2 * u / 3),
    lambda u: 1.7159 * (2 / 3) / np.cosh(2 * u / 3) ** 2,
    output_range=(-1.7159, 1.7159), replace=True)

ACTIVATION_PARAMS = {
    "leaky_relu": {"a": st.floats(0.0, 0.9)},
    "elu": {"alpha": st.floats(0.1, 2.0)},
}


@st.composite
def activations_(draw):
    """An activation as a user passes it: a registered name, or an Activation made with
    parameters; and (name, params) for the record."""
    name = draw(st.sampled_from(sorted(activations.names())))
    params = draw(st.fixed_dictionaries({}, optional=ACTIVATION_PARAMS.get(name, {})))
    if params or draw(st.booleans()):
        return activations.get(name, **params), name, params
    return name, name, params


NUMPY_DTYPES = [np.float16, np.float32, np.float64, "bfloat16"]


def finite(x: float) -> bool:
    return isinstance(x, float) and math.isfinite(x)


__all__ = ["ACTIVATION_PARAMS", "CONVENTIONS", "CUSTOM_LAYOUTS", "NAMES", "NUMPY_DTYPES", "PARAMS",
           "SCALED_TANH", "CRITERIA", "VECTOR_POLICIES", "activations_", "builtins", "contract",
           "examples", "finite", "layer_shapes", "layouts"]
