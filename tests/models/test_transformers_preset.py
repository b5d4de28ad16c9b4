"""The "transformers" preset: transformers' common _init_weights pattern at the model's own
config std. Fresh BERT, RoBERTa and Llama builds pass; GPT-2 fails on exactly its residual
projections (scaled by 1/sqrt(2 n_layer)), each said to hold N(0, 0.01^2); a config value
changed after the build, a padding row written, or a model with no such config is caught.
Models built from small configs, never downloaded; each check spends at most 1e-6."""

import pytest

import initcheck as ic

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

SMALL = dict(num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
             vocab_size=500)


@pytest.mark.parametrize("family", ["bert", "roberta", "llama"])
def test_fresh_models_of_the_common_pattern_pass(family):
    torch.manual_seed(0)
    model = {
        "bert": lambda: transformers.BertModel(transformers.BertConfig(**SMALL)),
        "roberta": lambda: transformers.RobertaModel(transformers.RobertaConfig(
            **SMALL, max_position_embeddings=130)),
        "llama": lambda: transformers.LlamaForCausalLM(transformers.LlamaConfig(
            **SMALL, num_key_value_heads=2)),
    }[family]()
    report = ic.check_model(model, "transformers")
    assert report.passed, report.failure_message()
    assert report.coverage.unclaimed[0] == 0


def test_gpt2s_scaled_residual_projections_are_the_deviation_listed():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, n_positions=128,
                                     vocab_size=500, bos_token_id=0, eos_token_id=0)
    report = ic.check_model(transformers.GPT2LMHeadModel(config), "transformers")
    failed = [r.name for r in report.failures]
    assert failed == [f"transformer.h.{i}.{m}.c_proj.weight" for i in range(2)
                      for m in ("attn", "mlp")]
    assert all(r.looks_like[0].claim == "spec('small_normal')" for r in report.failures)


def test_the_preset_reads_the_config_and_catches_twins():
    torch.manual_seed(0)
    config = transformers.BertConfig(**SMALL, pad_token_id=0)
    model = transformers.BertModel(config)
    assert ic.check_model(model, "transformers").passed
    with torch.no_grad():
        model.embeddings.word_embeddings.weight[0] = 0.1  # the padding row not zeroed
    assert [r.name for r in ic.check_model(model, "transformers").failures] == [
        "embeddings.word_embeddings.weight"]
    model = transformers.BertModel(config)
    model.config.initializer_range = 0.025  # the config says otherwise than the draws
    failed = {r.name for r in ic.check_model(model, "transformers").failures}
    assert "encoder.layer.0.attention.self.query.weight" in failed and len(failed) >= 10
    with pytest.raises(ValueError, match="reads the model's config"):
        ic.check_model(torch.nn.Linear(4, 4), "transformers")
    t5 = transformers.T5Model(transformers.T5Config(num_layers=1, d_model=32, d_kv=8,
                                                    num_heads=4, d_ff=64, vocab_size=100))
    with pytest.raises(ValueError, match="does not follow transformers' common init pattern"):
        ic.check_model(t5, "transformers")
