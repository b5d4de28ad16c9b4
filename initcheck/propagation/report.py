"""The propagation wing's result types: ``Trace`` (what ``simulate`` measured, layer by layer,
beside the mean-field prediction) and ``ModelTrace`` (what ``trace_model`` recorded through a
real model, with its forward and backward trends), their parts, and ``WidthSlope`` (one
module's scaling with width). Frozen and built by keyword, as every result
(``initcheck.core.results``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

from initcheck.core.results import Result, Verdict, _jsonable
from initcheck.core.text import table, wrap
from initcheck.theory import meanfield as theory

#: Module names longer than this go on a line of their own in a trace's table.
NAME_COLUMN = 40

#: |slope of log RMS vs log width| above this flags a module in a width sweep (0: flat).
WIDTH_SLOPE = 0.25


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
    """What ``simulate`` measured, layer by layer, beside the mean-field prediction.

    Attributes:
        init: the initializer's name.
        activation: the activation, as text.
        depth: the number of layers.
        widths: the layer widths, input first.
        batch: the inputs pushed through.
        seed: the seed of weights, inputs, biases and readout.
        bias: the bias std.
        bin_edges: the histograms' bin edges (shared by every layer).
        layers: a ``LayerStats`` per layer reached.
        prediction: the mean-field prediction (a ``MeanField``), or None without a claim.
        notes: where the pass stopped, or why there is no prediction.

    Example:
        >>> import initcheck as ic
        >>> trace = ic.simulate("xavier_normal", "tanh", depth=3, width=64, batch=256)
        >>> trace.complete and 0.3 < trace.layers[-1].std < 0.7
        True
    """

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
        cols = ["layer", "std", "pred", "q", "pred q", "sat.", "zeros"]
        if any(s.grad_second is not None for s in self.layers):
            cols += ["grad std", "pred grad"]
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
        lines.append(wrap("  pred: the mean-field theory's value; sat.: the fraction of"
                          " activations saturated; zeros: the fraction exactly 0", indent=4))
        lines += [wrap(f"  note: {n}", indent=4) for n in self.notes]
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


@dataclass(frozen=True, kw_only=True)
class ModuleRecord:
    """One module call: its execution index, name, class, output shape, and the RMS, std and
    mean of its output and of the gradient of the loss there (nan without a backward pass)."""

    index: int
    name: str
    kind: str
    shape: tuple[int, ...]
    rms: float
    std: float
    mean: float
    grad_rms: float = math.nan
    grad_std: float = math.nan


@dataclass(frozen=True, kw_only=True)
class Trend:
    """The per-block growth of log RMS over the deep half of the blocks: ``rate`` per block
    (a factor), its 99% interval [``low``, ``high``], the growth over the whole ``depth``
    (blocks - 1) it implies, and the block where the drift first exceeds the square root of
    the tolerated factor (or, with ``reason``, where the signal is exactly 0 or not finite).

    It fails when the whole interval drifts beyond ``factor`` over the depth: the rate in the
    interval nearest to 1 decides, so the verdict agrees with the interval it prints (a wide
    interval from a few noisy blocks does not fail on its point estimate alone)."""

    direction: str
    rate: float
    low: float
    high: float
    growth: float
    factor: float
    start: str | None
    depth: int = 1
    reason: str = ""

    @property
    def interval_growth(self) -> tuple[float, float]:
        """The growth over the depth at the interval's two ends."""
        return _power(self.low, self.depth), _power(self.high, self.depth)

    @property
    def passed(self) -> bool:
        low, high = self.interval_growth
        nearest = min(max(1.0, low), high)
        return 1 / self.factor <= nearest <= self.factor

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({**asdict(self), "passed": self.passed})

    def __str__(self) -> str:
        verdict = "pass" if self.passed else "FAIL"
        if self.reason:
            return f"{self.direction}: {self.reason} {verdict}"
        low, high = self.interval_growth
        where = f"; the drift starts at {self.start}" if self.start and not self.passed else ""
        return (f"{self.direction}: x{self.rate:.4g}/block [{self.low:.4g}, {self.high:.4g}],"
                f" x{self.growth:.3g} over the depth [{low:.3g}, {high:.3g}] (tolerated"
                f" 1/{self.factor:g}..{self.factor:g}) {verdict}{where}")


