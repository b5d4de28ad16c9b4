"""Activations: phi' is the derivative of phi (against a central difference), the
piecewise-linear family carries slopes that match phi, names and parameters are validated,
and registered activations are checked before they are accepted."""

import numpy as np
import pytest

from initcheck.theory import activations

U = np.linspace(-4.0, 4.0, 161)  # includes 0, where the kinks are
H = 1e-6


@pytest.mark.parametrize("name", activations.names())
def test_dphi_is_the_derivative_of_phi(name):
    act = activations.get(name)
    away = U[
        np.all(np.abs(U[:, None] - np.asarray(act.kinks or (np.inf,))[None, :]) > 1e-3, axis=1)
    ]
    numeric = (act.phi(away + H) - act.phi(away - H)) / (2 * H)
    np.testing.assert_allclose(act.dphi(away), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", [n for n in activations.names() if activations.get(n).slopes])
def test_slopes_describe_phi(name):
    act = activations.get(name)
    a, b = act.slopes
    np.testing.assert_allclose(act.phi(U), np.where(U > 0, b * U, a * U), rtol=0, atol=0)


def test_selu_maps_a_standard_normal_to_mean_zero_variance_one():
    z = np.random.default_rng(0).standard_normal(2_000_000)
    y = activations.get("selu").phi(z)
    # the standard error of each estimate is below 1e-3: 5e-3 is a 5-sigma tolerance
    assert abs(y.mean()) < 5e-3 and abs(y.var() - 1.0) < 5e-3


def test_parameters_aliases_and_instances():
    assert str(activations.get("leaky_relu", a=0.2)) == "leaky_relu(a=0.2)"
    assert activations.get("leaky_relu", a=0.2) is activations.get("leaky_relu", a=0.2)
    assert activations.get("swish").name == "silu" and activations.get("identity").name == "linear"
    assert activations.get("elu", alpha=2.0).kinks == (0.0,) and activations.get("elu").kinks == ()


@pytest.mark.parametrize("call, message", [
    (lambda: activations.get("rleu"), "Did you mean 'relu'"),
    (lambda: activations.get("relu", a=0.1), "unknown parameter 'a'"),
    (lambda: activations.get("leaky_relu", slope=0.1), "It takes: a"),
    (lambda: activations.get("elu", alpha=-1.0), "alpha must be > 0"),
    (lambda: activations.get(activations.get("relu"), a=1), "already an Activation"),
])
def test_bad_names_and_parameters_name_the_fix(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_register_checks_and_replaces():
    act = activations.register("cube_test_act", lambda u: u**3, lambda u: 3 * u**2, replace=True)
    assert activations.get("cube_test_act") is act and "cube_test_act" in activations.names()
    with pytest.raises(ValueError, match="exists; pass replace=True"):
        activations.register("relu", np.abs, np.sign)
    with pytest.raises(ValueError, match="same shape"):
        activations.register("bad_test_act", lambda u: u[:2], lambda u: u, replace=True)
    with pytest.raises(ValueError, match="finite"):
        activations.register(
            "nan_test_act", lambda u: np.full_like(u, np.nan), lambda u: u, replace=True
        )
