"""The shape strategies draw what they promise and refuse bad arguments up front."""

import math

import pytest
from hypothesis import given
from hypothesis.errors import InvalidArgument

import initcheck as ic
from initcheck import strategies


@given(strategies.conv_shapes(dims=2, layout="torch", square=True, max_elements=5000))
def test_conv_shapes_square_torch(shape):
    assert len(shape) == 4 and shape[2] == shape[3] and math.prod(shape) <= 5000


@given(strategies.dense_shapes(min_fan=3, max_fan=9))
def test_dense_shapes_bounds(shape):
    assert len(shape) == 2 and all(3 <= d <= 9 for d in shape)


@given(strategies.layers(max_groups=6, transposed=True, kinds=("conv3d",), max_elements=3000))
def test_grouped_transposed_layers_have_consistent_shapes(layer):
    assert layer.transposed and len(layer.kernel) == 3
    assert layer.in_channels % layer.groups == 0 and layer.out_channels % layer.groups == 0
    shape = layer.weight_shape("torch")
    assert math.prod(shape) <= 3000
    ic.compute_fans(shape, "torch", groups=layer.groups, transposed=True)


@given(strategies.layers(kinds=("dense", "conv2d"), min_groups=2, max_groups=4,
                         max_channels=32, min_elements=1000, max_elements=50_000))
def test_min_elements_grows_a_layer_and_min_groups_bounds_its_groups(layer):
    shape = layer.weight_shape("torch")
    assert math.prod(shape) >= 1000
    if layer.kernel:  # dense layers have one group
        assert 2 <= layer.groups <= 4 and layer.in_channels % layer.groups == 0
    else:
        assert layer.groups == 1


@pytest.mark.parametrize("make", [
    lambda: strategies.layers(min_groups=3, max_groups=2),
    lambda: strategies.layers(min_elements=10, max_elements=5),
    lambda: strategies.layers(min_elements=0),
    lambda: strategies.shapes(kinds=("conv4d",)),
    lambda: strategies.shapes(kinds=()),
    lambda: strategies.shapes(layout="caffe"),
    lambda: strategies.dense_shapes(min_fan=0),
    lambda: strategies.dense_shapes(min_fan=9, max_fan=3),
    lambda: strategies.conv_shapes(dims=4),
    lambda: strategies.layers(max_groups=100, max_channels=10),
    lambda: strategies.layers(square="yes"),
])
def test_invalid_arguments(make):
    with pytest.raises(InvalidArgument):
        make()
