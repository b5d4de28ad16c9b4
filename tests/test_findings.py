"""docs/findings.md, reproduced: each finding in real code, with the initcheck call that finds
it, on the pinned versions; models built from small configs, never downloaded."""

import math
import os

import numpy as np
import pytest

import initcheck as ic

os.environ.setdefault("KERAS_BACKEND", "jax")


def test_torch_transformer_encoder_starts_with_identical_layers():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(64, 4, 128)
    encoder = torch.nn.TransformerEncoder(layer, num_layers=3)
    report = ic.check_model(encoder, "torch")
    failed = {c.name for c in report.checks if not c.passed}
    assert failed == {"distinct_tensors", "near_copies"}
    assert "layers.1.linear1.weight" in {r.name for r in report.failures}
    assert ic.check_model(layer, "torch").passed  # the layer alone is torch's default


def test_wav2vec2_positional_conv_keeps_torchs_default_under_weight_norm():
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(
        hidden_size=64, num_hidden_layers=1, num_attention_heads=4, intermediate_size=128,
        conv_dim=(32, 32), conv_stride=(5, 2), conv_kernel=(10, 3), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4)
    conv = transformers.Wav2Vec2Model(config).encoder.pos_conv_embed.conv
    stored = conv.parametrizations.weight.original1  # the weight-norm direction v
    layout = ic.get_layout("torch", groups=conv.groups)
    meant = ic.spec("normal", std=2 * math.sqrt(1 / (conv.kernel_size[0] * conv.in_channels)))
    assert not ic.check_tensor(stored, meant, layout=layout).passed
    default = ic.spec("he_uniform", nonlinearity="leaky_relu", a=math.sqrt(5))
    assert ic.check_tensor(stored, default, layout=layout, convention="torch").passed
    assert ic.identify(stored, layout=layout)[0].spec == default


def test_one_seeded_keras_initializer_shared_by_two_layers_gives_identical_kernels():
    keras = pytest.importorskip("keras")
    init = keras.initializers.GlorotUniform(seed=0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, kernel_initializer=init),
                              keras.layers.Dense(64, kernel_initializer=init)])
    report = ic.check_model(model, "keras")
    assert {c.name for c in report.checks if not c.passed} == {"distinct_tensors", "near_copies"}
    assert len(report.failures) == 1


def test_jax_lecun_normal_in_bfloat16_has_a_mean_bias():
    jax = pytest.importorskip("jax")
    report = ic.verify(jax.nn.initializers.lecun_normal(), dtype="bfloat16", shapes=[(512, 512)])
    mean = report.check("mean")
    assert not mean.passed and mean.statistic < -6, mean
    assert ic.verify(jax.nn.initializers.lecun_normal(), shapes=[(512, 512)]).check("mean").passed
    assert np.isfinite(mean.statistic)
