"""describe_model writes the smallest policy a model passes (a lockfile for its init): few
rules on a torch CNN, BERT and GPT-2 built from small configs; the policy passes a fresh
build with another seed and fails each broken twin (one tensor x1.05, fan_in where fan_out
was used, init skipped so torch's defaults stay, a padding row not zeroed); it round-trips
through TOML and Python; a group whose tensors disagree is split, never averaged."""

import json

import jsonschema
import pytest
from helpers import run_cli

import initcheck as ic
from initcheck.core.schema import SCHEMAS

torch = pytest.importorskip("torch")
nn = torch.nn


def cnn(seed, *, mode="fan_out", skip_init=False, scale=1.0):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Conv2d(3, 32, 3), nn.BatchNorm2d(32), nn.ReLU(),
                          nn.Conv2d(32, 64, 3), nn.BatchNorm2d(64), nn.Flatten(),
                          nn.Linear(64, 10))
    if not skip_init:
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode=mode, nonlinearity="relu")
    with torch.no_grad():
        model[3].weight.mul_(scale)
    return model


def test_a_cnn_is_described_in_few_rules_that_hold_for_a_fresh_build_and_catch_twins(tmp_path):
    described = ic.describe_model(cnn(0))
    assert described.passed and len(described.rules) == 8, described
    jsonschema.validate(described.to_dict(), SCHEMAS[described.SCHEMA])
    conv = described.rules[0]
    assert conv.rule.claim == ic.spec("he_normal", mode="fan_out") and conv.rule.module == (
        "Conv2d",) and "He normal, fan_out, relu" in conv.words
    assert any("torch's default" in r.words for r in described.rules)
    policy = described.policy
    assert ic.check_model(cnn(1), policy).passed
    twins = {"x1.05": cnn(1, scale=1.05), "fan_in": cnn(1, mode="fan_in"),
             "defaults": cnn(1, skip_init=True)}
    for name, twin in twins.items():
        failed = [r.name for r in ic.check_model(twin, policy).failures]
        assert failed and set(failed) <= {"0.weight", "3.weight"}, (name, failed)
    path = tmp_path / "cnn.toml"
    path.write_text(described.to_toml())
    assert ic.check_model(cnn(2), path).passed
    assert not ic.check_model(twins["fan_in"], path).passed
    namespace: dict = {}
    exec(described.to_python(), namespace)  # the Python form is the same policy
    assert ic.check_model(cnn(3), namespace["POLICY"]).passed


def test_transformers_models_in_few_rules_and_a_split_group():
    transformers = pytest.importorskip("transformers")
    small = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4,
                 intermediate_size=128, vocab_size=500, pad_token_id=0)

    def bert(seed):
        torch.manual_seed(seed)
        return transformers.BertModel(transformers.BertConfig(**small))

    described = ic.describe_model(bert(0))
    assert described.passed and len(described.rules) == 4, described
    assert "padding row zero" in described.rules[0].words
    assert ic.check_model(bert(1), described.policy).passed
    twin = bert(1)
    with torch.no_grad():
        twin.embeddings.word_embeddings.weight[0] = 0.01  # the padding row not zeroed
    assert [r.name for r in ic.check_model(twin, described.policy).failures] == [
        "embeddings.word_embeddings.weight"]

    torch.manual_seed(0)
    gpt2 = transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_layer=2, n_embd=64, n_head=4, n_positions=128, vocab_size=500, bos_token_id=0,
        eos_token_id=0))
    described = ic.describe_model(gpt2)
    matches = {(r.rule.match, repr(r.rule.claim)) for r in described.rules}
    # Conv1D's weights disagree (c_proj is scaled by 1/sqrt(2 n_layer)): split, not averaged
    assert ("*.c_proj.weight", "spec('small_normal')") in matches, described
    assert described.passed and len(described.rules) == 4


def test_describe_command(tmp_path):
    mod = tmp_path / "nets.py"
    mod.write_text("import torch\n"
                   "def mlp():\n    torch.manual_seed(0)\n"
                   "    return torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(),"
                   " torch.nn.Linear(32, 8))\n")
    import os

    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    toml = tmp_path / "lock.toml"
    done = run_cli("describe", "nets:mlp", "--toml", str(toml), "--json", "-", env=env)
    assert done.returncode == 0, done.stderr
    jsonschema.validate(json.loads(done.stdout), SCHEMAS["initcheck.model_description/1"])
    checked = run_cli("model", "nets:mlp", "--policy", str(toml), env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    missing = run_cli("describe", "nets:mlp", "--toml", str(tmp_path / "no" / "lock.toml"),
                      env=env)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_fitted_laws_are_locked_for_the_next_draw_across_frameworks():
    """A fitted bound is the sample's largest value, which a fresh draw exceeds as often as
    not: described policies widen it by 8/n (an LSTM's U(+-1/sqrt(hidden)) at fan_in 32, a
    law no named rule gives), so the next builds pass; a single unit (a depthwise kernel
    with one output) is not called orthogonal. torch, flax nnx and keras models."""
    from small_models import BUILDERS

    for name, build in BUILDERS.items():
        pytest.importorskip({"torch": "torch", "flax": "flax", "keras": "keras"}[name])
        described = ic.describe_model(build(0))
        assert described.passed, (name, described)
        assert not any(r.rule.claim.family == "orthogonal" and "Depthwise" in str(r.rule.module)
                       for r in described.rules if hasattr(r.rule.claim, "family"))
        for seed in (1, 2, 3):
            report = ic.check_model(build(seed), described.policy)
            assert report.passed, (name, seed, report.failure_message())
