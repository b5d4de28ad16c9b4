"""Fans against an independent computation from the layer's parameters, for every layout,
rank, group count and transposition; and against torch's own function when installed."""

import math

import numpy as np
import pytest
from hypothesis import given, strategies as st

import initcheck as ic
from initcheck.core.fans import Layer
from initcheck.strategies import layers

ALL_LAYERS = layers(max_groups=8, transposed=None, max_channels=96, max_kernel=7)


def logical_fans(layer: Layer) -> tuple[int, int, int]:
    """From the layer's definition: each output sees in/groups channels times the kernel taps,
    each input feeds out/groups channels times the taps."""
    taps = math.prod(layer.kernel)
    g = layer.groups
    return layer.in_channels // g * taps, layer.out_channels // g * taps, taps


@given(ALL_LAYERS, st.sampled_from(["torch", "keras", "jax", "flax", "numpy"]))
def test_logical_fans_match_layer_definition(layer, layout):
    shape = layer.weight_shape("torch" if layout == "torch" else "keras")
    fans = ic.compute_fans(shape, layout, groups=layer.groups, transposed=layer.transposed)
    assert tuple(fans) == logical_fans(layer)


@given(ALL_LAYERS)
def test_torch_and_keras_layouts_agree(layer):
    kw = dict(groups=layer.groups, transposed=layer.transposed)
    assert ic.compute_fans(layer.weight_shape("torch"), "torch", **kw) == ic.compute_fans(
        layer.weight_shape("keras"), "keras", **kw
    )


@given(ALL_LAYERS)
def test_framework_conventions_read_axes_literally(layer):
    taps = math.prod(layer.kernel)
    t = layer.weight_shape("torch")
    k = layer.weight_shape("keras")
    assert ic.compute_fans(t, "torch", convention="torch") == (t[1] * taps, t[0] * taps, taps)
    assert ic.compute_fans(k, "keras", convention="keras") == (k[-2] * taps, k[-1] * taps, taps)
    assert ic.compute_fans(k, "jax", convention="jax") == (k[-2] * taps, k[-1] * taps, taps)


def test_grouped_fan_out_divergence_is_the_group_count():
    # depthwise 3x3 conv, 32 channels: torch weight (32, 1, 3, 3)
    logical = ic.compute_fans((32, 1, 3, 3), "torch", groups=32)
    torch_conv = ic.compute_fans((32, 1, 3, 3), "torch", groups=32, convention="torch")
    assert logical == ic.Fans(9, 9, 9)
    assert torch_conv == ic.Fans(9, 288, 9)


def test_documented_examples():
    assert ic.compute_fans((64, 32, 3, 3), layout="torch") == ic.Fans(288, 576, 9)
    assert ic.compute_fans((3, 3, 32, 64)) == ic.Fans(288, 576, 9)
    assert ic.compute_fans((784, 256)) == ic.Fans(784, 256, 1)
    assert ic.compute_fans((256, 784), "torch") == ic.Fans(784, 256, 1)
    # non-square kernel, 1d and 3d
    assert ic.compute_fans((5, 1, 16, 8)) == ic.Fans(80, 40, 5)
    assert ic.compute_fans((8, 16, 7), "torch") == ic.Fans(112, 56, 7)
    assert ic.compute_fans((2, 3, 4, 6, 10)) == ic.Fans(144, 240, 24)


def test_fan_modes():
    f = ic.Fans(100, 400, 1)
    assert (f.fan("fan_in"), f.fan("fan_out"), f.fan("fan_avg"), f.fan("fan_geo_avg")) == (
        100.0, 400.0, 250.0, 200.0)


def test_batch_axes_count_in_no_fan():
    layout = ic.Layout("stacked", in_axis=-2, out_axis=-1, batch_axes=(0,))
    assert ic.compute_fans((12, 3, 3, 16, 32), layout) == ic.Fans(144, 288, 9)


