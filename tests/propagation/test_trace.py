"""trace_model and width_sweep on real torch models: agreement with simulate on the same
weights, the article's conclusion on deep plain and residual nets, muP's coordinate check at
initialization, a transformers model, and the CLI."""

import math
import os

import numpy as np
import pytest
from helpers import run_cli

import initcheck as ic
from initcheck.core.seeding import seed_sequence
from initcheck.frameworks.dispatch import adapter

torch = pytest.importorskip("torch")
nn = torch.nn


def test_a_plain_mlp_agrees_with_simulate_layer_by_layer():
    depth, width, batch, seed = 6, 64, 300, 3
    sim = ic.simulate(
        "xavier_normal", activation="tanh", depth=depth, width=width, batch=batch, seed=seed
    )
    sampler = adapter(ic.initializers.get("xavier_normal"))
    x = np.random.default_rng(seed_sequence(seed, "simulate", "input")).standard_normal(
        (batch, width)
    )
    layers = []
    for layer in range(depth):  # simulate's own weights, in torch's (out, in) layout
        w = sampler.sample(
            (width, width), seed_sequence(seed, "simulate", "weight", layer), np.float64
        )
        lin = nn.Linear(width, width, bias=False, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
        layers += [lin, nn.Tanh()]
    readout = torch.from_numpy(np.random.default_rng(seed_sequence(seed, "simulate", "readout"))
                               .standard_normal((batch, width)))
    t = ic.trace_model(
        nn.Sequential(*layers), torch.from_numpy(x), loss=lambda out: (out * readout).sum()
    )
    linear = [r for r in t.records if r.kind == "Linear"]
    tanh = [r for r in t.records if r.kind == "Tanh"]
    for layer, stats in enumerate(sim.layers):
        assert linear[layer].rms ** 2 == pytest.approx(stats.q, rel=1e-12)
        assert tanh[layer].std == pytest.approx(stats.std, rel=1e-12)
        assert linear[layer].grad_rms ** 2 == pytest.approx(stats.grad_second, rel=1e-12)


def mlp(depth, width, init, act=nn.ReLU, seed=0):
    torch.manual_seed(seed)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False)
        init(lin.weight)
        layers += [lin, act()]
    return nn.Sequential(*layers)


class Block(nn.Module):
    """Pre-norm residual block: x + relu(W norm(x)), W He normal."""

    def __init__(self, width):
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(width), nn.Linear(width, width)
        nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")
        nn.init.zeros_(self.fc.bias)

    def forward(self, x):
        return x + torch.relu(self.fc(self.norm(x)))


