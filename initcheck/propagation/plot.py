"""Figures as matplotlib ``Figure`` objects (never pyplot: no global state, safe in tests and
servers). Needs the ``plot`` extra: ``pip install 'initcheck[plot]'``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from initcheck.core import compat
from initcheck.propagation.report import Trace


def _figure(**kwargs: Any) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("plots need matplotlib: pip install 'initcheck[plot]'") from exc
    return Figure(**kwargs)


def histograms(trace: Trace, *, ylim: float | None = None) -> Any:
    """The reference article's figure: one histogram per layer of the post-activation values,
    shared bins and axes, titled '1-layer', '2-layer', ..."""
    return histogram_grid([trace], ylim=ylim)


def histogram_grid(traces: Sequence[Trace], *, ylim: float | None = None,
                   labels: Sequence[str] | None = None) -> Any:
    """One row of per-layer histograms per trace (the reference article's tanh experiment for
    small, large, Xavier and He side by side); every panel shares the bins, each row its y axis
    (``ylim`` fixes it for all, as the reference article's 7000)."""
    if not traces:
        raise ValueError("histogram_grid needs at least one Trace.")
    cols = max(len(t.layers) for t in traces)
    fig = _figure(figsize=(2.0 * cols + 1.0, 2.0 * len(traces) + 0.6), layout="constrained")
    axes = np.atleast_2d(fig.subplots(len(traces), cols, sharex=True, sharey="row", squeeze=False))
    for r, trace in enumerate(traces):
        top = ylim or max(float(s.hist.max()) for s in trace.layers) * 1.05
        edges = trace.bin_edges
        label = labels[r] if labels else f"{_short(trace.init)}, {trace.activation}"
        for c in range(cols):
            ax = axes[r, c]
            if c >= len(trace.layers):
                ax.set_visible(False)
                continue
            s = trace.layers[c]
            ax.stairs(s.hist, edges, fill=True, color="tab:blue", alpha=0.8)
            ax.set_ylim(0, top)
            if r == 0:
                ax.set_title(f"{s.layer}-layer")
            ax.text(0.03, 0.95, f"std {s.std:.3g}", transform=ax.transAxes, va="top", fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=9)
    return fig


def depth_profile(trace: Trace) -> Any:
    """Post-activation std and gradient std versus depth, measured (dots) against the
    mean-field prediction (line), on a log scale."""
    fig = _figure(figsize=(9, 3.6), layout="constrained")
    ax_f, ax_b = fig.subplots(1, 2)
    layers = np.arange(1, len(trace.layers) + 1)
    p = trace.prediction
    k = layers.size
    _panel(ax_f, layers, trace.column("std"), None if p is None else p.post_std[:k],
           None if p is None else p.log_var_q[:k], "post-activation std")
    _panel(ax_b, layers, trace.column("grad_std"), None if p is None else np.sqrt(p.grad[:k]),
           None if p is None else p.log_var_grad[:k], "gradient std (dL/dh)")
    fig.suptitle(
        f"{_short(trace.init)}, {trace.activation}: width {trace.widths[1]}, batch {trace.batch}"
    )
    return fig


def trace_profile(trace: Any, *, title: str = "") -> Any:
    """A traced model (``initcheck.propagation.model_trace``): forward activation RMS and backward
    gradient
    RMS at every module call, in execution order (faint), and at each repeated block
    (bold), on a log scale: the reference article's depth profile for a real model."""
    fig = _figure(figsize=(9, 3.6), layout="constrained")
    ax_f, ax_b = fig.subplots(1, 2)
    index = np.array([r.index for r in trace.records])
    blocks = trace.block_records()
    for ax, key, label in ((ax_f, "rms", "activation RMS"), (ax_b, "grad_rms", "gradient RMS")):
        ax.plot(index, [getattr(r, key) for r in trace.records], ".", color="0.7", ms=3,
                label="every module")
        ax.plot([r.index for r in blocks], [getattr(r, key) for r in blocks], "o-", lw=1.5,
                ms=3, label="repeated blocks")
        ax.set_yscale("log")
        ax.set_xlabel("module call (execution order)")
        ax.set_ylabel(label)
        trend = trace.forward if key == "rms" else trace.backward
        if trend is not None:
            ax.set_title(f"x{trend.rate:.3g}/block, x{trend.growth:.3g} over the depth", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(title or f"{len(trace.blocks)} repeated blocks")
    return fig


def _panel(ax: Any, layers: np.ndarray, measured: np.ndarray, predicted: np.ndarray | None,
           log_var: np.ndarray | None, title: str) -> None:
    """Measured dots over the theory line, with the 95% finite-width band of one input
    (a variance's log has variance V; a std's log a quarter of it)."""
    if predicted is not None and np.any(predicted > 0):
        line = np.where(predicted > 0, predicted, np.nan)
        ax.semilogy(layers, line, "-", color="tab:orange", label="mean-field theory")
        if log_var is not None:
            sd = np.sqrt(log_var) / 2
            ax.fill_between(layers, line * np.exp(-log_var / 4 - 1.96 * sd),
                            line * np.exp(1.96 * sd), color="tab:orange", alpha=0.2,
                            label="95% finite-width band")
    ok = np.isfinite(measured) & (measured > 0)
    if np.any(ok):
        ax.semilogy(layers[ok], measured[ok], "o", ms=3, color="tab:blue", label="measured")
    ax.set_xlabel("layer")
    ax.set_title(title)
    ax.legend(fontsize=8)


def save(fig: Any, path: str | Path, *, dpi: int = 110) -> Path:
    """Write ``fig`` as PNG (or the format of the suffix) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def _short(name: str) -> str:
    """'Initializer(spec('he_normal', ...), ...)' -> 'he_normal'."""
    if name.startswith("Initializer(spec('"):
        return name.split("'")[1]
    return name if len(name) <= 40 else name[:37] + "..."


article_figure = compat.renamed(histogram_grid, "initcheck.plot.article_figure")

__all__ = ["depth_profile", "histogram_grid", "histograms", "save", "trace_profile"]
