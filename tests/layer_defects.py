"""Initializers wrong only on some layers, for ``explore``'s tests and its benchmark: He
normal in the torch layout, (out, in, *k), with a fan rule that breaks on one class of
layers. Each entry of ``DEFECTS``: (initializer, claim, the layers to search (None: the
default), which layers it is wrong on (Layer, shape) -> bool, whether verify's nine default
shapes miss it)."""

import math

import initcheck as ic
from initcheck import strategies


def rf(shape):
    return math.prod(shape[2:])


def he_torch(fan, shape, rng):
    return rng.standard_normal(shape) * math.sqrt(2.0 / fan)


# Each defect is He normal in the torch layout, (out, in, *k), wrong only on some layers;
# ``wrong`` says which layers (Layer, shape), ``grouped``/``transposed`` the search it needs.
def fan_capped(shape, rng):  # fans past 2048 read as 2048: wider layers come out too wide
    return he_torch(min(shape[1] * rf(shape), 2048), shape, rng)


def conv_in_over_out(shape, rng):  # a conv with over twice as many inputs uses fan_out
    wide = len(shape) >= 3 and shape[1] > 2 * shape[0]
    return he_torch((shape[0] if wide else shape[1]) * rf(shape), shape, rng)


def kernel_3d_drops_a_tap_axis(shape, rng):  # rank 5: the last kernel axis left out
    return he_torch(shape[1] * math.prod(shape[2:4]), shape, rng)


def even_kernel_rounded_up(shape, rng):  # even kernel sides counted as the next odd
    return he_torch(shape[1] * math.prod(k | 1 for k in shape[2:]), shape, rng)


def fan_out_from_the_shape(shape, rng):  # He fan_out read literally: groups ignored
    return he_torch(shape[0] * rf(shape), shape, rng)


def fan_in_from_axis_1(shape, rng):  # a transposed kernel's axis 1 holds outputs, not inputs
    return he_torch(shape[1] * rf(shape), shape, rng)


FAN_OUT = ic.spec("he_normal", mode="fan_out")
GROUPED = strategies.layers(kinds=("conv1d", "conv2d"), min_channels=8, max_channels=256,
                            max_groups=4, min_elements=2**10, max_elements=2**17)
TRANSPOSED = strategies.layers(kinds=("conv1d", "conv2d"), min_channels=8, max_channels=256,
                               transposed=None, min_elements=2**10, max_elements=2**17)

DEFECTS = [  # (initializer, expect, layers, the failing class, verify's defaults miss it)
    (fan_capped, "he_normal", None,
     lambda layer, shape: shape[1] * rf(shape) > 2048, True),
    (conv_in_over_out, "he_normal", None,
     lambda layer, shape: len(shape) >= 3 and shape[1] > 2 * shape[0], True),
    (kernel_3d_drops_a_tap_axis, "he_normal", None, lambda layer, shape: len(shape) == 5, False),
    (even_kernel_rounded_up, "he_normal", None,
     lambda layer, shape: any(k % 2 == 0 for k in shape[2:]), False),
    (fan_out_from_the_shape, FAN_OUT, GROUPED, lambda layer, shape: layer.groups > 1, True),
    (fan_in_from_axis_1, "he_normal", TRANSPOSED,
     lambda layer, shape: layer.transposed and layer.in_channels != layer.out_channels, True),
]
