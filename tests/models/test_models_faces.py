"""check_model's faces: ``initcheck model FACTORY --policy ...`` (exit codes, JSON against
its schema, one-line errors) and the ``initcheck_model`` pytest fixture (a model test in
three lines, inside the session's alpha budget)."""

import json
import os
from pathlib import Path

import jsonschema
import numpy  # noqa: F401 - loaded before pytester's in-process runs snapshot sys.modules
import pytest
from helpers import run_cli

from initcheck.core.schema import MODEL_REPORT

pytest.importorskip("torch")
GPT2_POLICY = Path(__file__).parent / "policies" / "gpt2.toml"

FACTORIES = """
import torch
import transformers

transformers.logging.set_verbosity_error()


def gpt2(scale_c_fc=1.0):
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_layer=4, n_embd=256, n_head=4, vocab_size=5000, n_positions=128)
    model = transformers.GPT2LMHeadModel(cfg)
    with torch.no_grad():
        model.transformer.h[1].mlp.c_fc.weight.mul_(float(scale_c_fc))
    return model


def mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 8))
"""


def run(tmp_path, *args):
    (tmp_path / "factories.py").write_text(FACTORIES)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return run_cli("model", *args, env=env, cwd=tmp_path)


def test_cli_model_passes_fails_and_writes_json(tmp_path):
    pytest.importorskip("transformers")
    ok = run(
        tmp_path, "factories:gpt2", "--policy", str(GPT2_POLICY), "--json", "-", "--no-timings"
    )
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    jsonschema.validate(doc, MODEL_REPORT)
    assert doc["passed"] and doc["policy"] == "gpt2 (n_layer 4)"
    bad = run(tmp_path, "factories:gpt2", "--policy", str(GPT2_POLICY), "--kwarg", "scale_c_fc=1.1")
    assert bad.returncode == 1, bad.stderr
    first = next(line for line in bad.stdout.splitlines() if line.startswith("  FAIL"))
    assert first.startswith("  FAIL transformer.h.1.mlp.c_fc.weight: ")
    assert max(len(line) for line in bad.stdout.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["factories:mlp", "--policy", "pytorch"],
            "policy='pytorch' is not supported. Did you mean 'torch'",
        ),
        (["factories:nope", "--policy", "torch"], "has no attribute 'nope'"),
        (
            ["factories:mlp", "--policy", "missing.toml"],
            "policy file 'missing.toml' does not exist",
        ),
        (["factories:mlp", "--kwarg", "x=1", "--policy", "torch"],
         "factories:mlp cannot be called with --kwarg"),
    ],
)
def test_cli_model_bad_input_is_exit_2_with_one_line(tmp_path, args, message):
    r = run(tmp_path, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr


def test_cli_model_torch_policy_passes(tmp_path):
    r = run(tmp_path, "factories:mlp", "--policy", "torch", "--strict")
    assert r.returncode == 0, r.stdout + r.stderr


MODEL_TESTS = """
import torch


def test_fresh_model(initcheck_model):
    model = torch.nn.Sequential(torch.nn.Linear(256, 128), torch.nn.LayerNorm(128))
    initcheck_model(model, "torch")


def test_reinitialized_model(initcheck_model):
    model = torch.nn.Linear(256, 128)
    torch.nn.init.xavier_normal_(model.weight)
    initcheck_model(model, "torch")
"""


def test_pytest_fixture_makes_a_model_test_three_lines(pytester):
    pytester.makepyfile(MODEL_TESTS)
    result = pytester.runpytest("--initcheck-summary")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*Linear does not match policy 'torch'*", "*weight: *",
                                 "*initcheck: 2 verify calls*"])
