"""compare_models: two models' initializations compared tensor by tensor, no policy: the same
init under another seed passes (50 seed pairs, none flagged at the default 1e-6); a config
value flags exactly the tensors that read it; one tensor scaled 1.05x is the only one
flagged; a torch MLP and its flax port (kernels stored transposed, names mapped) pass, and
fail where the port reads fan_out."""

import json
import math
import os

import jsonschema
import numpy as np
import pytest
from helpers import run_cli

import initcheck as ic
from initcheck.core.schema import SCHEMAS

torch = pytest.importorskip("torch")
nn = torch.nn


def mlp(seed, scale=1.0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(196, 128), nn.LayerNorm(128), nn.Linear(128, 64),
                          nn.Linear(64, 10))
    with torch.no_grad():
        model[2].weight.mul_(scale)
    return model


def test_the_same_init_under_another_seed_is_the_same():
    flagged = [s for s in range(50) if not ic.compare_models(mlp(2 * s), mlp(2 * s + 1)).passed]
    assert flagged == []
    diff = ic.compare_models(mlp(0), mlp(1))
    jsonschema.validate(diff.to_dict(), SCHEMAS[diff.SCHEMA])
    assert len(diff.rows) == 8 and all(r.passed for r in diff.rows)
    assert sum(c.alpha for r in diff.rows for c in r.checks) + sum(
        c.alpha for _, c in diff.groups) == pytest.approx(1e-6)


def test_one_tensor_scaled_is_the_only_one_flagged_with_what_each_side_holds():
    diff = ic.compare_models(mlp(0), mlp(1, scale=1.05))
    assert [r.name for r in diff.differences] == ["2.weight"]
    row = diff.differences[0]
    assert row.ratio_low < 1 / 1.05 < row.ratio_high, row
    assert row.holds_a.startswith("spec('he_uniform'") and "uniform" in row.holds_b
    assert "2.weight: scale" in diff.failure_message()
    with pytest.raises(AssertionError, match="initialized differently"):
        diff.raise_for_failure()


def test_a_config_value_flags_every_tensor_that_reads_it_and_no_other():
    transformers = pytest.importorskip("transformers")

    def gpt2(init_range, seed):
        torch.manual_seed(seed)
        config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=128,
                                         vocab_size=500, initializer_range=init_range)
        return transformers.GPT2LMHeadModel(config)

    assert ic.compare_models(gpt2(0.02, 0), gpt2(0.02, 1)).passed
    diff = ic.compare_models(gpt2(0.02, 0), gpt2(0.025, 1))
    flagged = {r.name for r in diff.differences}
    readers = {r.name for r in diff.rows
               if r.name.endswith(("wte.weight", "wpe.weight", "c_attn.weight", "c_fc.weight",
                                   "c_proj.weight"))}
    assert flagged == readers and len(readers) == 10, sorted(flagged ^ readers)
    for r in diff.differences:
        assert r.ratio_low < 0.8 < r.ratio_high, r


def test_a_torch_mlp_and_its_flax_port():
    pytest.importorskip("flax")
    import jax
    from flax import nnx

    def torch_bias(fan_in):
        bound = 1 / math.sqrt(fan_in)
        return lambda key, shape, dtype=np.float32: jax.random.uniform(
            key, shape, dtype, -bound, bound)

    class Port(nnx.Module):  # torch's Linear default: U(+-1/sqrt(fan_in)), weight and bias
        def __init__(self, mode, rngs):
            sizes = [(196, 128), (128, 64), (64, 10)]
            kernel = nnx.initializers.variance_scaling(1 / 3, mode, "uniform")
            self.layers = nnx.List([nnx.Linear(i, o, kernel_init=kernel,
                                               bias_init=torch_bias(i), rngs=rngs)
                                    for i, o in sizes])

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(196, 128), nn.Linear(128, 64), nn.Linear(64, 10))
    names = {f"{k}.{t}": f"layers.{k}.{f}" for k in range(3)
             for t, f in (("weight", "kernel"), ("bias", "bias"))}
    same = ic.compare_models(model, Port("fan_in", nnx.Rngs(0)), names=names)
    assert same.passed and same.rows[0].shape == (128, 196) and same.rows[0].shape_b == (196, 128)
    wrong = ic.compare_models(model, Port("fan_out", nnx.Rngs(0)), names=names)
    assert [r.name for r in wrong.differences] == ["0.weight", "1.weight", "2.weight"]
    with pytest.raises(ValueError, match="hold different sizes"):
        ic.compare_models(model, Port("fan_in", nnx.Rngs(0)),
                          names={**names, "0.weight": "layers.1.kernel"})


def test_the_diff_command(tmp_path):
    mod = tmp_path / "pair.py"
    mod.write_text("import torch\n"
                   "def a():\n    torch.manual_seed(0)\n    return torch.nn.Linear(256, 128)\n"
                   "def b():\n    torch.manual_seed(1)\n    return torch.nn.Linear(256, 128)\n"
                   "def c():\n    m = b()\n    torch.nn.init.xavier_uniform_(m.weight)\n"
                   "    return m\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    same = run_cli("diff", "pair:a", "pair:b", "--json", "-", env=env)
    assert same.returncode == 0, same.stderr
    jsonschema.validate(json.loads(same.stdout), SCHEMAS["initcheck.model_diff/1"])
    other = run_cli("diff", "pair:a", "pair:c", env=env)
    assert other.returncode == 1 and "DIFF weight" in other.stdout, other.stdout + other.stderr
    bad = tmp_path / "names.json"
    bad.write_text("[1, 2]")
    refused = run_cli("diff", "pair:a", "pair:b", "--names", str(bad), env=env)
    assert refused.returncode == 2 and "JSON object" in refused.stderr