def _power(rate: float, depth: int) -> float:
    """rate ** depth without overflow warnings (inf past float range, 0 below it)."""
    if rate <= 0:
        return 0.0
    log = depth * math.log(rate)
    return math.inf if log > 709 else math.exp(log)


@dataclass(frozen=True, kw_only=True)
class ModelTrace(Verdict):
    """What ``trace_model`` recorded: every module call, the repeated blocks it judged, and the
    forward and backward trends. ``passed`` unless a trend drifts beyond ``factor``.

    Attributes:
        records: a ``ModuleRecord`` per module call, in execution order.
        blocks: the repeated blocks the trends are fitted over.
        forward: the forward trend (a ``Trend``), or None with too few blocks.
        backward: the backward trend, or None without a backward pass.
        factor: the growth over the depth tolerated either way.
        seed: the readout's seed.

    Example:
        >>> import pytest; torch = pytest.importorskip("torch")  # the example needs torch
        >>> import initcheck as ic
        >>> net = torch.nn.Sequential(*[torch.nn.Linear(32, 32) for _ in range(6)])
        >>> ic.trace_model(net, torch.randn(16, 32)).to_dict()["schema"]
        'initcheck.model_trace/1'
    """

    SCHEMA: ClassVar[str] = "initcheck.model_trace/1"

    records: tuple[ModuleRecord, ...]
    blocks: tuple[str, ...]
    forward: Trend | None
    backward: Trend | None
    factor: float
    seed: int

    @property
    def passed(self) -> bool:
        return all(t is None or t.passed for t in (self.forward, self.backward))

    def block_records(self) -> list[ModuleRecord]:
        """The first call of each block, in block order."""
        first: dict[str, ModuleRecord] = {}
        for r in self.records:
            first.setdefault(r.name, r)
        return [first[b] for b in self.blocks if b in first]

    def __str__(self) -> str:
        lines = [wrap(f"trace: {len(self.records)} module calls, {len(self.blocks)} repeated blocks"
                      f" ({', '.join(self.blocks[:2])}{', ...' if len(self.blocks) > 2 else ''})")]
        lines += [wrap(f"  {t}", indent=4) for t in (self.forward, self.backward) if t is not None]
        rows = [("module", "#", "kind", "rms", "std", "grad rms")]
        for r in self.block_records() or self.records:
            rows.append((r.name, str(r.index), r.kind, f"{r.rms:.4g}", f"{r.std:.4g}",
                         f"{r.grad_rms:.4g}"))
        lines += table(rows, first_max=NAME_COLUMN)
        lines.append(f"verdict: {'PASS' if self.passed else 'FAIL'}")
        return "\n".join(lines)

    def failure_message(self) -> str:
        if self.passed:
            return ""
        return "\n".join(["signal propagation through the model's blocks drifts:"]
                         + [wrap(f"  {t}", indent=4) for t in (self.forward, self.backward)
                            if t is not None and not t.passed])

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({
            "schema": self.SCHEMA, "passed": self.passed, "factor": self.factor,
            "seed": self.seed, "blocks": list(self.blocks),
            "forward": None if self.forward is None else self.forward.to_dict(),
            "backward": None if self.backward is None else self.backward.to_dict(),
            "records": [{**asdict(r), "shape": list(r.shape)} for r in self.records],
        })


@dataclass(frozen=True, kw_only=True)
class WidthSlope:
    """How one module's output RMS scales with width: the slope of log RMS on log width, its
    99% interval, and whether it is flagged (|slope| > WIDTH_SLOPE and the interval excludes 0)."""

    name: str
    slope: float
    low: float
    high: float

    @property
    def flagged(self) -> bool:
        return abs(self.slope) > WIDTH_SLOPE and not self.low <= 0 <= self.high

    def to_dict(self) -> dict[str, Any]:
        return _jsonable({**asdict(self), "flagged": self.flagged})


__all__ = ["WIDTH_SLOPE", "LayerStats", "ModelTrace", "ModuleRecord", "Trace", "Trend",
           "WidthSlope"]