class Residual(nn.Module):
    def __init__(self, width, depth):
        super().__init__()
        torch.manual_seed(0)
        self.blocks = nn.ModuleList([Block(width) for _ in range(depth)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        return x


X = torch.randn(512, 256, generator=torch.Generator().manual_seed(0))


def test_the_articles_conclusion_on_deep_nets():
    small = ic.trace_model(mlp(20, 256, lambda w: nn.init.normal_(w, std=0.01), nn.Tanh), X)
    assert not small.forward.passed and not small.backward.passed  # vanishes both ways
    assert small.forward.high < 0.5 and small.backward.high < 0.5 and small.forward.start
    he = ic.trace_model(mlp(20, 256, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")), X)
    assert he.passed and 0.9 < he.forward.rate < 1.1, str(he)
    residual = ic.trace_model(Residual(256, 20), X)
    rms = [r.rms for r in residual.block_records()]
    assert residual.passed and residual.blocks == tuple(f"blocks.{i}" for i in range(20)), str(
        residual
    )
    assert rms[-1] / rms[0] > 3  # it grows, polynomially: the deep-half rate stays tolerable
    assert not ic.trace_model(Residual(256, 20), X, factor=2.0).passed


def test_width_sweep_flags_a_fixed_std_and_not_fan_in_scaling():
    def factory(init):
        return lambda w: mlp(4, w, init, seed=1)

    widths = [64, 128, 256, 512, 1024]
    inputs = lambda w: torch.randn(256, w, generator=torch.Generator().manual_seed(2))  # noqa: E731
    fixed = ic.width_sweep(factory(lambda w: nn.init.normal_(w, std=0.02)), widths, inputs)
    for s in fixed:  # module i is layer i // 2 + 1: RMS ~ width^((layer) / 2)
        layer = int(s.name) // 2 + 1
        assert s.slope == pytest.approx(layer / 2, abs=0.1) and s.flagged, s
    scaled = ic.width_sweep(
        factory(lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu")), widths, inputs
    )
    assert all(abs(s.slope) < 0.1 and not s.flagged for s in scaled), scaled


def test_a_transformers_model_is_traced_through_its_blocks():
    transformers = pytest.importorskip("transformers")
    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_layer=6, n_embd=128, n_head=4, vocab_size=1000, n_positions=64)
    model = transformers.GPT2LMHeadModel(cfg)
    ids = torch.randint(0, 1000, (4, 32), generator=torch.Generator().manual_seed(0))
    t = ic.trace_model(model, {"input_ids": ids})
    assert t.blocks == tuple(f"transformer.h.{i}" for i in range(6))
    assert t.passed, str(t)
    assert all(math.isfinite(r.grad_rms) for r in t.block_records())


def test_an_exploding_net_is_measured_past_float32s_squares():
    """A 20-layer N(0, 1) ReLU MLP grows x11 per layer (sqrt(256 / 2)): its activations reach
    1e20, whose squares overflow float32. RMS stays finite (reduced scaled where the squares
    overflow), and the drift is found at the first blocks, not where float32 gave out."""
    x = torch.randn(256, 256, generator=torch.Generator().manual_seed(0))
    trace = ic.trace_model(mlp(20, 256, lambda w: nn.init.normal_(w, std=1.0)), x)
    assert all(math.isfinite(r.rms) for r in trace.records)
    assert not trace.passed and trace.forward.start in ("1", "3")
    assert abs(trace.forward.rate - math.sqrt(256 / 2)) < 1.5


def test_a_trend_fails_only_when_its_whole_interval_drifts():
    """The verdict agrees with the interval printed: the point estimate x1.3 per block over 20
    blocks (x190) with an interval reaching x0.5 passes; an interval wholly above x1.26 per
    block (x100 over 20) fails. Deterministic: no alpha is spent."""
    from initcheck.propagation.report import Trend

    wide = Trend(direction="forward", rate=1.3, low=0.5, high=3.0, growth=1.3**20, factor=100,
                 start=None, depth=20)
    assert wide.passed and "over the depth [" in str(wide)
    sure = Trend(direction="forward", rate=1.3, low=1.27, high=1.33, growth=1.3**20,
                 factor=100, start="4", depth=20)
    assert not sure.passed and "the drift starts at 4" in str(sure)


def test_a_zero_initialized_head_says_no_gradient_reaches_the_blocks():
    """A zero-init output layer sends exactly zero gradients upstream: the backward trend says
    no gradient reaches the blocks (no log of zero, no RuntimeWarning), and fails."""
    import warnings

    net = mlp(12, 64, lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
    nn.init.zeros_(net[-2].weight)  # the last Linear
    x = torch.randn(128, 64, generator=torch.Generator().manual_seed(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        trace = ic.trace_model(net, x)
    assert trace.backward is not None and not trace.backward.passed
    assert "no gradient reaches" in str(trace.backward), str(trace.backward)


def test_bad_input():
    with pytest.raises(ValueError, match="torch nn.Module"):
        ic.trace_model(object(), X)
    with pytest.raises(ValueError, match="matches no module"):
        ic.trace_model(mlp(3, 8, nn.init.normal_), torch.randn(2, 8), blocks="layers.*")
    with pytest.raises(ValueError, match="at least three different widths"):
        ic.width_sweep(lambda w: mlp(2, w, nn.init.normal_), [8, 16], lambda w: torch.randn(2, w))


NETS = """
import torch
from torch import nn


def mlp(width=128, depth=12, init="he"):
    torch.manual_seed(0)
    layers = []
    for _ in range(depth):
        lin = nn.Linear(width, width, bias=False)
        if init == "small":
            nn.init.normal_(lin.weight, std=0.01)
        else:
            nn.init.kaiming_normal_(lin.weight, nonlinearity="relu")
        layers += [lin, nn.ReLU()]
    return nn.Sequential(*layers)
"""


def run(tmp_path, *args):
    (tmp_path / "nets.py").write_text(NETS)
    return run_cli("trace", *args, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)})


def test_cli_trace(tmp_path):
    ok = run(tmp_path, "nets:mlp", "--input-shape", "256,128", "--plot", str(tmp_path / "p.png"))
    assert ok.returncode == 0 and "verdict: PASS" in ok.stdout, ok.stdout + ok.stderr
    assert (tmp_path / "p.png").stat().st_size > 0
    bad = run(tmp_path, "nets:mlp", "--kwarg", "init=small", "--input-shape", "256,128")
    assert bad.returncode == 1 and "FAIL" in bad.stdout
    usage = run(tmp_path, "nets:mlp")
    assert (
        usage.returncode == 2
        and "--input-shape" in usage.stderr
        and "Traceback" not in usage.stderr
    )
