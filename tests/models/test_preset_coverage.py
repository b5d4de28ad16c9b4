"""The built-in presets against their frameworks' own layer classes: every class a framework
exports (enumerated from its module, not a hand list) that can be built with generic
arguments and holds float tensors either passes its framework's preset, freshly built, or
is listed in docs/models.md's "Layers the presets do not cover" with the reason; a listed
class that passes is a stale entry. Each check spends at most 1e-6."""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import initcheck as ic

DOCS = Path(__file__).resolve().parents[2] / "docs" / "models.md"

#: Generic values for the constructor arguments layers require, by parameter name.
ARGS = dict(
    in_features=8, out_features=6, in_channels=4, out_channels=6, kernel_size=3,
    num_embeddings=10, embedding_dim=8, normalized_shape=8, num_features=64, num_groups=2,
    num_channels=4, embed_dim=8, num_heads=2, d_model=8, nhead=2, input_size=8, hidden_size=8,
    in1_features=4, in2_features=5, n_classes=20, cutoffs=[5, 10], units=6, filters=4,
    input_dim=10, output_dim=8, key_dim=4, equation="ab,bc->ac", output_shape=6, features=6,
    hidden_features=6, in_size=8, out_size=6, num_spatial_dims=2, vocab_size=10,
    embed_size=8, shape=8, qkv_size=8, query_size=8, num_classes=10, groups=2, lora_rank=2,
    einsum_str="ab,bc->ac", kernel_shape=(8, 6), output_size=6, output_channels=6,
    vocab_size_=10, axis=-1, create_scale=True, create_offset=True, key_size=4,
    model_size=8, w_init_scale=1.0, num_spatial_dims_=2, input_channels=4, input_shape=8,
)


def documented(framework: str) -> set[str]:
    """The classes docs/models.md lists as not covered for ``framework``."""
    text = DOCS.read_text()
    section = text.split("### Layers the presets do not cover", 1)[1].split("\n## ", 1)[0]
    line = re.search(rf"^- \*\*{re.escape(framework)}\*\*:(.*?)(?=^- \*\*|\Z)", section,
                     re.M | re.S)
    assert line, f"docs/models.md lists nothing for {framework}"
    depth, kept = 0, []
    for ch in line.group(1):  # the names, not the reasons in parentheses
        depth += (ch == "(") - (ch == ")")
        kept.append(ch if depth == 0 else " ")
    return set(re.findall(r"`([A-Za-z0-9_]+)`", "".join(kept)))


def layer_classes(namespace, base):
    """(name, class) of every class ``namespace`` exports that derives from ``base``."""
    for name in sorted(dir(namespace)):
        cls = getattr(namespace, name)
        if inspect.isclass(cls) and issubclass(cls, base) and cls is not base:
            yield name, cls


def build(cls, extra=None):
    """``cls`` built from ARGS for its required parameters, or None where it cannot be."""
    try:
        sig = inspect.signature(cls.__init__ if inspect.isclass(cls) else cls)
    except (TypeError, ValueError):
        return None
    kw = dict(extra or {})
    for p in list(sig.parameters.values())[1:]:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in kw:
            continue
        if p.default is p.empty:
            if p.name not in ARGS:
                return None
            kw[p.name] = ARGS[p.name]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(**kw)
    except Exception:
        return None


def verdicts(built: dict[str, object], preset: str) -> dict[str, bool]:
    """Each built layer's verdict under ``preset`` (layers that hold no tensor left out)."""
    out = {}
    for name, layer in built.items():
        try:
            report = ic.check_model(layer, preset)
        except ValueError as exc:
            if "holds no tensors" in str(exc):
                continue
            raise
        if report.rows:
            out[name] = report.passed
    return out


def assert_matches_docs(framework: str, passed: dict[str, bool]) -> None:
    listed = documented(framework)
    missing = sorted(n for n, ok in passed.items() if not ok and n not in listed)
    stale = sorted(n for n in listed if passed.get(n))
    assert not missing, f"{framework}: fail the preset and are not in docs/models.md: {missing}"
    assert not stale, f"{framework}: listed as not covered in docs/models.md but pass: {stale}"
    assert sum(passed.values()) >= 8, passed


