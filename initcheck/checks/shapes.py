"""The shapes ``verify`` (and ``identify``) draw when none are given: dense and conv layers
whose fans differ in every way a fan rule can be wrong, about 870k elements in all."""

from __future__ import annotations

import math

from initcheck.claims.specs import Spec
from initcheck.core import _validate
from initcheck.core.fans import Layer, Layout

#: The default shapes, as layers: large dense tensors for power, non-square dense, square and
#: non-square conv kernels in 1d/2d/3d, and small fans (< 32) where fan mistakes hide.
#: About 870k elements: a relative sigma error of 0.7% is detected with power 0.99.
DEFAULT_LAYERS: tuple[Layer, ...] = (
    Layer(1024, 512),
    Layer(256, 1000),
    Layer(64, 128, (3, 3)),
    Layer(32, 16, (1, 5)),
    Layer(48, 24, (7,)),
    Layer(8, 16, (3, 3, 3)),
    Layer(7, 3),
    Layer(16, 24),
    Layer(5, 31, (2, 2)),
)
#: A bias-like vector, tested where the spec needs no fans.
DEFAULT_VECTOR = (64,)
#: Fewest elements ``samples`` may ask for, and fewest the two large layers keep.
MIN_SAMPLES = 1000

def default_shapes(spec: Spec, layout: Layout, *, vectors: str | None = None,
                   samples: int | None = None) -> list[tuple[int, ...]]:
    """The default shapes for ``spec`` in ``layout``, any ``Layout`` (grouped and transposed
    layouts get conv layers with channel counts divisible by the groups; layers whose rank
    does not fit the layout's axes are left out). ``samples`` rescales the two large dense
    layers so that about that many elements are drawn in all (power control)."""
    layers = list(DEFAULT_LAYERS)
    if samples is not None:
        samples = _validate.integer("samples", samples, minimum=MIN_SAMPLES)
        big = layers[:2]
        rest = sum(math.prod(l.weight_shape()) for l in layers[2:])
        scale = max(samples - rest, MIN_SAMPLES) / sum(math.prod(l.weight_shape()) for l in big)
        layers[:2] = [l._replace(out_channels=max(1, round(l.out_channels * scale))) for l in big]
    out = []
    for layer in layers:
        if layout.groups > 1 or layout.transposed:
            if not layer.kernel:
                continue
            g = layout.groups
            layer = Layer(layer.in_channels * g, layer.out_channels * g, layer.kernel, g,
                          layout.transposed)
        try:
            out.append(layer.weight_shape(layout))
        except ValueError:  # a custom layout whose axes need another rank
            continue
    if not out:
        raise ValueError(f"layout {layout.name!r} fits none of the default layers (its axes"
                         f" {layout.in_axis}, {layout.out_axis}, {layout.batch_axes} need another"
                         " rank). Pass the shapes to verify: shapes=[...].")
    if spec.family != "orthogonal" and (not spec.needs_fans or vectors == "length"):
        out.append(DEFAULT_VECTOR)
    return out


__all__ = ["DEFAULT_LAYERS", "DEFAULT_VECTOR", "MIN_SAMPLES", "default_shapes"]
