"""A framework's initializer object as a claim: its spec is read from its configuration (a
torch.nn.init function and a partial's keywords, a jax closure, a keras object) and agrees
with the audit catalogues' documented specs; verify and model policies take it where they
take a spec, and a framework initializer no spec states is refused by name."""

import functools
import math

import numpy as np
import pytest

import initcheck as ic
from initcheck.audit.catalogues import jax as jax_catalogue, keras as keras_catalogue
from initcheck.frameworks.declared import declared


def same_law(a, b, shape=(96, 64, 3, 3), layout="keras"):
    law_a = a.law(shape, ic.get_layout(layout))
    law_b = b.law(shape, ic.get_layout(layout))
    return law_a.family == law_b.family and math.isclose(law_a.std, law_b.std, rel_tol=1e-9) \
        and math.isclose(law_a.mean, law_b.mean, abs_tol=1e-12)


@pytest.mark.parametrize("catalogue", [jax_catalogue, keras_catalogue], ids=["jax", "keras"])
def test_declared_specs_agree_with_the_catalogues(catalogue):
    """Each catalogue entry's initializer declares the law the catalogue documents for it,
    or is refused as inexpressible; never a different law."""
    pytest.importorskip(catalogue.__name__.rsplit(".", 1)[1])
    read = 0
    for entry in catalogue.catalogue():
        try:
            found = declared(entry.make())
        except ValueError:
            continue
        assert found is not None, entry.name
        if entry.expect.family == "orthogonal":
            assert found.spec == entry.expect, entry.name
        else:
            assert same_law(found.spec, entry.expect), (entry.name, found.spec, entry.expect)
        read += 1
    assert read >= 10


def test_torchs_init_functions_draw_what_they_declare():
    """Each torch.nn.init function torch documents a law for (with keywords bound by a
    partial) passes verify against the spec read from it: the reading is torch's own."""
    torch = pytest.importorskip("torch")
    init = torch.nn.init
    fns = [init.uniform_, functools.partial(init.normal_, mean=0.5, std=0.02),
           functools.partial(init.trunc_normal_, std=0.02, a=-0.04, b=0.04),
           functools.partial(init.constant_, val=0.3), init.zeros_, init.ones_,
           functools.partial(init.xavier_uniform_, gain=1.5), init.xavier_normal_,
           init.kaiming_uniform_, functools.partial(init.kaiming_uniform_, a=math.sqrt(5)),
           functools.partial(init.kaiming_normal_, mode="fan_out", nonlinearity="tanh"),
           functools.partial(init.orthogonal_, gain=2.0)]
    for fn in fns:
        report = ic.verify(fn, shapes=[(256, 128), (64, 32, 3, 3)])
        assert report.passed, report
    with pytest.raises(ValueError, match="sparse_ draws no law a spec states"):
        declared(init.sparse_)


def test_verify_takes_a_framework_initializer_as_expect_or_as_its_own_claim():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    assert ic.verify(jax.nn.initializers.lecun_normal()).passed  # its closure's claim
    assert ic.verify(functools.partial(torch.nn.init.kaiming_normal_, mode="fan_out")).passed
    truncated = jax.nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")
    assert ic.verify("lecun_normal", expect=jax.nn.initializers.lecun_normal()).passed is False
    assert ic.verify(truncated, expect=jax.nn.initializers.lecun_normal()).passed
    with pytest.raises(ValueError, match=r"expect: torch.nn.init.eye_ draws no law"):
        ic.verify("he_normal", expect=torch.nn.init.eye_)
    with pytest.raises(ValueError, match="expect=3 is not a spec.*torch, jax or keras"):
        ic.verify("he_normal", expect=3)


def test_a_model_policy_written_with_the_frameworks_initializers():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(16, 64, 3), nn.Linear(64, 32))
    nn.init.kaiming_normal_(model[0].weight, mode="fan_out", nonlinearity="relu")
    nn.init.xavier_uniform_(model[1].weight)
    for m in model:
        nn.init.zeros_(m.bias)
    policy = [ic.models.rule("0.weight", functools.partial(
        nn.init.kaiming_normal_, mode="fan_out", nonlinearity="relu")),
        ic.models.rule("1.weight", nn.init.xavier_uniform_),
        ic.models.rule("*.bias", nn.init.zeros_)]
    assert policy[0].convention == "torch"  # the fans torch computes
    assert ic.check_model(model, policy).passed
    # break it: the claim read from a different initializer fails the tensor drawn otherwise
    wrong = {"0.weight": nn.init.kaiming_normal_, "1.weight": nn.init.xavier_uniform_,
             "*.bias": nn.init.zeros_}
    assert [r.name for r in ic.check_model(model, wrong).failures] == ["0.weight"]


def test_a_keras_model_policy_from_keras_initializers():
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(128, kernel_initializer="he_normal", bias_initializer="zeros")
    layer.build((None, 256))
    name = layer.kernel.path.split("/")[0]
    policy = {f"{name}.kernel": keras.initializers.HeNormal(), f"{name}.bias": "zeros"}
    assert ic.check_model(layer, policy).passed
    policy[f"{name}.kernel"] = keras.initializers.HeUniform()
    assert not ic.check_model(layer, policy).passed


def test_declared_ignores_what_is_not_a_framework_initializer():
    assert declared(lambda shape, rng: np.zeros(shape)) is None
    assert declared(ic.initializers.get("he_normal")) is None
