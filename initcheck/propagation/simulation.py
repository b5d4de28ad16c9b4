"""The article's experiment, general and exact: push a batch through a deep MLP, forward and
backward, and keep per-layer statistics as they stream past, beside the mean-field
prediction for every layer.

Forward-only runs keep one layer's activations at a time (memory O(batch x width), not
O(depth x batch x width) like the article's dict of every layer). Backward runs keep phi'(h)
per layer, which the gradient needs.

Gradient: of the random linear readout L = sum(R * x_L), R iid N(0, 1) of shape
(batch, width_L), so dL/dx_L has unit variance; reported per layer is dL/dh_l.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np

from initcheck import stats
from initcheck.claims import initializers
from initcheck.claims.initializers import Initializer
from initcheck.claims.specs import Spec
from initcheck.claims.specs import spec as make_spec
from initcheck.core import _validate, memory
from initcheck.core.contract import Adapter, InitializerLike
from initcheck.core.fans import Layer, Layout
from initcheck.core.results import Result, _jsonable, wrap
from initcheck.core.seeding import seed_sequence
from initcheck.frameworks.dispatch import adapter
from initcheck.theory import meanfield as theory
from initcheck.theory.activations import Activation
from initcheck.theory.activations import get as get_activation

#: Frameworks that run on jax, which draws float64 only with jax_enable_x64.
JAX_BASED: tuple[str, ...] = ("jax", "keras", "haiku")
QUANTILES: tuple[float, ...] = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
#: Quantiles and histograms use at most this many values of a layer (evenly strided over the
#: flattened batch x width array); exact below it, which covers the article's 1000 x 100.
STATS_SAMPLE = 2**17


@dataclass(frozen=True, kw_only=True)
class LayerStats:
    """What one layer looked like. ``q`` is the measured pre-activation mean square; the
    rest describe the post-activation phi(h) except ``grad_*`` (dL/dh)."""

    layer: int
    width: int
    q: float
    mean: float
    std: float
    quantiles: dict[float, float]
    hist: np.ndarray
    saturated: float | None
    zero_fraction: float
    dead_units: float
    grad_second: float | None = None
    grad_std: float | None = None


@dataclass(frozen=True, kw_only=True)
class Trace(Result):
    """Per-layer statistics of one simulated net, with the matching mean-field prediction."""

    SCHEMA: ClassVar[str] = "initcheck.trace/1"

    init: str
    activation: str
    depth: int
    widths: tuple[int, ...]
    batch: int
    seed: int
    bias: float
    bin_edges: np.ndarray = field(compare=False)
    layers: tuple[LayerStats, ...] = ()
    prediction: theory.MeanField | None = None
    notes: tuple[str, ...] = ()

    def column(self, name: str) -> np.ndarray:
        """One statistic across layers as an array (nan where absent)."""
        return np.array(
            [np.nan if getattr(s, name) is None else getattr(s, name) for s in self.layers]
        )

    @property
    def complete(self) -> bool:
        """False if the forward pass stopped early (NaN or Inf appeared)."""
        return len(self.layers) == self.depth

    def table(self) -> str:
        """Measured vs predicted per layer, as text."""
        p = self.prediction
        head = (f"{self.init} / {self.activation}: depth {self.depth}, widths"
                f" {_widths_text(self.widths)}, batch {self.batch}, seed {self.seed}")
        cols = ["layer", "std", "pred std", "q", "pred q", "saturated", "zeros"]
        if any(s.grad_second is not None for s in self.layers):
            cols += ["grad std", "pred grad std"]
        rows = [cols]
        for i, s in enumerate(self.layers):
            row = [str(s.layer), f"{s.std:.4g}", _fmt(p.post_std[i] if p else None), f"{s.q:.4g}",
                   _fmt(p.q[i] if p else None),
                   "-" if s.saturated is None else f"{s.saturated:.3f}", f"{s.zero_fraction:.3f}"]
            if len(cols) > 7:
                row += [_fmt(s.grad_std), _fmt(math.sqrt(p.grad[i]) if p else None)]
            rows.append(row)
        widths = [max(len(r[k]) for r in rows) for k in range(len(cols))]
        lines = [wrap(head)] + [
            "  " + "  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in rows
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        p = self.prediction
        return _jsonable({
            "schema": self.SCHEMA, "init": self.init, "activation": self.activation,
            "depth": self.depth, "widths": list(self.widths), "batch": self.batch,
            "seed": self.seed, "bias": self.bias,
            "bin_edges": self.bin_edges.tolist(), "notes": list(self.notes),
            "layers": [
                {"layer": s.layer, "width": s.width, "q": s.q, "mean": s.mean, "std": s.std,
                 "quantiles": {str(k): v for k, v in s.quantiles.items()},
                 "hist": s.hist.tolist(), "saturated": s.saturated,
                 "zero_fraction": s.zero_fraction, "dead_units": s.dead_units,
                 "grad_second": s.grad_second, "grad_std": s.grad_std,
                 "predicted": None if p is None else {
                     "q": float(p.q[i]), "std": float(p.post_std[i]), "mean": float(p.post_mean[i]),
                     "grad_second": float(p.grad[i])}}
                for i, s in enumerate(self.layers)],
        })


def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4g}"


def _widths_text(widths: Sequence[int]) -> str:
    return str(widths[1]) if len(set(widths)) == 1 else "x".join(map(str, widths))


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


def simulate(
    init: InitializerLike | Adapter,
    activation: str | Activation = "tanh",
    depth: int = 5,
    width: int | Sequence[int] = 100,
    batch: int = 1000,
    seed: int = 0,
    *,
    bias: float = 0.0,
    backward: bool = True,
    input_width: int | None = None,
    dtype: Any = np.float64,
    bins: int = 30,
    hist_range: tuple[float, float] | None = None,
    expect: str | Spec | None = None,
    framework: str = "auto",
) -> Trace:
    """Run the article's experiment: inputs N(0, 1) of shape (batch, input_width), ``depth``
    dense layers ``h = x @ W + b``, ``x = phi(h)``, weights from ``init`` (a name, an
    Initializer, or a callable with ``expect``), biases N(0, bias^2).

    The defaults are the article's: 5 tanh layers of 100 units on 1000 samples.
    ``width`` is one int or one per layer. Returns a ``Trace``; a NaN or Inf stops the pass
    at the layer where it appears, with a note, instead of raising."""
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
    widths = [n_in, *hidden]
    memory.require(memory.simulate_bytes(widths, batch, backward),
                   f"simulating {depth} layers of width {max(hidden)} on a batch of {batch}",
                   "Lower the width or the batch (the statistics converge long before),"
                   " or pass backward=False.")
    sampler, claim = _resolve_init(init, expect, framework)
    shapes = [Layer(widths[l], widths[l + 1]).weight_shape(sampler.layout) for l in range(depth)]

    prediction, weight_mean_note = None, None
    if claim is not None:
        laws = [claim.law(shape, sampler.layout) for shape in shapes]
        if any(abs(law.mean) > 0 for law in laws):
            weight_mean_note = ("no mean-field prediction: the claimed weights have a non-zero"
                                " mean, and the theory needs zero-mean weights")
        else:
            prediction = theory.predict(act, depth, sigma_b2=bias * bias, q0=1.0, widths=widths,
                                        weight_var=[law.std**2 for law in laws])

    edges = _bin_edges(act, prediction, hist_range, bins)
    layers: list[LayerStats] = []
    notes = [weight_mean_note] if weight_mean_note else []

    rng_input = np.random.default_rng(seed_sequence(seed, "simulate", "input"))
    x = rng_input.standard_normal((batch, n_in)).astype(dt)
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
            if bias > 0:
                b = np.random.default_rng(
                    seed_sequence(seed, "simulate", "bias", l)
                ).standard_normal(widths[l + 1])
                h += (bias * b).astype(dt)
            if not np.all(np.isfinite(h)):
                notes.append(
                    f"non-finite pre-activations at layer {l + 1}: the pass stopped there"
                )
                break
            x = act.phi(h).astype(dt, copy=False)
            layers.append(_layer_stats(l + 1, h, x, act, edges))
            if backward:
                weights.append(w)
                derivs.append(act.dphi(h).astype(dt, copy=False))
            del h
        if backward and len(layers) == depth:
            rng_readout = np.random.default_rng(seed_sequence(seed, "simulate", "readout"))
            g = rng_readout.standard_normal((batch, widths[-1])).astype(dt)
            for l in range(depth - 1, -1, -1):
                delta = derivs.pop() * g
                second, mean = _moments(delta)
                layers[l] = replace(layers[l], grad_second=second,
                                    grad_std=math.sqrt(max(second - mean * mean, 0.0)))
                g = delta @ weights.pop().T
                if not np.isfinite(second):
                    notes.append(f"non-finite gradients at layer {l + 1}")
                    break
    return Trace(init=sampler.name, activation=str(act), depth=depth, widths=tuple(widths),
                 batch=batch, seed=seed, bias=bias, bin_edges=edges, layers=tuple(layers),
                 prediction=prediction, notes=tuple(notes))


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
