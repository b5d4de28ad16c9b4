"""explore: Hypothesis searches layer shapes for a failing verify and shrinks it. Defects
that live only on some layers are found and shrunk into their class (several of which
verify's nine default shapes miss); correct initializers pass; the family-wise alpha is
split over every verify the search may run, and the false-alarm rate stays within it."""

import json
import math

import jsonschema
import numpy as np
import pytest
from hypothesis import strategies as st
from layer_defects import DEFECTS, conv_in_over_out, fan_capped, he_torch, rf
from scipy import stats as sps

import initcheck as ic
from initcheck import strategies
from initcheck.core.schema import SCHEMAS
from initcheck.verification.exploration import MIN_LAYER_ELEMENTS


@pytest.mark.parametrize("init, expect, layers, wrong, verify_misses", DEFECTS,
                         ids=[d[0].__name__ for d in DEFECTS])
def test_a_defect_on_some_layers_is_found_and_shrunk_into_its_class(
        init, expect, layers, wrong, verify_misses):
    found = ic.explore(init, expect, layers=layers, layout="torch", max_examples=100)
    assert not found.passed and found.report is not None and not found.report.passed
    assert wrong(found.layer, found.shape), found
    # shrunk from where it was first found, down to the smallest layers searched (~1k
    # elements) where the defect is large enough to see there
    smallest = 2 * MIN_LAYER_ELEMENTS
    assert math.prod(found.shape) <= max(smallest, math.prod(found.found_at) // 10), found
    assert found.examples <= found.budget
    # the reproduce line reruns verify on that one shape, to the same verdict
    namespace = {"initcheck": ic, init.__module__: None}
    call = found.reproduce().replace(f"{init.__module__}.{init.__name__}", "init")
    assert not eval(call, {**namespace, "init": init}).passed  # noqa: S307
    assert ic.verify(init, expect=expect, layout="torch").passed == verify_misses


@pytest.mark.parametrize("name", ["he_normal", "xavier_uniform", "lecun_normal",
                                  "truncated_normal", "orthogonal"])
def test_built_ins_pass_over_grouped_and_transposed_layers_too(name):
    found = ic.explore(name, max_examples=25, seed=3)
    assert found.passed, found
    assert found.examples == 25 and not found.exhausted
    assert all(m < 0.2 for m in found.mdes if math.isfinite(m)), found.mdes  # useful power


def _he_torch(shape, rng, dtype=np.float32):  # a correct hand-written one
    return (rng.standard_normal(shape) * math.sqrt(2.0 / (shape[1] * rf(shape)))).astype(dtype)


def _xavier_uniform_torch(shape, rng):
    fan_in, fan_out = shape[1] * rf(shape), shape[0] * rf(shape)
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, shape).astype(np.float32)


@pytest.mark.parametrize("init, expect", [(_he_torch, "he_normal"),
                                          (_xavier_uniform_torch, "xavier_uniform")])
def test_hand_written_numpy_initializers_pass(init, expect):
    assert ic.explore(init, expect, layout="torch", max_examples=30, seed=1).passed


def test_the_false_alarm_rate_stays_within_the_family_wise_alpha():
    """At alpha = 0.3, over 40 seeds of a correct initializer: a search fails at most at
    rate 0.3 (Bonferroni over its budget). 22 or more false alarms would happen with
    probability < 0.001 if the rate were 0.3; the budget split makes it far lower."""
    alarms = sum(not ic.explore("he_uniform", max_examples=10, alpha=0.3, seed=s).passed
                 for s in range(40))
    assert alarms <= sps.binom(40, 0.3).ppf(0.999), alarms


def test_alpha_is_split_over_every_verify_the_search_may_run():
    found = ic.explore(fan_capped, "he_normal", layout="torch", max_examples=20, alpha=1e-4)
    assert found.budget == 20 + 50 and found.alpha_each == pytest.approx(1e-4 / found.budget)
    assert found.report.alpha == pytest.approx(found.alpha_each)
    assert found.examples <= found.budget


def test_a_search_is_a_function_of_its_seed():
    a = ic.explore(conv_in_over_out, "he_normal", layout="torch", max_examples=40, seed=5)
    b = ic.explore(conv_in_over_out, "he_normal", layout="torch", max_examples=40, seed=5)
    assert a.shape == b.shape and a.examples == b.examples and a.mdes == b.mdes


def test_a_strategy_of_shapes_and_an_initializer_that_raises():
    def breaks_on_rank_5(shape, rng):
        if len(shape) == 5:
            raise RuntimeError("no 3-d kernels")
        return he_torch(shape[1] * rf(shape), shape, rng)

    found = ic.explore(breaks_on_rank_5, "he_normal", layout="torch", max_examples=60,
                       layers=strategies.shapes(kinds=("dense", "conv3d"), layout="torch",
                                                min_channels=8))
    assert not found.passed and found.layer is None and len(found.shape) == 5
    assert found.report is None and "no 3-d kernels" in found.error
    assert "no 3-d kernels" in found.failure_message()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="not a Hypothesis strategy"):
        ic.explore("he_normal", layers=[(64, 32)])
    with pytest.raises(ValueError, match="neither a Layer nor a shape"):
        ic.explore("he_normal", layers=st.just("wide"))
    with pytest.raises(ValueError, match="max_examples"):
        ic.explore("he_normal", max_examples=0)
    with pytest.raises(ValueError, match="carries no spec"):
        ic.explore(_he_torch)


def test_the_result_keeps_the_contract():
    passed = ic.explore("he_normal", max_examples=5)
    failed = ic.explore(fan_capped, "he_normal", layout="torch", max_examples=60)
    for result in (passed, failed):
        doc = json.loads(result.to_json())
        jsonschema.validate(doc, SCHEMAS[doc["schema"]])
        assert doc["passed"] is result.passed
        assert all(len(line) <= 100 for line in str(result).splitlines())
    passed.raise_for_failure()
    with pytest.raises(AssertionError, match="reproduce: initcheck.verify"):
        failed.raise_for_failure()
