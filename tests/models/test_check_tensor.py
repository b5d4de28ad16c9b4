"""check_tensor: one given tensor against its claim. The checks that fit one fixed draw run
(none that draws again), in every array type and dtype; correct tensors pass within the
false-alarm budget, and a scale error at the reported MDE is caught with the power stated."""

import math

import numpy as np
import pytest
from scipy import stats as sps

import initcheck as ic
from initcheck.core.seeding import int_seed

torch = pytest.importorskip("torch")


def rng(*key):
    return np.random.default_rng(int_seed(0, "test_check_tensor", *key))


def test_a_correct_numpy_tensor_passes_with_only_fixed_draw_checks():
    w = rng("he").normal(0, math.sqrt(2 / 256), (256, 512))
    r = ic.check_tensor(w, "he_normal")  # keras layout: fan_in = 256
    assert r.passed, r.failure_message()
    names = {c.name for c in r.checks}
    assert {"finite", "mean", "std", "distribution", "tails", "distinct_units",
            "unit_correlation", "spectrum"} <= names
    assert not names & {"reproducible", "independent_calls", "dtype", "haar"}
    assert r.alpha_spent == pytest.approx(1e-6)
    assert "initcheck.check_tensor(x, initcheck.spec('he_normal'" in r.reproduce()


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16", "float64"])
def test_torch_tensors_of_every_dtype_with_grad(dtype):
    w = torch.empty(128, 64, dtype=getattr(torch, dtype), requires_grad=True)
    g = torch.Generator().manual_seed(int_seed(0, "torch", dtype))
    with torch.no_grad():
        torch.nn.init.kaiming_normal_(w, generator=g)
    r = ic.check_tensor(w, "he_normal", name="w")  # a torch tensor reads in the torch layout
    assert r.passed, r.failure_message()
    assert r.layout == "torch" and r.dtype == dtype


def test_jax_array_and_orthogonal_fixed_tensor():
    jax = pytest.importorskip("jax")
    w = jax.nn.initializers.orthogonal()(jax.random.key(3), (64, 128))
    r = ic.check_tensor(w, "orthogonal")
    assert r.passed, r.failure_message()
    assert "orthogonal" in {c.name for c in r.checks}
    bad = np.asarray(w) * 1.01
    assert not ic.check_tensor(bad, "orthogonal").check("orthogonal").passed


def test_defects_fail_with_the_check_that_sees_them():
    z = rng("defects").standard_normal((512, 256))
    claim = ic.spec("normal", std=0.02)
    assert not ic.check_tensor(z * 0.021, claim).check("std").passed
    assert not ic.check_tensor(z * 0.02 + 0.002, claim).check("mean").passed
    uniform = rng("u").uniform(-1, 1, (512, 256)) * 0.02 * math.sqrt(3)  # right std, wrong law
    assert not ic.check_tensor(uniform, claim).check("distribution").passed
    tiled = np.tile(z[:8] * 0.02, (64, 1))  # units repeated
    assert not ic.check_tensor(tiled, claim).check("distinct_units").passed
    spike = z * 0.02 + 0.004 * np.outer(
        rng("a").standard_normal(512), rng("b").standard_normal(256)
    )
    r = ic.check_tensor(spike / spike.std() * 0.02, claim)
    assert not r.check("spectrum").passed


def test_false_alarms_stay_within_the_budget():
    """200 correct tensors at alpha 0.05: the count of failures is Binomial(200, <= 0.05);
    the test's own false-alarm rate is below 1e-6."""
    alpha, runs = 0.05, 200
    fails = sum(not ic.check_tensor(rng("null", k).normal(0, 0.02, (64, 48)),
                                    ic.spec("normal", std=0.02), alpha=alpha).passed
                for k in range(runs))
    assert fails <= sps.binom.ppf(1 - 1e-6, runs, alpha)


def test_a_scale_error_at_the_reported_mde_is_caught_with_the_stated_power():
    """The std check's MDE is the relative error caught with probability 0.99: 40 tensors
    scaled by 1 + MDE fail at least 36 times (P(fewer | power 0.99) < 1e-6)."""
    claim, shape = ic.spec("normal", std=1.0), (128, 96)
    mde = ic.check_tensor(rng("mde").standard_normal(shape), claim).check("std").mde
    caught = sum(not ic.check_tensor(rng("power", k).standard_normal(shape) * (1 + mde),
                                     claim).check("std").passed for k in range(40))
    assert caught >= 36


def test_integer_buffers_take_exact_value_claims_only():
    steps = torch.zeros((), dtype=torch.int64)
    assert ic.check_tensor(steps, "zeros").passed
    with pytest.raises(ValueError, match="dtype int64.*exact value"):
        ic.check_tensor(torch.arange(10), "he_normal")


@pytest.mark.parametrize("x, expect, match", [
    ([[0.1, 0.2]], "zeros", "not a tensor.*np.asarray"),
    (np.zeros(16), "he_normal", "does not fit tensor of shape"),
    (np.zeros((0, 3)), "zeros", "no elements"),
    (np.zeros((4, 4)), 3.0, "not a spec"),
])
def test_bad_input_is_one_clear_error(x, expect, match):
    with pytest.raises(ValueError, match=match):
        ic.check_tensor(x, expect)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_a_coarse_grid_is_judged_by_the_rounded_law(dtype):
    """N(1, 0.02^2) in bfloat16 moves 0.39 std per step: judged against the continuous law
    its KS and kurtosis fail on a correct draw; against the law of the rounded values they
    pass, and a 5% wider std or clipped tails still fail."""
    import ml_dtypes

    dt = ml_dtypes.bfloat16 if dtype == "bfloat16" else np.float16
    rng = np.random.default_rng(7)
    claim = ic.spec("normal", mean=1.0, std=0.02)
    assert ic.check_tensor(rng.normal(1, 0.02, (512, 512)).astype(dt), claim).passed
    assert ic.check_tensor(rng.uniform(2.0, 2.05, (256, 256)).astype(dt),
                           ic.spec("uniform", low=2.0, high=2.05)).passed
    assert not ic.check_tensor(rng.normal(1, 0.021, (512, 512)).astype(dt), claim).passed
    assert not ic.check_tensor(
        rng.normal(1, 0.02, (512, 512)).clip(0.96, 1.04).astype(dt), claim
    ).passed
    with pytest.raises(ValueError, match="cannot be held in dtype"):
        ic.check_tensor(np.full((64, 64), 5.0, dtype=dt), ic.spec("normal", mean=5, std=1e-4))
