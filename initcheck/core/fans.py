"""Fans and layouts: how many inputs feed one unit (fan_in) and how many units one input feeds
(fan_out), read from a weight shape and the layout that says which axis is which.

Two layouts cover the frameworks (docs/architecture.md, "Layouts and fans"):

==========  ====================  ======================  ==========================
layout      dense                 conv kernel             transposed conv kernel
==========  ====================  ======================  ==========================
``torch``   ``(out, in)``         ``(out, in/groups, *k)``  ``(in, out/groups, *k)``
``keras``   ``(in, out)``         ``(*k, in/groups, out)``  ``(*k, out, in)``
==========  ====================  ======================  ==========================

``keras`` is the default and also answers to ``jax``, ``flax`` and ``numpy`` (the reference
article's ``x @ w``). initcheck computes *logical* fans: grouped kernels divide the full
channel axis by ``groups``, transposed kernels swap the in and out axes. The frameworks' own fan
functions read the axes literally; ``convention="torch" | "keras" | "jax"`` reproduces them.

``Layer`` describes a layer by its parameters and places them in any ``Layout``: the one
place that knows how a layer becomes a weight shape.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

from initcheck.core import _validate

FAN_MODES: tuple[str, ...] = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
CONVENTIONS: tuple[str, ...] = ("logical", "torch", "keras", "jax")
VECTOR_POLICIES: tuple[str, ...] = ("error", "length")


class Fans(NamedTuple):
    """Fans of one weight tensor; ``receptive_field`` is the product of the kernel axes."""

    fan_in: int
    fan_out: int
    receptive_field: int

    def fan(self, mode: str) -> float:
        """The fan a variance-scaling rule divides by: in, out, their mean or geometric mean."""
        checked = _validate.choice("mode", mode, FAN_MODES)
        if checked == "fan_in":
            return float(self.fan_in)
        if checked == "fan_out":
            return float(self.fan_out)
        if checked == "fan_avg":
            return (self.fan_in + self.fan_out) / 2.0
        return math.sqrt(self.fan_in * self.fan_out)


Axes = int | tuple[int, ...]


def _axis_tuple(argument: str, value: object) -> tuple[int, ...]:
    """One axis or a sequence of axes as a tuple of ints, validated."""
    if isinstance(value, (list, tuple)):
        if not value and argument != "batch_axes":
            raise ValueError(f"{argument}=() names no axis; pass an int or a non-empty tuple.")
        return tuple(_validate.integer(argument, a, minimum=-(2**31)) for a in value)
    return (_validate.integer(argument, value, minimum=-(2**31)),)


@dataclass(frozen=True)
class Layout:
    """Which axes of a weight hold the inputs and which the outputs.

    As jax's ``variance_scaling``, ``in_axis`` and ``out_axis`` may each be one axis or a
    tuple of axes (a flax ``DenseGeneral`` kernel): the fan counts the product of their
    sizes. ``out_axis=None`` makes every axis that is neither in nor batch an out axis, as
    haiku's ``fan_in_axes`` reads a kernel. Axes that are neither in, out nor batch form the
    receptive field (kernel taps); ``batch_axes`` hold independent copies and count in no
    fan. ``groups`` and ``transposed`` need a single in and a single out axis.
    """

    name: str
    in_axis: Axes
    out_axis: Axes | None
    batch_axes: tuple[int, ...] = ()
    groups: int = 1
    transposed: bool = False

    def __post_init__(self) -> None:
        _validate.integer("groups", self.groups, minimum=1)
        ins = _axis_tuple("in_axis", self.in_axis)
        outs = () if self.out_axis is None else _axis_tuple("out_axis", self.out_axis)
        object.__setattr__(self, "batch_axes", _axis_tuple("batch_axes", self.batch_axes))
        if not isinstance(self.transposed, bool):
            raise ValueError(f"transposed must be True or False, got {self.transposed!r}.")
        if (self.groups > 1 or self.transposed) and (len(ins) > 1 or len(outs) != 1):
            raise ValueError(
                f"layout {self.name!r}: groups and transposed need a single in and"
                " a single out axis. Pass one axis each, or groups=1, transposed=False."
            )

    def axis_sets(self, rank: int) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """The (in, out, batch) axes as non-negative indices for a tensor of this rank, with
        in and out swapped for a transposed kernel."""
        def norm(axes: tuple[int, ...]) -> tuple[int, ...]:
            for axis in axes:
                if not -rank <= axis < rank:
                    raise ValueError(
                        f"layout {self.name!r}: axis {axis} does not exist in a rank-{rank} shape."
                        " Pass a shape of higher rank or a Layout with other axes.")
            return tuple(a % rank for a in axes)

        ins, batch = norm(_axis_tuple("in_axis", self.in_axis)), norm(self.batch_axes)
        if self.out_axis is None:  # every other axis
            outs = tuple(a for a in range(rank) if a not in (*ins, *batch))
            if not outs:
                raise ValueError(f"layout {self.name!r}: no axis of a rank-{rank} shape is left"
                                 " for the outputs. Pass a shape of higher rank.")
        else:
            outs = norm(_axis_tuple("out_axis", self.out_axis))
        if len({*ins, *outs, *batch}) != len(ins) + len(outs) + len(batch):
            raise ValueError(
                f"layout {self.name!r}: in axes {ins}, out axes {outs} and batch axes {batch}"
                " must be distinct. Pass distinct axes.")
        return (outs, ins, batch) if self.transposed else (ins, outs, batch)

    def axes(self, rank: int) -> tuple[int, int, tuple[int, ...]]:
        """``axis_sets`` for a layout with a single in and a single out axis."""
        ins, outs, batch = self.axis_sets(rank)
        if len(ins) > 1 or len(outs) > 1:
            raise ValueError(f"layout {self.name!r} has several in or out axes; use axis_sets.")
        return ins[0], outs[0], batch

    def unit_axes(self, rank: int) -> tuple[int, ...]:
        """The axes that index output units as stored (the literal out axes, not swapped for
        a transposed kernel), as orthogonal initializers and torch's dim 0 read them."""
        return replace(self, groups=1, transposed=False).axis_sets(rank)[1]


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
#: The layout a shape is read in when none is named: the reference article's ``x @ w``.
DEFAULT_LAYOUT = "keras"
#: flax's Embed draws variance_scaling(1, 'fan_in', 'normal', out_axis=0): its fan is the
#: feature axis, so N(0, 1/features). As a layout of a (rows, features) table: features in,
#: rows out (the flax catalogue and the flax policy read embeddings in it).
EMBEDDING = Layout("embedding (rows, features)", in_axis=-1, out_axis=0)