@pytest.mark.parametrize("shape", [(), (7,)])
def test_vectors_error_by_default_and_length_on_request(shape):
    with pytest.raises(ValueError, match="rank >= 2.*vectors='length'"):
        ic.compute_fans(shape)
    n = shape[0] if shape else 1
    assert ic.compute_fans(shape, vectors="length") == ic.Fans(n, n, 1)
    assert ic.compute_fans(shape, convention="keras") == ic.Fans(n, n, 1)
    with pytest.raises(ValueError):
        ic.compute_fans(shape, "torch", convention="torch")


def test_rank1_int_shorthand():
    assert ic.compute_fans(5, vectors="length") == ic.Fans(5, 5, 1)


# ----------------------------------------------------------------- torch's own function



def _torch():
    return pytest.importorskip(
        "torch", reason="torch extra not installed (pip install -e '.[torch]')"
    )


@given(layers(max_channels=32, max_kernel=4, max_elements=4096))
def test_torch_convention_equals_torch_function(layer):
    t = _torch()
    shape = layer.weight_shape("torch")
    fi, fo = t.nn.init._calculate_fan_in_and_fan_out(t.empty(shape))
    f = ic.compute_fans(shape, "torch", convention="torch")
    assert (f.fan_in, f.fan_out) == (fi, fo)


@given(layers(kinds=("conv1d", "conv2d", "conv3d"), max_groups=4, transposed=None,
              max_channels=16, max_kernel=3, max_elements=2048))
def test_real_torch_layers_have_the_shapes_and_fans_we_model(layer):
    t = _torch()
    nd = len(layer.kernel)
    name = f"ConvTranspose{nd}d" if layer.transposed else f"Conv{nd}d"
    with t.device("meta"):
        module = getattr(t.nn, name)(layer.in_channels, layer.out_channels, layer.kernel,
                                     groups=layer.groups)
    shape = tuple(module.weight.shape)
    assert shape == layer.weight_shape("torch")
    fans = ic.compute_fans(shape, "torch", groups=layer.groups, transposed=layer.transposed)
    assert tuple(fans) == logical_fans(layer)


def test_torch_rejects_vectors_like_we_do():
    t = _torch()
    with pytest.raises(ValueError):
        t.nn.init._calculate_fan_in_and_fan_out(t.empty(5))
    with pytest.raises(ValueError, match="rank"):
        ic.compute_fans((5,), "torch", convention="torch")


def test_numpy_ints_accepted():
    assert ic.compute_fans((np.int64(4), np.int32(3))) == ic.Fans(4, 3, 1)


# ----------------------------------------------------------------- Layer in any Layout


@st.composite
def custom_layouts(draw, rank):
    """A Layout whose in, out and batch axes sit anywhere in a tensor of ``rank`` + batch
    axes (positive or negative indices): what jax's in_axis/out_axis/batch_axis allow."""
    n_batch = draw(st.integers(0, 2))
    total = rank + n_batch
    axes = draw(st.permutations(range(total)))
    i, o, batch = axes[0], axes[1], tuple(axes[2:2 + n_batch])
    neg = draw(st.booleans())
    return ic.Layout("custom", i - total if neg else i, o, batch)


@given(ALL_LAYERS, st.data())
def test_layer_shapes_in_any_layout_have_the_logical_fans(layer, data):
    """The weight shape a Layer takes in a custom Layout, read back in that layout, has the
    fans of the layer's definition (custom layouts were once silently read as keras)."""
    layout = data.draw(custom_layouts(2 + len(layer.kernel)))
    shape = layer.weight_shape(layout)
    assert len(shape) == 2 + len(layer.kernel) + len(layout.batch_axes)
    fans = ic.compute_fans(shape, layout, groups=layer.groups, transposed=layer.transposed)
    assert tuple(fans) == logical_fans(layer)


def test_layer_rejects_a_layout_its_rank_cannot_hold():
    with pytest.raises(ValueError, match="axis 3 does not exist in a rank-2 shape"):
        Layer(4, 8).weight_shape(ic.Layout("conv_only", in_axis=3, out_axis=2))
