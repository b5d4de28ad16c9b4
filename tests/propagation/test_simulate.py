"""The simulator: the article's experiment against the mean-field theory, within the
finite-width band; streaming statistics; bad input.

Each q comparison is a two-sided test at z = 5 (p < 6e-7); the article grid below makes 60
of them, so a correct simulator fails one with probability below 4e-5 (seeds fixed)."""

import math

import numpy as np
import pytest

import initcheck as ic
import initcheck.frameworks.dispatch
from initcheck.propagation.simulation import QUANTILES

Z = 5.0
ARTICLE_INITS = ["small_normal", "large_normal", "xavier_normal", "he_normal"]


def within_band(measured, predicted, log_var):
    d = math.log(measured / predicted)
    sd = math.sqrt(log_var)
    return -log_var / 2 - Z * sd <= d <= Z * sd


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("init", ARTICLE_INITS)
def test_article_experiment_matches_theory(init, activation):
    trace = ic.simulate(init, activation)  # 1000 x 100 inputs, 5 layers of 100
    p = trace.prediction
    assert trace.complete and len(trace.layers) == 5 and trace.batch == 1000
    for i, s in enumerate(trace.layers):
        assert within_band(s.q, p.q[i], p.log_var_q[i]), (i, s.q, p.q[i])
        # post-activation std: a quarter of the log-variance, plus sampling over the batch
        tol = Z * (math.sqrt(p.log_var_q[i]) / 2 + 1 / math.sqrt(2 * trace.batch * s.width))
        assert abs(math.log(s.std / p.post_std[i])) <= tol, (i, s.std, p.post_std[i])


def test_small_init_collapses_by_ten_per_layer_under_tanh():
    stds = ic.simulate("small_normal", "tanh").column("std")
    ratios = stds[1:] / stds[:-1]
    assert np.all(np.abs(ratios - 0.1) < 0.005)  # sigma_w = 0.01 * sqrt(100) = 0.1


def test_large_init_saturates_tanh():
    trace = ic.simulate("large_normal", "tanh")
    assert all(s.saturated > 0.7 for s in trace.layers)
    assert all(s.saturated < 0.02 for s in ic.simulate("xavier_normal", "tanh").layers)


def test_relu_zeros_and_dead_units():
    trace = ic.simulate("he_normal", "relu")
    # half the pre-activations are negative; past layer 1 each unit has its own mean (its
    # inputs are positive), so the average over 100 units scatters by about 0.02
    assert abs(trace.layers[0].zero_fraction - 0.5) < 0.01
    assert all(abs(s.zero_fraction - 0.5) < 0.1 for s in trace.layers)
    # dead units (zero for every input) appear past layer 1, where inputs are all positive
    assert trace.layers[0].dead_units == 0.0
    assert all(0 <= s.dead_units <= s.zero_fraction for s in trace.layers)
    assert all(s.saturated is None for s in trace.layers)


def test_histograms_quantiles_and_gradients():
    trace = ic.simulate("xavier_normal", "tanh")
    assert trace.bin_edges[0] == -1 and trace.bin_edges[-1] == 1 and trace.bin_edges.size == 31
    for s in trace.layers:
        assert s.hist.sum() == trace.batch * s.width  # tanh lies in [-1, 1]: every value counted
        qs = [s.quantiles[q] for q in QUANTILES]
        assert qs == sorted(qs)
        assert s.grad_std > 0 and s.grad_second > 0
    # gradient variance against the theory, within its band
    p = trace.prediction
    for i, s in enumerate(trace.layers):
        assert within_band(s.grad_second, p.grad[i], p.log_var_grad[i])


def test_forward_only_keeps_no_gradients_and_is_deterministic():
    a = ic.simulate("he_normal", "relu", depth=3, width=32, batch=16, seed=4, backward=False)
    b = ic.simulate("he_normal", "relu", depth=3, width=32, batch=16, seed=4, backward=False)
    assert all(s.grad_std is None for s in a.layers)
    assert a.column("std").tolist() == b.column("std").tolist()
    c = ic.simulate("he_normal", "relu", depth=3, width=32, batch=16, seed=5, backward=False)
    assert a.column("std").tolist() != c.column("std").tolist()


