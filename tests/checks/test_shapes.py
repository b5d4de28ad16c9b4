"""The default layers verify draws at when no shapes are given (``initcheck.checks.shapes``):
in any layout, each layer's fans as the layer defines them."""

import pytest

import initcheck as ic
from initcheck.checks.shapes import DEFAULT_LAYERS, default_shapes


def test_default_shapes_in_a_custom_layout_have_the_layers_fans():
    """A custom Layout gets the default layers in its own axes, not keras's: each shape's
    fans, read in that layout, are the layer's."""
    layout = ic.Layout("in_first", in_axis=0, out_axis=1)  # (in, out, *k)
    spec = ic.spec("he_normal")
    shapes_ = default_shapes(spec, layout)
    layers = DEFAULT_LAYERS
    assert [ic.compute_fans(s, layout) for s in shapes_] == [
        ic.compute_fans(layer.weight_shape("keras"), "keras") for layer in layers]
    assert shapes_[2] == (64, 128, 3, 3)
    report = ic.verify(ic.initializers.he_normal(layout=layout), seed=3)
    assert report.passed and report.layout == "in_first" and list(report.shapes) == shapes_


def test_a_layout_no_default_layer_fits_asks_for_shapes():
    layout = ic.Layout("conv_only", in_axis=3, out_axis=2)
    shapes_ = default_shapes(ic.spec("he_normal"), layout)
    assert all(len(s) >= 4 for s in shapes_)
    with pytest.raises(ValueError, match="fits none of the default layers.*shapes=\\[...\\]"):
        default_shapes(ic.spec("he_normal"), ic.Layout("deep", in_axis=7, out_axis=6))
