"""Hypothesis strategies for weight shapes: dense and conv 1d/2d/3d kernels in either
layout, grouped and transposed, square and non-square kernels, small and large fans.

All arguments are keyword-only with derived defaults, and are validated when the strategy
is made (``hypothesis.errors.InvalidArgument`` naming the fix), as hypothesis.extra.numpy.
This module is the only one that imports Hypothesis: tests (initcheck's and users') import
it, ``verify`` and ``simulate`` never do. ``Layer`` lives in ``initcheck.core.fans``.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from initcheck.core.fans import DEFAULT_LAYOUT, LAYOUTS, Layer, Layout

KINDS: tuple[str, ...] = ("dense", "conv1d", "conv2d", "conv3d")
_SPATIAL = {"dense": 0, "conv1d": 1, "conv2d": 2, "conv3d": 3}


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidArgument(message)


def _check_int(name: str, value: object, minimum: int) -> None:
    _check(isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
           f"{name}={value!r} must be an int >= {minimum}.")


@st.composite
def _layers(draw, kind, min_channels, max_channels, max_kernel, square, max_groups, transposed,
            max_elements, min_groups=1, min_elements=1):
    k = _SPATIAL[kind]
    groups = draw(st.integers(min_groups, max_groups)) if k else 1
    per_lo = max(1, -(-min_channels // groups))
    per_hi = max(per_lo, max_channels // groups)
    cin = groups * draw(st.integers(per_lo, per_hi))
    cout = groups * draw(st.integers(per_lo, per_hi))
    if square and k:
        side = draw(st.integers(1, max_kernel))
        kernel = (side,) * k
    else:
        kernel = tuple(draw(st.integers(1, max_kernel)) for _ in range(k))
    is_t = bool(k) and draw(st.booleans()) if transposed is None else bool(transposed and k)
    layer = Layer(cin, cout, kernel, groups, is_t)
    size = cin * cout // groups * math.prod(kernel)
    if size < min_elements:  # grow the channels, keeping their ratio (in > out stays so)
        scale = math.sqrt(min_elements / size)
        layer = layer._replace(in_channels=groups * math.ceil(cin // groups * scale),
                               out_channels=groups * math.ceil(cout // groups * scale))
    elif size > max_elements:  # shrink channels rather than reject, to keep the draw cheap
        scale = math.sqrt(size / max_elements)
        per_in = max(1, int(cin // groups / scale))
        per_out = max(1, int(cout // groups / scale))
        layer = layer._replace(in_channels=per_in * groups, out_channels=per_out * groups)
        while layer.in_channels * layer.out_channels // groups * math.prod(kernel) > max_elements:
            kernel = tuple(max(1, s // 2) for s in kernel)
            layer = layer._replace(kernel=kernel)
    return layer


def layers(
    *,
    kinds: tuple[str, ...] = KINDS,
    min_channels: int = 1,
    max_channels: int = 64,
    max_kernel: int = 5,
    square: bool | None = None,
    max_groups: int = 1,
    transposed: bool | None = False,
    max_elements: int = 2**16,
    min_groups: int = 1,
    min_elements: int = 1,
) -> st.SearchStrategy[Layer]:
    """Layers of the given kinds. ``square=None`` draws square and non-square kernels;
    ``transposed=None`` draws both; ``max_groups > 1`` draws grouped convolutions (at least
    ``min_groups``: dense layers always have one). A layer under ``min_elements`` has its
    channels grown (their ratio kept), one over ``max_elements`` shrunk."""
    _check(isinstance(kinds, tuple | list) and len(kinds) > 0 and all(k in KINDS for k in kinds),
           f"kinds={kinds!r}: pass a non-empty tuple drawn from {KINDS}.")
    for name, value, lo in (("min_channels", min_channels, 1), ("max_channels", max_channels, 1),
                            ("max_kernel", max_kernel, 1), ("max_groups", max_groups, 1),
                            ("max_elements", max_elements, 1), ("min_groups", min_groups, 1),
                            ("min_elements", min_elements, 1)):
        _check_int(name, value, lo)
    _check(min_groups <= max_groups,
           f"min_groups={min_groups} > max_groups={max_groups}; swap them.")
    _check(min_elements <= max_elements,
           f"min_elements={min_elements} > max_elements={max_elements}; swap them.")
    _check(min_channels <= max_channels,
           f"min_channels={min_channels} > max_channels={max_channels}; swap them.")
    _check(max_groups <= max_channels,
           f"max_groups={max_groups} > max_channels={max_channels}: a group needs a channel.")
    _check(square in (None, True, False), f"square={square!r} must be None, True or False.")
    _check(transposed in (None, True, False),
           f"transposed={transposed!r} must be None, True or False.")
    return st.one_of(*(
        _layers(kind, min_channels, max_channels, max_kernel, square, max_groups, transposed,
                max_elements, min_groups, min_elements)
        for kind in kinds
    ))


def shapes(
    *,
    kinds: tuple[str, ...] = KINDS,
    layout: str | Layout = DEFAULT_LAYOUT,
    min_channels: int = 1,
    max_channels: int = 64,
    max_kernel: int = 5,
    square: bool | None = None,
    max_elements: int = 2**16,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Weight shapes of ungrouped, untransposed layers of the given kinds in ``layout`` (a
    name or a ``Layout``)."""
    _check(isinstance(layout, Layout) or layout in LAYOUTS,
           f"layout={layout!r}: pass one of {tuple(LAYOUTS)} or an initcheck.Layout.")
    return layers(kinds=kinds, min_channels=min_channels, max_channels=max_channels,
                  max_kernel=max_kernel, square=square, max_elements=max_elements).map(
        lambda layer: layer.weight_shape(layout))


def dense_shapes(
    *,
    layout: str | Layout = DEFAULT_LAYOUT,
    min_fan: int = 1,
    max_fan: int = 512,
    max_elements: int = 2**16,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Dense weight shapes (two axes) with fan_in and fan_out in [min_fan, max_fan]."""
    _check_int("min_fan", min_fan, 1)
    _check_int("max_fan", max_fan, 1)
    _check(min_fan <= max_fan, f"min_fan={min_fan} > max_fan={max_fan}; swap them.")
    return shapes(kinds=("dense",), layout=layout, min_channels=min_fan, max_channels=max_fan,
                  max_elements=max_elements)


def conv_shapes(
    *,
    dims: int = 2,
    layout: str | Layout = DEFAULT_LAYOUT,
    min_channels: int = 1,
    max_channels: int = 64,
    max_kernel: int = 5,
    square: bool | None = None,
    max_elements: int = 2**16,
) -> st.SearchStrategy[tuple[int, ...]]:
    """Conv kernel shapes with ``dims`` spatial axes (1, 2 or 3)."""
    _check(dims in (1, 2, 3), f"dims={dims!r}: a convolution has 1, 2 or 3 spatial axes.")
    return shapes(kinds=(f"conv{dims}d",), layout=layout, min_channels=min_channels,
                  max_channels=max_channels, max_kernel=max_kernel, square=square,
                  max_elements=max_elements)