def get_layout(
    layout: str | Layout = DEFAULT_LAYOUT,
    *,
    groups: int | None = None,
    transposed: bool | None = None,
) -> Layout:
    """A ``Layout`` from a name or a ``Layout``, with ``groups``/``transposed`` overriding it.

    Args:
        layout: a name of ``LAYOUTS`` (``"keras"``, ``"jax"``, ``"flax"``, ``"numpy"``,
            ``"torch"``) or a ``Layout``.
        groups: the grouped convolution's groups, if given.
        transposed: whether kernels are a transposed convolution's, if given.

    Returns:
        The ``Layout``.

    Raises:
        ValueError: an unknown name (the message lists the known ones), or groups < 1.

    Example:
        >>> get_layout("torch", groups=2).groups
        2
    """
    if isinstance(layout, Layout):
        base = layout
    else:
        base = LAYOUTS[_validate.choice("layout", layout, LAYOUTS)]
    changes: dict[str, Any] = {}
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
    """The fans of a weight of ``shape`` stored in ``layout``.

    ``convention="logical"`` (default) gives the true connectivity: each output unit sees
    ``in/groups * prod(k)`` inputs, each input feeds ``out/groups * prod(k)`` outputs.
    ``"torch"``, ``"keras"`` and ``"jax"`` reproduce those frameworks' own fan functions, which
    read the layout's axes literally (no division by groups, no swap when transposed).

    Args:
        shape: the weight's shape.
        layout: a layout's name (``"keras"``: ``(*k, in, out)``; ``"torch"``: ``(out, in,
            *k)``) or a ``Layout``.
        groups: grouped convolution's groups (overrides the layout's).
        transposed: a transposed convolution's kernel (overrides the layout's).
        convention: ``"logical"``, ``"torch"``, ``"keras"`` or ``"jax"``.
        vectors: for rank-0 and rank-1 shapes, which have no in/out axes: ``"error"`` (torch
            and jax), ``"length"`` (fan_in = fan_out = shape[0], as keras), or None for the
            convention's own policy.

    Returns:
        ``Fans(fan_in, fan_out, receptive_field)``.

    Raises:
        ValueError: a shape the layout cannot read (too few axes, channels not divisible by
            groups), or a vector where fans are an error.

    Example:
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
    ins, outs, batch = lay.axis_sets(len(dims))
    fan_in_channels = math.prod(dims[a] for a in ins)
    fan_out_channels = math.prod(dims[a] for a in outs)
    if lay.groups > 1:  # a single in and out axis (Layout checks it)
        i, o = ins[0], outs[0]
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
    receptive = math.prod(d for a, d in enumerate(dims) if a not in (*ins, *outs, *batch))
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
        # literal axes: the in axes store per-group channels, the out axes all of them
        on_in, on_out = (o // g, i) if self.transposed else (i // g, o)
        n_in = len(_axis_tuple("in_axis", lay.in_axis))
        if lay.out_axis is None:  # the out channels on one axis, the taps on the others
            lay = replace(lay, out_axis=_last_free_axis(lay, n_in + 1 + len(self.kernel)))
        n_out = len(_axis_tuple("out_axis", lay.out_axis))
        rank = n_in + n_out + len(self.kernel) + len(lay.batch_axes)
        ins, outs, batch = replace(lay, groups=1, transposed=False).axis_sets(rank)
        dims: list[int] = [1] * rank
        for axes, count in ((ins, on_in), (outs, on_out)):
            for axis, size in zip(axes, split_evenly(count, len(axes))):
                dims[axis] = size
        taps = iter(self.kernel)
        for axis in range(rank):
            if axis not in (*ins, *outs, *batch):
                dims[axis] = next(taps)
        return tuple(dims)


def _last_free_axis(layout: Layout, core_rank: int) -> int:
    """The last axis that is neither in nor batch, in a shape of ``core_rank`` plus batch axes."""
    rank = core_rank + len(layout.batch_axes)
    taken = {a % rank for a in (*_axis_tuple("in_axis", layout.in_axis), *layout.batch_axes)}
    return max(a for a in range(rank) if a not in taken)


def split_evenly(n: int, parts: int) -> tuple[int, ...]:
    """``n`` as a product of ``parts`` factors, as close to equal as n's divisors allow
    (largest first): how a layer's channels spread over several in or out axes.

    >>> split_evenly(24, 2), split_evenly(7, 2), split_evenly(64, 3)
    ((6, 4), (7, 1), (4, 4, 4))
    """
    factors = []
    for left in range(parts, 1, -1):
        target = n ** (1.0 / left)
        d = min((d for d in range(1, n + 1) if n % d == 0), key=lambda d: (abs(d - target), -d))
        factors.append(d)
        n //= d
    factors.append(n)
    return tuple(sorted(factors, reverse=True))
