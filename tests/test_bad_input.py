"""Bad input raises ValueError when the factory or spec is made, naming the problem and the fix."""

import numpy as np
import pytest

import initcheck as ic

BAD_SHAPES = [
    ((3.0, 4), "not an integer"),
    ((3, -4), ">= 1"),
    ((0, 4), ">= 1"),
    ((True, 4), "not an integer"),
    ("34", "tuple of positive ints"),
    (None, "tuple of positive ints"),
    ((2**20, 2**20), "more than the limit"),
]


@pytest.mark.parametrize("shape, message", BAD_SHAPES)
def test_bad_shapes(shape, message):
    with pytest.raises(ValueError, match=message):
        ic.compute_fans(shape)
    with pytest.raises(ValueError, match=message):
        ic.initializers.he_normal()(shape)
    with pytest.raises(ValueError, match=message):
        ic.spec("xavier_normal").law(shape)


def test_unknown_names_list_known_ones_with_close_matches():
    with pytest.raises(ValueError, match=r"'he_normal'.*Allowed values: .*'xavier_normal'"):
        ic.spec("he_norml")
    with pytest.raises(ValueError, match="Did you mean 'xavier_uniform'"):
        ic.initializers.get("xavier_unifrom")
    with pytest.raises(ValueError, match="Allowed values"):
        ic.initializers.by_short_name("tiny")


@pytest.mark.parametrize("call, message", [
    (lambda: ic.spec("he_normal", mode="fan_inn"), "Did you mean 'fan_in'"),
    (lambda: ic.spec("variance_scaling", distribution="gaussian"), "'truncated_normal'"),
    (lambda: ic.spec("xavier_normal", gain=0), "must be > 0"),
    (lambda: ic.spec("xavier_normal", gain=-1.0), "must be > 0"),
    (lambda: ic.spec("orthogonal", gain=float("nan")), "finite"),
    (lambda: ic.spec("he_normal", gain=2.0, nonlinearity="relu"), "not both"),
    (lambda: ic.spec("he_normal", nonlinearity="swish"), "Allowed values: .*'tanh'"),
    (lambda: ic.spec("he_normal", a=0.2), "leaky_relu"),
    (lambda: ic.spec("normal", std=0), "must be > 0"),
    (lambda: ic.spec("uniform", low=1, high=0), "low < high"),
    (lambda: ic.spec("truncated_normal", a=-1), "both absolute bounds"),
    (lambda: ic.spec("truncated_normal", a=-1, b=1, lower=-2), "not both"),
    (lambda: ic.spec("truncated_normal", lower=2, upper=-2), "lower < upper"),
    (lambda: ic.spec("variance_scaling", scale="2"), "real number"),
    (lambda: ic.spec("he_normal", mdoe="fan_in"), "did you mean 'mode'"),
    (lambda: ic.spec(ic.spec("zeros"), value=1), "already a Spec"),
    (lambda: ic.initializers.he_normal(layout="caffe"), "Allowed values: 'torch', 'keras'"),
    (lambda: ic.initializers.he_normal(groups=0), "groups must be >= 1"),
    (lambda: ic.initializers.he_normal(groups=2.0), "must be an integer"),
    (lambda: ic.initializers.he_normal(convention="tf"), "'logical'"),
    (lambda: ic.initializers.he_normal(vectors="yes"), "'length'"),
    (lambda: ic.torch_gain("relu", 0.1), "leaky_relu"),
])
def test_bad_parameters_fail_when_the_factory_is_called(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_groups_that_do_not_divide_the_channels():
    with pytest.raises(ValueError, match="groups=3 does not divide the 32 channels"):
        ic.compute_fans((32, 4, 3, 3), "torch", groups=3)
    with pytest.raises(ValueError, match="does not divide"):
        ic.initializers.he_normal(layout="torch", groups=3)((32, 4, 3, 3))


def test_bad_call_arguments():
    init = ic.initializers.he_normal()
    with pytest.raises(ValueError, match="not a floating dtype"):
        init((4, 4), dtype=np.int32)
    with pytest.raises(ValueError, match="not a NumPy dtype"):
        init((4, 4), dtype="weights")
    with pytest.raises(ValueError, match="Generator"):
        init((4, 4), rng="seed")
    with pytest.raises(ValueError, match=">= 0"):
        init((4, 4), rng=-1)
    with pytest.raises(ValueError, match="rank >= 2"):
        init((4,))
    with pytest.raises(ValueError, match="rank >= 2"):
        ic.initializers.orthogonal()((4,))


def test_vectors_allowed_where_no_fan_is_needed_or_asked_for():
    assert ic.initializers.zeros()((4,)).shape == (4,)
    assert ic.initializers.normal()((4,)).shape == (4,)
    assert ic.initializers.he_normal(vectors="length")((4,), rng=0).shape == (4,)


def test_layout_axes_out_of_range_or_repeated():
    with pytest.raises(ValueError, match="does not exist"):
        ic.compute_fans((3, 4), ic.Layout("x", in_axis=2, out_axis=0))
    with pytest.raises(ValueError, match="distinct"):
        ic.compute_fans((3, 4), ic.Layout("x", in_axis=0, out_axis=-2))
