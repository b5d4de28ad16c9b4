"""Figures are matplotlib Figures built without pyplot, and save as PNG."""

import pytest
from helpers import run_python

import initcheck as ic

plot = pytest.importorskip("initcheck.propagation.plot")
pytest.importorskip("matplotlib")


def test_histogram_grid(tmp_path):
    traces = [
        ic.simulate(n, "tanh", depth=3, width=20, batch=50) for n in ("small_normal", "he_normal")
    ]
    fig = plot.histogram_grid(traces)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 6
    assert visible[0].get_title() == "1-layer"
    path = plot.save(fig, tmp_path / "fig.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_depth_profile_has_theory_and_band(tmp_path):
    fig = plot.depth_profile(ic.simulate("he_normal", "relu", depth=10, width=32, batch=32))
    assert len(fig.axes) == 2
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert {"measured", "mean-field theory", "95% finite-width band"} <= set(labels)
    plot.save(fig, tmp_path / "profile.png")


def test_no_pyplot_state():
    """In a fresh process (other libraries in this session may load pyplot themselves)."""
    code = ("import sys, initcheck as ic\nfrom initcheck import plot\n"
            "plot.histograms(ic.simulate('xavier_normal', 'tanh', depth=2, width=10, batch=10))\n"
            "print('matplotlib.pyplot' in sys.modules)")
    assert run_python(code).strip() == "False"


def test_empty_input():
    with pytest.raises(ValueError, match="at least one Trace"):
        plot.histogram_grid([])