def test_widths_list_bias_and_torch_layout():
    trace = ic.simulate(ic.initializers.he_normal(layout="torch"), "relu", depth=3,
                        width=[64, 32, 16], batch=200, bias=0.1, input_width=50)
    assert trace.widths == (50, 64, 32, 16)
    assert [s.width for s in trace.layers] == [64, 32, 16]
    p = trace.prediction
    assert p.q[0] == pytest.approx(2 / 50 * 50 + 0.01)  # sigma_w^2 q0 + sigma_b^2


def test_any_layout_gives_the_same_net():
    """A weight stored in any layout is read as the same (in, out) matrix: a sampler that
    fills the matrix identically, then stores it in the layout, gives the same trace."""
    def stored(layout):
        def fn(shape, rng, dtype=np.float64):
            i, o, _ = layout.axes(len(shape))
            n_in, n_out = shape[i], shape[o]
            w = rng.standard_normal((n_in, n_out)) * math.sqrt(2 / n_in)
            return np.moveaxis(
                w.reshape(n_in, n_out, *[1] * (len(shape) - 2)), (0, 1), (i, o)
            ).astype(dtype)

        return fn

    layouts = [ic.get_layout("keras"), ic.get_layout("torch"),
               ic.Layout("batched", in_axis=2, out_axis=0, batch_axes=(1,))]
    laid = [
        ic.simulate(
            ic.frameworks.dispatch.numpy_adapter(stored(lay), layout=lay),
            "relu",
            depth=3,
            width=[40, 30, 20],
            batch=64,
            expect="he_normal",
            input_width=50,
        )
        for lay in layouts
    ]
    assert all(t.prediction is not None and t.complete for t in laid)
    assert (
        laid[0].column("q").tolist() == laid[1].column("q").tolist() == laid[2].column("q").tolist()
    )


def test_user_callable_with_expect_and_without():
    def fn(shape, rng, dtype=np.float64):
        return (rng.standard_normal(shape) * math.sqrt(2 / shape[0])).astype(dtype)
    with_spec = ic.simulate(fn, "relu", depth=3, expect="he_normal")
    assert with_spec.prediction is not None
    without = ic.simulate(fn, "relu", depth=3)
    assert without.prediction is None and without.layers


def test_nonzero_mean_weights_have_no_prediction():
    trace = ic.simulate(ic.initializers.constant(0.01), "tanh", depth=2)
    assert trace.prediction is None and "non-zero mean" in trace.notes[0]


def test_nan_mid_network_is_reported_not_raised():
    def huge(shape, rng, dtype=np.float64):
        return rng.standard_normal(shape) * 1e120
    trace = ic.simulate(huge, "relu", depth=6, width=50, batch=20)
    assert not trace.complete
    assert "non-finite pre-activations at layer 3" in trace.notes[0]
    assert "note:" in trace.table()


def test_table_and_dict():
    trace = ic.simulate("xavier_normal", "tanh", depth=2, width=20, batch=10)
    text = trace.table()
    assert "pred" in text and "grad std" in text and "pred grad" in text
    d = trace.to_dict()
    assert d["layers"][0]["predicted"]["q"] == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "tanhh"}, "Allowed values: .*'tanh'"),
    ({"depth": 0}, "depth must be >= 1"),
    ({"width": 0}, "width must be >= 1"),
    ({"batch": 0}, "batch must be >= 1"),
    ({"width": [10, 10]}, "width lists 2 layers for depth 5"),
    ({"bias": -1.0}, "bias std"),
    ({"hist_range": (1, -1)}, "low < high"),
])
def test_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ic.simulate("he_normal", **kwargs)


def test_wrong_shape_initializer():
    with pytest.raises(ic.InitializerError, match="returned shape"):
        ic.simulate(lambda shape, rng: np.zeros((3, 3)), "relu", depth=2, expect="he_normal")
