"""Fans and layouts: how many inputs feed one unit (fan_in) and how many units one input feeds
(fan_out), read from a weight shape and the layout that says which axis is which.

Two layouts cover the frameworks (docs/architecture.md, "Layouts and fans"):

==========  ====================  ======================  ==========================
layout      dense                 conv kernel             transposed conv kernel
==========  ====================  ======================  ==========================
``torch``   ``(out, in)``         ``(out, in/groups, *k)``  ``(in, out/groups, *k)``
``keras``   ``(in, out)``         ``(*k, in/groups, out)``  ``(*k, out, in)``
==========  ====================  ======================  ==========================

``keras`` is the default and also answers to ``jax``, ``flax`` and ``numpy`` (the article's
``x @ w``). initcheck computes *logical* fans: grouped kernels divide the full channel axis
by ``groups``, transposed kernels swap the in and out axes. The frameworks' own fan
functions read the axes literally; ``convention="torch" | "keras" | "jax"`` reproduces them.

``Layer`` describes a layer by its parameters and places them in any ``Layout``: the one
place that knows how a layer becomes a weight shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal, NamedTuple

from initcheck import _validate

FanMode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
FAN_MODES: tuple[str, ...] = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
CONVENTIONS: tuple[str, ...] = ("logical", "torch", "keras", "jax")
VECTOR_POLICIES: tuple[str, ...] = ("error", "length")


class Fans(NamedTuple):
    """Fans of one weight tensor; ``receptive_field`` is the product of the kernel axes."""

    fan_in: int
    fan_out: int
    receptive_field: int

    def fan(self, mode: FanMode) -> float:
        """The fan a variance-scaling rule divides by: in, out, their mean or geometric mean."""
        mode = _validate.choice("mode", mode, FAN_MODES)
        if mode == "fan_in":
            return float(self.fan_in)
        if mode == "fan_out":
            return float(self.fan_out)
        if mode == "fan_avg":
            return (self.fan_in + self.fan_out) / 2.0
        return math.sqrt(self.fan_in * self.fan_out)


@dataclass(frozen=True)
class Layout:
    """Which axis of a weight holds the inputs and which the outputs.

    Axes that are neither in, out nor batch form the receptive field (kernel taps).
    ``batch_axes`` (as jax's ``batch_axis``) hold independent copies and count in no fan.
    """

    name: str
    in_axis: int
    out_axis: int
    batch_axes: tuple[int, ...] = ()
    groups: int = 1
    transposed: bool = False

    def __post_init__(self) -> None:
        _validate.integer("groups", self.groups, minimum=1)
        for axis in (self.in_axis, self.out_axis, *self.batch_axes):
            _validate.integer("axis", axis, minimum=-(2**31))
        if not isinstance(self.transposed, bool):
            raise ValueError(f"transposed must be True or False, got {self.transposed!r}.")

    def axes(self, rank: int) -> tuple[int, int, tuple[int, ...]]:
        """The (in, out, batch) axes as non-negative indices for a tensor of this rank,
        with in and out swapped for a transposed kernel."""
        def norm(axis: int) -> int:
            if not -rank <= axis < rank:
                raise ValueError(
                    f"layout {self.name!r}: axis {axis} does not exist in a rank-{rank} shape."
                    " Pass a shape of higher rank or a Layout with other axes."
                )
            return axis % rank

        i, o = norm(self.in_axis), norm(self.out_axis)
        batch = tuple(norm(a) for a in self.batch_axes)
        if len({i, o, *batch}) != 2 + len(batch):
            raise ValueError(
                f"layout {self.name!r}: in axis {i}, out axis {o} and batch axes {batch}"
                " must be distinct. Pass distinct axes."
            )
        if self.transposed:
            i, o = o, i
        return i, o, batch


_TORCH = Layout("torch", in_axis=1, out_axis=0)
_KERAS = Layout("keras", in_axis=-2, out_axis=-1)
#: Named layouts; ``jax``, ``flax`` and ``numpy`` share keras's ``(*k, in, out)``.
LAYOUTS: dict[str, Layout] = {
    "torch": _TORCH,
    "keras": _KERAS,
    "jax": replace(_KERAS, name="jax"),
    "flax": replace(_KERAS, name="flax"),
    "numpy": replace(_KERAS, name="numpy"),
}
#: The layout a shape is read in when none is named: the article's ``x @ w``.
DEFAULT_LAYOUT = "keras"


def get_layout(
    layout: str | Layout = DEFAULT_LAYOUT, *, groups: int | None = None, transposed: bool | None = None
) -> Layout:
    """A ``Layout`` from a name or a ``Layout``, with ``groups``/``transposed`` overriding it."""
    if isinstance(layout, Layout):
        base = layout
    else:
        base = LAYOUTS[_validate.choice("layout", layout, LAYOUTS)]
    changes = {}
    if groups is not None:
        changes["groups"] = _validate.integer("groups", groups, minimum=1)
    if transposed is not None:
        changes["transposed"] = transposed
    return replace(base, **changes) if changes else base


def compute_fans(
    shape: tuple[int, ...],
    layout: str | Layout = DEFAULT_LAYOUT,
    *,
    groups: int | None = None,
    transposed: bool | None = None,
    convention: str = "logical",
    vectors: str | None = None,
) -> Fans:
    """Fans of a weight of ``shape`` stored in ``layout``.

    ``convention="logical"`` (default) gives the true connectivity: each output unit sees
    ``in/groups * prod(k)`` inputs, each input feeds ``out/groups * prod(k)`` outputs.
    ``"torch"``, ``"keras"`` and ``"jax"`` reproduce those frameworks' own fan functions,
    which read the layout's axes literally (no division by groups, no swap when transposed).

    Rank-0 and rank-1 shapes have no in/out axes. ``vectors="error"`` raises (torch and jax
    do); ``vectors="length"`` uses fan_in = fan_out = shape[0] (1 for a scalar), as keras
    does. ``None`` takes the convention's own policy: error, except keras.

    >>> compute_fans((3, 3, 64, 128))                      # keras: (*k, in, out)
    Fans(fan_in=576, fan_out=1152, receptive_field=9)
    >>> compute_fans((32, 1, 3, 3), "torch", groups=32)    # depthwise: logical fans
    Fans(fan_in=9, fan_out=9, receptive_field=9)
    """
    convention = _validate.choice("convention", convention, CONVENTIONS)
    dims = _validate.shape(shape)
    lay = get_layout(layout, groups=groups, transposed=transposed)
    if vectors is None:
        vectors = "length" if convention == "keras" else "error"
    vectors = _validate.choice("vectors", vectors, VECTOR_POLICIES)

    if len(dims) < 2:
        if vectors == "error":
            raise ValueError(
                f"shape {dims!r} has rank {len(dims)}: fans need an in and an out axis (rank >= 2)."
                " A bias or scale vector has no fan; pass vectors='length' to use"
                " fan_in = fan_out = shape[0] as keras does, or pass the full weight shape."
            )
        n = dims[0] if dims else 1
        return Fans(n, n, 1)

    if convention != "logical":
        # The frameworks' functions: literal axes, groups and transposition ignored.
        lay = replace(lay, groups=1, transposed=False)
    i, o, batch = lay.axes(len(dims))
    fan_in_channels, fan_out_channels = dims[i], dims[o]
    if lay.groups > 1:
        # The axis that stores a per-group channel count is layout position "in" of a plain
        # kernel (out of a transposed one); the other axis holds all channels and is divided.
        full, full_name = (o, "out") if not lay.transposed else (i, "in")
        if dims[full] % lay.groups:
            raise ValueError(
                f"groups={lay.groups} does not divide the {dims[full]} channels on axis {full}"
                f" ({full_name} channels) of shape {dims!r}. Pass the groups the layer uses"
                f" (a divisor of {dims[full]}), or check the layout ({lay.name!r})."
            )
        if lay.transposed:
            fan_in_channels //= lay.groups
        else:
            fan_out_channels //= lay.groups
    receptive = math.prod(d for a, d in enumerate(dims) if a not in (i, o, *batch))
    return Fans(fan_in_channels * receptive, fan_out_channels * receptive, receptive)


class Layer(NamedTuple):
    """A layer by its parameters: enough to know its weight shape in any layout."""

    in_channels: int
    out_channels: int
    kernel: tuple[int, ...] = ()
    groups: int = 1
    transposed: bool = False

    def weight_shape(self, layout: str | Layout = DEFAULT_LAYOUT) -> tuple[int, ...]:
        """The weight's shape as ``layout`` stores it: the channels on the layout's in and
        out axes (per-group channels on the in axis; swapped for a transposed layer), the
        kernel taps on the remaining axes in order, and size 1 on each batch axis.

        >>> Layer(64, 128, (3, 3)).weight_shape("torch")
        (128, 64, 3, 3)
        >>> Layer(64, 128, (3, 3)).weight_shape("keras")
        (3, 3, 64, 128)
        """
        lay = get_layout(layout)
        i, o, g = self.in_channels, self.out_channels, self.groups
        # literal axes: the in axis stores per-group channels, the out axis all of them
        on_in, on_out = (o // g, i) if self.transposed else (i // g, o)
        rank = 2 + len(self.kernel) + len(lay.batch_axes)
        literal = replace(lay, groups=1, transposed=False)
        in_axis, out_axis, batch = literal.axes(rank)
        dims: list[int] = [0] * rank
        dims[in_axis], dims[out_axis] = on_in, on_out
        for axis in batch:
            dims[axis] = 1
        taps = iter(self.kernel)
        for axis in range(rank):
            if axis not in (in_axis, out_axis, *batch):
                dims[axis] = next(taps)
        return tuple(dims)
