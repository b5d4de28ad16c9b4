"""Signal propagation through a real torch model: ``trace_model`` records, through forward
hooks and hooks on each output's gradient, the RMS, std and mean of every module's output and
of the gradient there, in execution order; judges the trend over the model's repeated blocks
(the per-block growth rate of log RMS on the deep half, forward and backward, with a 99%
interval, against a factor over the depth, as the MLP property does); and ``width_sweep``
traces a model built at several widths and reports how each module's activation scale grows
with width (muP's coordinate check at initialization, Yang et al. 2022).

The backward pass differentiates a random linear readout L = sum(R * output), R iid N(0, 1)
seeded (the readout ``simulate`` uses), unless a ``loss`` is given. torch is imported on use.
"""

from __future__ import annotations

import fnmatch
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy import stats as sps

from initcheck.core import _validate
from initcheck.core.contract import raised_at
from initcheck.core.defaults import PROPAGATION_FACTOR
from initcheck.core.seeding import int_seed
from initcheck.propagation.report import WIDTH_SLOPE, ModelTrace, ModuleRecord, Trend, WidthSlope

#: Confidence of the intervals on growth rates and width slopes.
LEVEL = 0.99
#: Fewest repeated blocks a trend is fitted over.
MIN_BLOCKS = 3


def _first_tensor(out: Any) -> Any:
    """The tensor a module's output stands for: itself, the first of a tuple or list, or a
    model output's ``logits``/``last_hidden_state``."""
    if hasattr(out, "detach") and hasattr(out, "shape"):
        return out
    for key in ("logits", "last_hidden_state"):
        if getattr(out, key, None) is not None:
            return getattr(out, key)
    if isinstance(out, (tuple, list)) and out:
        return _first_tensor(out[0])
    if isinstance(out, dict) and out:
        return _first_tensor(next(iter(out.values())))
    return None


def _moments(t: Any) -> tuple[float, float, float]:
    """RMS, std and mean of a tensor by torch's own reductions in the tensor's precision
    (float32 for half types; pairwise summation keeps them accurate to ~1e-7 relative),
    without a copy: a float64 accumulation costs 8x, and tracing should cost little beyond
    the pass it watches."""
    import torch

    x = t.detach()
    acc = torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else None
    mean = float(x.mean(dtype=acc))
    rms = float(torch.linalg.vector_norm(x, dtype=acc)) / math.sqrt(x.numel())
    if not (math.isfinite(rms) and math.isfinite(mean)):  # squares past float32's range
        scale = float(x.abs().max())
        if math.isfinite(scale) and scale > 0:  # finite values: reduce them scaled (a copy)
            y = x.to(torch.float64) / scale
            mean = float(y.mean()) * scale
            rms = float(torch.linalg.vector_norm(y)) / math.sqrt(x.numel()) * scale
    return rms, math.sqrt(max(0.0, rms * rms - mean * mean)), mean


def _repeated_blocks(model: Any, pattern: str | None) -> list[str]:
    """The model's repeated blocks: the children of one container (ModuleList, Sequential)
    sharing the class that repeats most (at least MIN_BLOCKS times); for an alternating
    Sequential (Linear, Tanh, ...) the class of its last child. ``pattern`` (a glob over
    module names) chooses them instead."""
    names = [n for n, _ in model.named_modules() if n]
    if pattern is not None:
        chosen = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not chosen:
            raise ValueError(f"blocks={pattern!r} matches no module; names look like"
                             f" {names[:4]}. Pass a glob such as 'encoder.layer.*'.")
        return chosen
    best: list[str] = []
    for prefix, module in model.named_modules():
        children = list(module.named_children())
        counts = Counter(type(c).__name__ for _, c in children)
        if not counts:
            continue
        top = max(counts.values())
        if top < MIN_BLOCKS:
            continue
        last = type(children[-1][1]).__name__
        kind = last if counts[last] == top else counts.most_common(1)[0][0]
        found = [f"{prefix}.{n}" if prefix else n for n, c in children if type(c).__name__ == kind]
        if len(found) > len(best):
            best = found
    return best


