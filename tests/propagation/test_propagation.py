"""The propagation property: passes where signal propagation theory says it must, fails
where it must not, and says why in numbers. Each verify spends alpha <= 1e-6; the 30 calls
here fail a correct case with probability below 3e-5 (seeds fixed)."""

import math

import numpy as np
import pytest

import initcheck as ic

PASS = [("xavier_normal", "linear"), ("xavier_normal", "tanh"), ("he_normal", "relu"),
        ("lecun_normal", "selu")]
FAIL = [("small_normal", "tanh", "vanishes"), ("large_normal", "tanh", "gradients explode"),
        ("xavier_normal", "relu", "vanishes"), ("he_normal", "tanh", "gradients explode")]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("init, activation", PASS)
def test_signal_preserving_pairs_pass(init, activation, seed):
    report = ic.verify(ic.initializers.get(init), activation=activation, seed=seed)
    check = report.check("propagation")
    assert check.passed, check.detail
    assert check.extra["fit_ok"] and check.extra["design_ok"]


def test_tanh_is_reported_as_polynomial_decay_at_the_critical_point():
    check = ic.verify(ic.initializers.xavier_normal(), activation="tanh").check("propagation")
    assert "polynomially, not exponentially" in check.detail and "chi_1 -> 1" in check.detail


@pytest.mark.parametrize("init, activation, why", FAIL)
def test_bad_pairs_fail_and_say_why(init, activation, why):
    check = ic.verify(ic.initializers.get(init), activation=activation).check("propagation")
    assert not check.passed
    assert not check.extra["design_ok"] and check.extra["fit_ok"]  # the theory explains it
    assert why in check.detail


def test_torch_default_linear_init_fails_under_relu():
    # nn.Linear's kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), 0.41x He
    init = ic.initializers.he_uniform(nonlinearity="leaky_relu", a=math.sqrt(5))
    assert init.law((100, 100)).high == pytest.approx(0.1)
    check = ic.verify(init, activation="relu").check("propagation")
    assert not check.passed
    assert math.exp(check.extra["rate_q"]) == pytest.approx(1 / 6)  # sigma_w^2 / 2 = 1/6


def test_a_sampler_that_breaks_its_claim_fails_the_fit():
    def he_90(shape, rng, dtype=np.float32):
        std = 0.9 * math.sqrt(2 / ic.compute_fans(shape).fan_in)
        return (rng.standard_normal(shape) * std).astype(dtype)
    check = ic.verify(he_90, expect="he_normal", activation="relu").check("propagation")
    assert not check.passed and check.extra["design_ok"] and not check.extra["fit_ok"]
    assert "outside the finite-width band" in check.detail


def test_propagation_shares_the_alpha_budget():
    report = ic.verify(ic.initializers.he_normal(), activation="relu", seed=1)
    assert report.alpha_spent <= 1e-6 * (1 + 1e-12)
    assert report.trace is not None and report.trace.depth == 50
    assert "propagation" in report.to_json()


@pytest.mark.parametrize("activation", ["leaky_relu", "elu", "selu", "gelu"])
def test_parametrized_activations_are_not_looked_up_by_their_printed_form(activation):
    """An activation with parameters prints as 'leaky_relu(a=0.01)'; verify must judge it,
    not look that string up as a name (a ValueError before)."""
    init = ic.initializers.get("he_normal", nonlinearity="leaky_relu", a=0.01) \
        if activation == "leaky_relu" else ic.initializers.get("he_normal")
    report = ic.verify(init, activation=activation, shapes=[(256, 128)])
    assert "propagation" in {c.name for c in report.checks}


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_a_dead_net_fails_and_the_theory_agrees_with_the_simulation(activation):
    """All-zero weights: every pre-activation is exactly 0, so the theory reads phi'(0) itself
    (ReLU's 0, not the q -> 0 limit 1/2) and agrees with the simulation, and a signal that is
    0 from the first layer on has vanished: the property fails, for that reason alone.
    Deterministic (zero weights), so no false-alarm budget is spent on the verdict."""
    check = ic.verify(ic.initializers.get("zeros"), activation=activation,
                      shapes=[(8, 8)]).check("propagation")
    assert not check.passed and "the forward signal vanishes" in check.detail
    assert "simulation within the finite-width band" in check.detail
