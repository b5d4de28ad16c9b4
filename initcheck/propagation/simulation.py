"""The reference article's experiment (docs/initializers.md), general and exact: push a batch
through a deep MLP, forward and backward, and keep per-layer statistics as they stream past,
beside the mean-field prediction for every layer.

Forward-only runs keep one layer's activations at a time (memory O(batch x width), not
O(depth x batch x width) like the reference article's dict of every layer). Backward runs
keep phi'(h) per layer, which the gradient needs.

Gradient: of the random linear readout L = sum(R * x_L), R iid N(0, 1) of shape
(batch, width_L), so dL/dx_L has unit variance; reported per layer is dL/dh_l.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from initcheck import stats
from initcheck.claims import initializers
from initcheck.claims.initializers import Initializer
from initcheck.claims.specs import Spec, spec as make_spec
from initcheck.core import _validate, memory
from initcheck.core.contract import Adapter, InitializerLike
from initcheck.core.fans import Layer, Layout
from initcheck.core.seeding import seed_sequence
from initcheck.frameworks.dispatch import adapter
from initcheck.propagation.report import LayerStats, Trace
from initcheck.theory import meanfield as theory
from initcheck.theory.activations import Activation, get as get_activation

#: Frameworks that run on jax, which draws float64 only with jax_enable_x64.
JAX_BASED: tuple[str, ...] = ("jax", "keras", "haiku")
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: Quantiles and histograms use at most this many values of a layer (evenly strided over the
#: flattened batch x width array); exact below it, which covers the reference article's 1000 x 100.
STATS_SAMPLE = 2**17


def _resolve_init(
    init: InitializerLike | Adapter, expect: str | Spec | None, framework: str
) -> tuple[Adapter, Spec | None]:
    if isinstance(init, str):
        init = initializers.get(init)
    with _validate.about("init"):
        sampler = adapter(init, framework=framework)
    if expect is not None:
        return sampler, make_spec(expect)
    return sampler, init.spec if isinstance(init, Initializer) else None


@dataclass(frozen=True)
class _Net:
    """A simulate call's net, validated: its activation, layer widths (input first), batch,
    seed, bias std, dtype, histogram bins and whether gradients are traced."""

    activation: Activation
    widths: tuple[int, ...]
    batch: int
    seed: int
    bias: float
    dtype: np.dtype
    bins: int
    backward: bool

    @property
    def depth(self) -> int:
        return len(self.widths) - 1


def simulate(
    init: InitializerLike | Adapter,
    activation: str | Activation = "tanh",
    *,
    depth: int = 5,
    width: int | Sequence[int] = 100,
    batch: int = 1000,
    seed: int = 0,
    bias: float = 0.0,
    backward: bool = True,
    input_width: int | None = None,
    dtype: Any = np.float64,
    bins: int = 30,
    hist_range: tuple[float, float] | None = None,
    expect: str | Spec | None = None,
    framework: str = "auto",
) -> Trace:
    """Run the reference article's experiment on any net: inputs N(0, 1) of shape (batch,
    input_width), ``depth`` dense layers ``h = x @ W + b``, ``x = phi(h)``, weights from
    ``init``, biases N(0, bias^2); per-layer statistics forward (and gradients backward)
    beside the mean-field prediction.

    Args:
        init: a built-in's name, an ``Initializer``, or any initializer ``verify`` takes
            (with ``expect`` for the prediction).
        activation: a registered activation's name (``"tanh"``, ``"relu"``, ...) or an
            ``Activation``.
        depth: the number of layers (the reference article's 5).
        width: units per layer, one int for all or one per layer (the article's 100).
        batch: inputs pushed through (the article's 1000).
        seed: the seed the weights, inputs, biases and readout derive from.
        bias: the bias std (0: no bias).
        backward: also trace the gradient of a random linear readout back to each layer.
        input_width: the inputs' width (default: the first layer's).
        dtype: the arithmetic's float dtype.
        bins: histogram bins per layer.
        hist_range: the histograms' range (default: the activation's range, or +-5
            predicted stds).
        expect: the spec ``init`` claims, where it carries none (for the prediction).
        framework: how ``init`` is called, as in ``verify``.

    Returns:
        A ``Trace``: per-layer statistics, histograms and the prediction. A NaN or Inf
        stops the pass at the layer where it appears, with a note, instead of raising.

    Raises:
        ValueError: bad input (named), or a net that will not fit in memory.

    Example:
        >>> import initcheck as ic
        >>> small = ic.simulate("small_normal", "tanh", depth=5, width=100, batch=1000)
        >>> small.layers[-1].std < 0.01  # the small init's signal vanishes
        True
    """
    net = _net(activation, depth=depth, width=width, batch=batch, seed=seed, bias=bias,
               backward=backward, input_width=input_width, dtype=dtype, bins=bins)
    sampler, claim = _resolve_init(init, expect, framework)
    shapes = [Layer(net.widths[l], net.widths[l + 1]).weight_shape(sampler.layout)
              for l in range(net.depth)]
    prediction, notes = _predict(net, sampler, claim, shapes)
    edges = _bin_edges(net.activation, prediction, hist_range, net.bins)
    layers, run_notes = _run(net, sampler, shapes, edges)
    return Trace(init=sampler.name, activation=str(net.activation), depth=net.depth,
                 widths=net.widths, batch=net.batch, seed=net.seed, bias=net.bias,
                 bin_edges=edges, layers=tuple(layers), prediction=prediction,
                 notes=tuple(notes + run_notes))


def _net(activation: str | Activation, *, depth: int, width: int | Sequence[int], batch: int,
         seed: int, bias: float, backward: bool, input_width: int | None, dtype: Any,
         bins: int) -> _Net:
    """simulate's net, every argument validated; one that will not fit is refused here."""
    act = get_activation(activation)
    depth = _validate.integer("depth", depth, minimum=1)
    batch = _validate.integer("batch", batch, minimum=1)
    seed = _validate.integer("seed", seed, minimum=0)
    bins = _validate.integer("bins", bins, minimum=1)
    bias = _validate.real("bias", bias)
    if bias < 0:
        raise ValueError(f"bias is the bias std and must be >= 0, got {bias}.")
    dt = _validate.float_dtype(dtype)
    if isinstance(width, (int, np.integer)) and not isinstance(width, bool):
        hidden = [_validate.integer("width", width)] * depth
    elif isinstance(width, Sequence):
        hidden = [_validate.integer("width", w) for w in width]
        if len(hidden) != depth:
            raise ValueError(
                f"width lists {len(hidden)} layers for depth {depth}: give one int or {depth}."
            )
    else:
        raise ValueError(f"width={width!r}: pass an int (every layer) or a list of {depth} ints.")
    n_in = hidden[0] if input_width is None else _validate.integer("input_width", input_width)
    widths = (n_in, *hidden)
    memory.require(memory.simulate_bytes(list(widths), batch, backward),
                   f"simulating {depth} layers of width {max(hidden)} on a batch of {batch}",
                   "Lower the width or the batch (the statistics converge long before),"
                   " or pass backward=False.")
    return _Net(act, widths, batch, seed, bias, dt, bins, bool(backward))


def _predict(net: _Net, sampler: Adapter, claim: Spec | None,
             shapes: list[tuple[int, ...]]) -> tuple[theory.MeanField | None, list[str]]:
    """The mean-field prediction for the claimed weights (None without a claim, or with a
    non-zero weight mean, which the theory does not cover: then a note says so)."""
    if claim is None:
        return None, []
    laws = [claim.law(shape, sampler.layout) for shape in shapes]
    if any(abs(law.mean) > 0 for law in laws):
        return None, ["no mean-field prediction: the claimed weights have a non-zero mean, and"
                      " the theory needs zero-mean weights"]
    return theory.predict(net.activation, net.depth, sigma_b2=net.bias * net.bias, q0=1.0,
                          widths=list(net.widths), weight_var=[law.std**2 for law in laws]), []


def _run(net: _Net, sampler: Adapter, shapes: list[tuple[int, ...]],
         edges: np.ndarray) -> tuple[list[LayerStats], list[str]]:
    """The forward pass, one layer's activations held at a time, and the backward pass of a
    random readout; each layer's statistics, and notes where a pass stopped."""
    act, dt, seed, widths = net.activation, net.dtype, net.seed, net.widths
    layers: list[LayerStats] = []
    notes: list[str] = []
    rng_input = np.random.default_rng(seed_sequence(seed, "simulate", "input"))
    x = rng_input.standard_normal((net.batch, widths[0])).astype(dt)
    weights, derivs = [], []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for l, shape in enumerate(shapes):
            # jax (and keras and haiku on it) sample float64 only with jax_enable_x64: draw
            # float32, cast up
            w = sampler.sample(shape, seed_sequence(seed, "simulate", "weight", l),
                               np.dtype(np.float32) if sampler.framework in JAX_BASED else dt)
            if w.shape != shape:
                raise ValueError(
                    f"{sampler.name} returned shape {w.shape} for layer {l + 1}, asked {shape}."
                )
            w = np.asarray(_dense_matrix(w, sampler.layout), dtype=dt)
            h = x @ w
            if net.bias > 0:
                b = np.random.default_rng(
                    seed_sequence(seed, "simulate", "bias", l)
                ).standard_normal(widths[l + 1])
                h += (net.bias * b).astype(dt)
            if not np.all(np.isfinite(h)):
                notes.append(f"non-finite pre-activations at layer {l + 1}: the pass stopped there")
                break
            x = act.phi(h).astype(dt, copy=False)
            layers.append(_layer_stats(l + 1, h, x, act, edges))
            if net.backward:
                weights.append(w)
                derivs.append(act.dphi(h).astype(dt, copy=False))
            del h
        if net.backward and len(layers) == net.depth:
            rng_readout = np.random.default_rng(seed_sequence(seed, "simulate", "readout"))
            g = rng_readout.standard_normal((net.batch, widths[-1])).astype(dt)
            for l in range(net.depth - 1, -1, -1):
                delta = derivs.pop() * g
                second, mean = _moments(delta)
                layers[l] = replace(layers[l], grad_second=second,
                                    grad_std=math.sqrt(max(second - mean * mean, 0.0)))
                g = delta @ weights.pop().T
                if not np.isfinite(second):
                    notes.append(f"non-finite gradients at layer {l + 1}")
                    break
    return layers, notes


def _dense_matrix(w: np.ndarray, layout: Layout) -> np.ndarray:
    """A dense weight stored in ``layout`` as the (in, out) matrix of ``x @ w``."""
    ins, outs, _ = replace(layout, groups=1, transposed=False).axis_sets(w.ndim)
    moved = np.moveaxis(w, (*ins, *outs), tuple(range(len(ins) + len(outs))))
    n_in = math.prod(w.shape[a] for a in ins)
    return moved.reshape(n_in, -1)


def _bin_edges(act: Activation, prediction: theory.MeanField | None,
               hist_range: tuple[float, float] | None, bins: int) -> np.ndarray:
    """Fixed bins shared by every layer: the activation's output range if bounded (the
    article's (-1, 1) for tanh), else +-5 predicted stds, else +-5."""
    if hist_range is not None:
        lo, hi = (_validate.real("hist_range", v) for v in hist_range)
        if not lo < hi:
            raise ValueError(f"hist_range must be (low, high) with low < high, got {hist_range}.")
    elif act.output_range is not None:
        lo, hi = act.output_range
    elif prediction is not None and np.all(np.isfinite(prediction.post_std)):
        m = float(np.max(np.abs(prediction.post_mean) + 5 * prediction.post_std))
        lo, hi = (-m, m) if m > 0 else (-1.0, 1.0)
        if act.slopes is not None and act.slopes[0] == 0:
            lo = 0.0
    else:
        lo, hi = -5.0, 5.0
    return np.linspace(lo, hi, bins + 1)


def _moments(a: np.ndarray) -> tuple[float, float]:
    """Mean square and mean of an array in one BLAS dot and one sum (no temporaries for
    float32/64; half precision is summed in float64, where its squares' sum would overflow)."""
    flat = a.ravel()
    if flat.dtype.itemsize < 4:
        flat = flat.astype(np.float64)
    return float(flat @ flat) / flat.size, float(flat.sum()) / flat.size


def _layer_stats(layer: int, h: np.ndarray, x: np.ndarray, act: Activation,
                 edges: np.ndarray) -> LayerStats:
    flat = x.ravel()
    second, mean = _moments(x)
    sample = stats.thin(flat, STATS_SAMPLE)
    qs = np.quantile(sample, QUANTILES)
    idx = np.searchsorted(edges, sample, side="right") - 1
    idx[sample == edges[-1]] = edges.size - 2  # the last bin is closed, as numpy's
    inside = (idx >= 0) & (idx < edges.size - 1)
    hist = np.bincount(idx[inside], minlength=edges.size - 1)
    zero = x == 0
    return LayerStats(
        layer=layer, width=x.shape[1], q=_moments(h)[0],
        mean=mean, std=math.sqrt(max(second - mean * mean, 0.0)),
        quantiles={q: float(v) for q, v in zip(QUANTILES, qs)}, hist=hist,
        saturated=None if act.saturated is None else float(np.mean(act.saturated(x))),
        zero_fraction=float(np.mean(zero)), dead_units=float(np.mean(np.all(zero, axis=0))),
    )