def _trend(direction: str, names: list[str], values: list[float], factor: float) -> Trend | None:
    """OLS of log values on block index over the deep half (polynomial growth, like a
    residual stream's sqrt(depth), flattens there; exponential growth does not)."""
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < MIN_BLOCKS:
        return None
    if not np.all(np.isfinite(v) & (v > 0)):  # exactly 0 or not finite: as bad as it gets
        bad = next(i for i, x in enumerate(v) if not (math.isfinite(x) and x > 0))
        growth = 0.0 if v[bad] == 0 else math.inf
        what = "signal" if direction == "forward" else "gradient"
        reason = (f"no {what} reaches {names[bad]} (exactly 0)" if growth == 0
                  else f"the {what} is not finite at {names[bad]}")
        return Trend(direction=direction, rate=growth, low=growth, high=growth, growth=growth,
                     factor=factor, start=names[bad], depth=n - 1, reason=reason)
    y = np.log(v)
    half = y[n // 2:] if n - n // 2 >= MIN_BLOCKS else y
    x = np.arange(len(half), dtype=np.float64)
    fit = sps.linregress(x, half)
    tq = sps.t.ppf((1 + LEVEL) / 2, max(1, len(half) - 2))
    se = fit.stderr if math.isfinite(fit.stderr) else 0.0
    growth = math.exp(fit.slope * (n - 1))
    drift = np.abs(y - y[0])
    over = np.flatnonzero(drift > math.log(factor) / 2)
    return Trend(direction=direction, rate=math.exp(fit.slope),
                 low=math.exp(fit.slope - tq * se), high=math.exp(fit.slope + tq * se),
                 growth=growth, factor=factor, start=names[int(over[0])] if over.size else None,
                 depth=n - 1)


def _call(model: Any, inputs: Any) -> Any:
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def _describe(inputs: Any) -> str:
    """The inputs as a short text: a tensor's shape and dtype, containers by their parts."""
    if hasattr(inputs, "shape") and hasattr(inputs, "dtype"):
        return f"{type(inputs).__name__} {tuple(inputs.shape)} {inputs.dtype}"
    if isinstance(inputs, (tuple, list)):
        return "(" + ", ".join(_describe(x) for x in inputs) + ")"
    if isinstance(inputs, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in inputs.items()) + "}"
    return type(inputs).__name__


def trace_model(model: Any, inputs: Any, *, loss: Callable[[Any], Any] | None = None,
                seed: int = 0, factor: float = PROPAGATION_FACTOR, blocks: str | None = None,
                backward: bool = True) -> ModelTrace:
    """Trace the signal through a torch model: every module's output RMS and std, forward and
    backward, and the trend over its repeated blocks.

    Args:
        model: a torch ``nn.Module``.
        inputs: what its forward takes: a tensor, a tuple of them, or a dict of keyword
            arguments.
        loss: a function of the output returning a scalar to differentiate (default: a seeded
            random linear readout, as ``simulate`` uses).
        seed: the readout's seed.
        factor: the growth over the depth tolerated either way (100: variance may change
            100-fold over the blocks).
        blocks: a glob over module names choosing the repeated blocks (default: the class that
            repeats most).
        backward: also trace gradients.

    Returns:
        A ``ModelTrace``: the records, the blocks judged, the forward and backward trends,
        ``passed``.

    Raises:
        ValueError: inputs the model cannot take, a loss that is not a scalar, a bad factor or
            seed (named).

    Example:
        >>> import pytest; torch = pytest.importorskip("torch")  # the example needs torch
        >>> import initcheck as ic
        >>> tanh_block = lambda: torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Tanh())
        >>> net = torch.nn.Sequential(*[tanh_block() for _ in range(12)])
        >>> for block in net:  # the reference article's small init
        ...     _ = torch.nn.init.normal_(block[0].weight, std=0.01)
        >>> ic.trace_model(net, torch.randn(32, 64)).passed  # the signal vanishes
        False
    """
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"trace_model takes a torch nn.Module, got a {type(model).__name__}.")
    factor = _validate.real("factor", factor, positive=True)
    if factor <= 1:
        raise ValueError(f"factor={factor}: the tolerated growth over the depth must exceed 1.")
    seed = _validate.integer("seed", seed, minimum=0)
    if loss is not None and not callable(loss):
        raise ValueError(f"loss={loss!r} is not callable: pass a function of the model's output"
                         " that returns a scalar tensor, or None for a random readout.")
    records: list[ModuleRecord] = []
    grads: dict[int, tuple[float, float]] = {}  # record index -> gradient (rms, std)
    handles = []

    def hook(name: str, module: Any) -> Callable[..., None]:
        def forward_hook(_m: Any, _args: Any, out: Any) -> None:
            t = _first_tensor(out)
            if t is None or not t.is_floating_point() or t.numel() == 0:
                return
            rms, std, mean = _moments(t)
            index = len(records)
            records.append(ModuleRecord(index=index, name=name, kind=type(module).__name__,
                                        shape=tuple(t.shape), rms=rms, std=std, mean=mean))
            if backward and t.requires_grad:
                def grad_hook(g: Any, index: int = index) -> None:
                    grads[index] = _moments(g)[:2]
                t.register_hook(grad_hook)
        return forward_hook

    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(hook(name, module)))
    try:
        with torch.set_grad_enabled(backward):
            try:
                out = _first_tensor(_call(model, inputs))
            except (RuntimeError, TypeError) as exc:  # what torch raises for a wrong input
                raise ValueError(f"the {type(model).__name__} raised {type(exc).__name__} at"
                                 f" {raised_at(exc)}: it could not run on inputs"
                                 f" ({_describe(inputs)}): {exc}. Pass the inputs its forward"
                                 " takes (shape, dtype, device).") from exc
            if out is None:
                raise ValueError("the model's output holds no tensor to trace; pass loss=.")
            if backward:
                if loss is None:
                    g = torch.Generator(device=out.device).manual_seed(
                        int_seed(seed, "trace", "readout")
                    )
                    readout = torch.randn(
                        out.shape, generator=g, device=out.device, dtype=out.dtype
                    )
                    value = (out * readout).sum()
                else:
                    value = loss(out)
                if not (hasattr(value, "backward") and getattr(value, "numel", lambda: 0)() == 1):
                    raise ValueError(f"loss returned {type(value).__name__}"
                                     f"{tuple(getattr(value, 'shape', ()))}: it must return a"
                                     " scalar tensor of the model's output.")
                value.backward()
    finally:
        for h in handles:
            h.remove()
    records = [replace(r, grad_rms=grads[r.index][0], grad_std=grads[r.index][1])
               if r.index in grads else r for r in records]
    names = _repeated_blocks(model, blocks)
    first: dict[str, ModuleRecord] = {}
    for r in records:
        first.setdefault(r.name, r)
    chosen = [b for b in names if b in first]
    fwd = _trend("forward", chosen, [first[b].rms for b in chosen], factor)
    # gradients flow from the output back: their trend reads the blocks in that order
    bwd = (_trend("backward", chosen[::-1], [first[b].grad_rms for b in chosen[::-1]], factor)
           if backward else None)
    return ModelTrace(records=tuple(records), blocks=tuple(chosen), forward=fwd, backward=bwd,
                      factor=factor, seed=seed)


