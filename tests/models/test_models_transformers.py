"""Real models built from configs (no downloads): transformers BERT and GPT-2 against the
policies written from their ``_init_weights`` (tests/models/policies/*.toml), and their broken
twins, each failing naming the tensor. GPT-2 small (124M) shows the power of the pooled
rule groups: a 1% scale error in one block is caught."""

import math
from pathlib import Path

import pytest

import initcheck as ic
from initcheck.models import rule

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
transformers.logging.set_verbosity_error()

POLICIES = Path(__file__).parent / "policies"


def bert(seed=0, **options):
    torch.manual_seed(seed)
    cfg = transformers.BertConfig(hidden_size=128, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=512, vocab_size=3000,
                                  max_position_embeddings=128, **options)
    return transformers.BertForMaskedLM(cfg)


def gpt2(seed=0, **sizes):
    torch.manual_seed(seed)
    cfg = transformers.GPT2Config(**{"n_layer": 4, "n_embd": 256, "n_head": 4,
                                     "vocab_size": 5000, "n_positions": 128, **sizes})
    return transformers.GPT2LMHeadModel(cfg)


def test_bert_passes_the_policy_of_its_init_weights():
    r = ic.check_model(bert(), POLICIES / "bert.toml", strict=True)
    assert r.passed, r.failure_message()
    tied = r.row("cls.predictions.decoder.weight")
    assert "bert.embeddings.word_embeddings.weight" in tied.names
    assert r.row("bert.embeddings.position_ids").verdict == "skip"


LAYER0 = "bert.encoder.layer.0"


@pytest.mark.parametrize("breaks, tensor, check", [
    (lambda m: m.bert.encoder.layer[0].intermediate.dense.weight.mul_(1.05),
     f"{LAYER0}.intermediate.dense.weight", "std"),
    (lambda m: m.bert.embeddings.word_embeddings.weight[0].normal_(0, 0.02),
     "bert.embeddings.word_embeddings.weight", "support"),
    (lambda m: m.bert.encoder.layer[1].output.dense.weight.copy_(
        m.bert.encoder.layer[0].output.dense.weight),
     "bert.encoder.layer.1.output.dense.weight", "distinct_tensors"),
    (lambda m: m.bert.encoder.layer[0].attention.self.key.reset_parameters(),
     f"{LAYER0}.attention.self.key.weight", "std"),
    (lambda m: m.bert.encoder.layer[0].output.dense.bias.uniform_(-0.04, 0.04),  # left at torch's
     f"{LAYER0}.output.dense.bias", "support"),
])
def test_bert_broken_twins_fail_naming_the_tensor(breaks, tensor, check):
    m = bert()
    with torch.no_grad():
        breaks(m)
    r = ic.check_model(m, POLICIES / "bert.toml")
    assert check in r.row(tensor).failed, str(r)
    failed = {x.name for x in r.failures}
    assert tensor in failed and len(failed) <= 2, failed  # the key's bias too, when reset


def test_bert_with_init_weights_skipped_fails_its_policy_and_passes_torchs():
    # untied: a tied matrix belongs to an Embedding and a Linear, whose resets disagree
    m = bert(tie_word_embeddings=False)
    with torch.no_grad():
        for module in m.modules():
            if hasattr(module, "reset_parameters") and not list(module.children()):
                module.reset_parameters()  # what the modules' own constructors leave
    r = ic.check_model(m, POLICIES / "bert.toml")
    linear = [x for x in r.rows if x.match == "*.weight in Linear"]
    assert linear and all(x.verdict == "FAIL" for x in linear)
    torchs = ic.check_model(m, "torch")  # every module passes; the head's own bias is unknown
    assert not torchs.failures and [x.name for x in torchs.uncovered] == ["cls.predictions.bias"]
    pol = ic.models.as_policy("torch").extended(rule("cls.predictions.bias", "zeros"))
    assert ic.check_model(m, pol).passed


def test_gpt2_passes_and_an_unscaled_residual_projection_fails():
    m = gpt2()
    r = ic.check_model(m, POLICIES / "gpt2.toml", strict=True)
    assert r.passed, r.failure_message()
    assert r.row("lm_head.weight").names == ("transformer.wte.weight", "lm_head.weight")
    with torch.no_grad():  # c_proj at 0.02, as if the 1/sqrt(2 n_layer) scaling were lost
        m.transformer.h[2].mlp.c_proj.weight.normal_(0, 0.02)
    r = ic.check_model(m, POLICIES / "gpt2.toml")
    assert [x.name for x in r.failures] == ["transformer.h.2.mlp.c_proj.weight"]


def test_gpt2_small_one_block_one_percent_is_caught():
    """GPT-2 small (124M): every weight of block 7 drawn 1% too wide. Each of its Conv1D
    weights alone has a std MDE below 1% at the model-wide alpha; the report says so."""
    m = gpt2(n_layer=12, n_embd=768, n_head=12, vocab_size=50257, n_positions=1024)
    std = 0.02 / math.sqrt(2 * 12)
    policy = [
        ic.models.rule("*.c_proj.weight", ic.spec("normal", std=std)),
        ic.models.rule("*.weight", ic.spec("normal", std=0.02), module=("Conv1D", "Embedding")),
        ic.models.rule("*", "skip"),
    ]
    with torch.no_grad():
        for name in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            m.get_submodule(f"transformer.h.7.{name}").weight.mul_(1.01)
    r = ic.check_model(m, policy)
    failed = {x.name for x in r.failures}
    assert failed == {
        f"transformer.h.7.{n}.weight" for n in ("attn.c_attn", "mlp.c_fc", "mlp.c_proj")
    } or failed == {
        f"transformer.h.7.{n}.weight"
        for n in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")
    }
    assert all(x.worst["mde"] < 0.01 for x in r.failures)
    assert all(g.mde < 0.002 for g in r.groups if not math.isnan(g.mde))