def test_torch_nn_layers():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    built = {}
    for name, cls in layer_classes(nn, nn.Module):
        if name.startswith("Lazy"):
            continue  # lazy modules hold no tensor until a forward pass (refused, named)
        extra = {"encoder_layer": nn.TransformerEncoderLayer(8, 2),
                 "decoder_layer": nn.TransformerDecoderLayer(8, 2), "num_layers": 2}
        layer = build(cls, {k: v for k, v in extra.items()
                            if k in inspect.signature(cls.__init__).parameters})
        if layer is None and name in ("RNN", "LSTM", "GRU"):  # *args signatures
            layer = cls(input_size=8, hidden_size=8)
        if layer is not None and any(t.is_floating_point() for t in layer.state_dict().values()):
            built[name] = layer
    assert_matches_docs("torch", verdicts(built, "torch"))
    with pytest.raises(ValueError, match="uninitialized parameter of a lazy module"):
        ic.check_model(nn.LazyLinear(4), "torch")


def test_keras_layers():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    pairs = ("Attention", "AdditiveAttention")
    built = {}
    for name, cls in layer_classes(keras.layers, keras.layers.Layer):
        layer = build(cls, {"use_scale": True} if name in pairs else None)
        if layer is None:
            continue
        for shape in [(2, 8), (2, 5, 8), (2, 8, 8, 64), (2, 3, 8, 8, 4), (2, 3, 4, 4, 4, 3)]:
            try:
                if name in pairs:
                    layer.build([shape, shape])
                elif "Attention" in name:
                    layer.build(shape, shape)
                else:
                    layer.build(shape)
                break
            except Exception:
                continue
        if getattr(layer, "built", False) and layer.weights:
            built[name] = layer
    assert_matches_docs("keras", verdicts(built, "keras"))


def test_flax_nnx_layers():
    pytest.importorskip("flax")
    from flax import nnx

    built = {}
    for name, cls in layer_classes(nnx, nnx.Module):
        params = inspect.signature(cls.__init__).parameters
        extra = {"rngs": nnx.Rngs(0)} if "rngs" in params else {}
        if "decode" in params:
            extra["decode"] = False
        layer = build(cls, extra)
        if layer is not None:
            built[name] = layer
    assert_matches_docs("flax nnx", verdicts(built, "flax"))


def test_flax_linen_layers():
    pytest.importorskip("flax")
    import flax.linen as nn
    import jax

    built = {}
    for name, cls in layer_classes(nn, nn.Module):
        layer = build(cls)
        if layer is None:
            continue
        key = jax.random.key(0)
        for shape in [(2, 8), (2, 5, 8), (2, 8, 8, 64), (2, 3, 8, 8, 4)]:
            x = np.zeros(shape, np.float32)
            try:
                if hasattr(layer, "initialize_carry"):
                    carry = layer.initialize_carry(key, x.shape)
                    variables = layer.init(key, carry, x)
                elif name in ("MultiHeadDotProductAttention", "MultiHeadAttention"):
                    variables = layer.init(key, x, x)
                else:
                    variables = layer.init(key, x)
                break
            except Exception:
                continue
        else:
            continue
        if variables:
            built[name] = (layer, variables)
    assert_matches_docs("flax linen", verdicts(built, "flax"))


def test_equinox_layers():
    eqx = pytest.importorskip("equinox")
    import jax

    built = {}
    for name, cls in layer_classes(eqx.nn, eqx.Module):
        params = inspect.signature(cls.__init__).parameters
        layer = build(cls, {"key": jax.random.key(0)} if "key" in params else None)
        if layer is not None:
            built[name] = layer
    assert_matches_docs("equinox", verdicts(built, "equinox"))


def test_haiku_layers():
    hk = pytest.importorskip("haiku")
    import jax

    built = {}
    for name, cls in layer_classes(hk, hk.Module):
        for shape in [(2, 8), (2, 5, 8), (2, 8, 8, 4), (2, 3, 8, 8, 4)]:
            def forward(x, cls=cls):
                layer = build(cls)
                if layer is None:
                    raise TypeError("cannot build")
                return layer(x)

            try:
                params = hk.transform_with_state(forward).init(
                    jax.random.key(0), np.zeros(shape, np.float32))
                break
            except Exception:
                continue
        else:
            continue
        if params[0] or params[1]:
            built[name] = {**params[0], **params[1]}
    assert_matches_docs("haiku", verdicts(built, "haiku"))