def width_sweep(factory: Callable[[int], Any], widths: Sequence[int],
                inputs: Callable[[int], Any], *, seed: int = 0) -> list[WidthSlope]:
    """How each module's output scale grows with width (muP's coordinate check at init).

    Traces ``factory(width)`` on ``inputs(width)`` at each width (forward only) and fits, per
    module, log RMS against log width: with fan_in-scaled init activations stay flat; with a
    fixed std they grow like width^(1/2) per layer.

    Args:
        factory: builds the torch model at a width.
        widths: at least three different widths.
        inputs: builds the inputs at a width.
        seed: the seed of each trace.

    Returns:
        A ``WidthSlope`` per module: the slope, its 99% interval, and ``flagged``.

    Raises:
        ValueError: fewer than three different widths, or a width below 1.

    Example:
        >>> import pytest; torch = pytest.importorskip("torch")  # the example needs torch
        >>> import initcheck as ic
        >>> make = lambda w: torch.nn.Sequential(torch.nn.Linear(w, w), torch.nn.Linear(w, w))
        >>> slopes = ic.width_sweep(make, [64, 128, 256], lambda w: torch.randn(64, w))
        >>> any(s.flagged for s in slopes)  # torch's default init scales with fan_in
        False
    """
    widths = [_validate.integer("width", w, minimum=1) for w in widths]
    if len(set(widths)) < 3:
        raise ValueError(f"widths={widths}: give at least three different widths for a slope.")
    rms: dict[str, list[float]] = {}
    for w in widths:
        t = trace_model(factory(w), inputs(w), seed=seed, backward=False)
        seen = set()
        for r in t.records:
            if r.name not in seen:
                seen.add(r.name)
                rms.setdefault(r.name, []).append(r.rms)
    x = np.log(np.asarray(widths, dtype=np.float64))
    out = []
    tq = sps.t.ppf((1 + LEVEL) / 2, len(widths) - 2)
    for name, values in rms.items():
        if len(values) != len(widths) or min(values) <= 0:
            continue
        fit = sps.linregress(x, np.log(values))
        se = fit.stderr if math.isfinite(fit.stderr) else 0.0
        out.append(WidthSlope(name=name, slope=float(fit.slope), low=float(fit.slope - tq * se),
                              high=float(fit.slope + tq * se)))
    return out


__all__ = ["LEVEL", "WIDTH_SLOPE", "ModelTrace", "ModuleRecord", "Trend", "WidthSlope",
           "trace_model", "width_sweep"]
