"""keras models' tensors for ``initcheck.models.collect``: each layer's own weights (not its
sublayers'), with the layout keras stores them in (an EinsumDense kernel's axes read from
its equation)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from initcheck.core.fans import LAYOUTS, Layout
from initcheck.models.held import Held, types_of


def einsum_layout(layer: Any) -> Layout | None:
    """An EinsumDense kernel's axes, read from its equation as keras reads them: the kernel's
    letters summed over (in the input, not the output) are its in axes, those in the output
    its out axes (``"abc,cde->abde"``: in c, out d and e); None for any other layer."""
    equation = getattr(layer, "equation", None)
    if not isinstance(equation, str) or equation.count("->") != 1 or "," not in equation:
        return None
    inputs, out = equation.replace(" ", "").split("->")
    x, _, kernel = inputs.partition(",")
    ins = tuple(i for i, c in enumerate(kernel) if c in x and c not in out)
    outs = tuple(i for i, c in enumerate(kernel) if c in out and c not in x)
    batch = tuple(i for i, c in enumerate(kernel) if c in x and c in out)
    if not ins or not outs:
        return None
    return Layout(f"einsum {kernel}", in_axis=ins if len(ins) > 1 else ins[0],
                  out_axis=outs if len(outs) > 1 else outs[0], batch_axes=batch)


def keras_held(model: Any, framework: str) -> Iterator[Held]:
    from keras import ops

    layers = list(model._flatten_layers(include_self=True, recursive=True))
    inner: dict[int, set[int]] = {}
    for layer in layers:
        inner[id(layer)] = {id(v) for sub in layer._flatten_layers(include_self=False)
                            for v in sub.weights}
    seen: set[int] = set()
    for layer in layers:
        for v in layer.weights:
            if id(v) in inner[id(layer)] or id(v) in seen:
                continue
            seen.add(id(v))
            layout = replace(LAYOUTS["keras"], groups=int(getattr(layer, "groups", 1) or 1))
            name = v.path.replace("/", ".")
            if name.rpartition(".")[2] == "kernel":
                layout = einsum_layout(layer) or layout
            yield Held([name], types_of(layer), layer, name.rpartition(".")[2], framework, layout,
                       tuple(v.shape), str(v.dtype), functools.partial(ops.convert_to_numpy, v))




__all__ = ["einsum_layout", "keras_held"]
