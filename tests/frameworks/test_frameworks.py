"""Third-party initializers: torch.nn.init, jax.nn.initializers and keras 3 initializers,
verified against the specs they document; deliberate defects fail; bad input is named.

CI installs all three frameworks, so nothing here is skipped there. The many-seed loops use
200k elements per verify (MDE about 1.3% on sigma) to stay fast; each verify spends at most
1e-6, and the ~500 calls here fail a correct initializer with probability below 5e-4."""

import math

import numpy as np
import pytest
from helpers import seeds

import initcheck as ic
import initcheck.frameworks.dispatch
from initcheck.audit import runner as audit

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
keras = pytest.importorskip("keras")

SEEDS = seeds(ci=1, wide=10)
SAMPLES = 200_000


def entries(name, *, passing=True):
    found = audit.CATALOGUES[name]()
    expected_failures = {"kaiming_normal_(fan_out), grouped conv", "trunc_normal_ (bfloat16)",
                         "trunc_normal_ (float16)"}
    return [e for e in found if (e.name in expected_failures) != passing]


def _ids(es):
    return [e.name for e in es]


def _verify(entry, seed, samples=SAMPLES, activation=None):
    """The entry's own verify, without the propagation check unless an activation is named."""
    return entry.verify(seed=seed, samples=samples, propagation=activation is not None,
                        activation=activation)


CORRECT = {(fw, e.name): e for fw in ("torch", "jax", "keras") for e in entries(fw)}


@pytest.mark.parametrize("seed", SEEDS, ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("key", list(CORRECT), ids=lambda k: f"{k[0]}:{k[1]}")
def test_correct_framework_initializers_pass_on_every_seed(key, seed):
    entry = CORRECT[key]
    report = _verify(entry, seed)
    assert report.passed, f"{entry.name} seed {seed}:\n{report}"


def test_findings_fail_for_the_stated_reason():
    found = {e.name: e for e in entries("torch", passing=False)}
    grouped = _verify(found["kaiming_normal_(fan_out), grouped conv"], 0)
    assert grouped.check("std").observed == pytest.approx(0.5, abs=0.01)  # 1/sqrt(groups)
    for name in ("trunc_normal_ (bfloat16)", "trunc_normal_ (float16)"):
        report = _verify(found[name], 0, samples=None)  # the default power, as the audit
        assert [c.name for c in report.failures] == ["atoms"], report
        assert report.check("atoms").observed > 2 * report.check("atoms").expected


def test_torch_convention_makes_the_grouped_conv_pass():
    init = lambda t, generator=None: torch.nn.init.kaiming_normal_(  # noqa: E731
        t, mode="fan_out", nonlinearity="relu", generator=generator)
    from dataclasses import replace
    layout = replace(ic.get_layout("torch"), groups=4)
    report = ic.verify(
        init,
        expect=ic.spec("he_normal", mode="fan_out"),
        framework="torch",
        layout=layout,
        convention="torch",
        shapes=[(128, 16, 3, 3), (64, 8, 1, 5)],
    )
    assert report.passed, report


def test_torch_default_linear_is_correct_but_fails_relu_propagation():
    entry = next(e for e in audit.CATALOGUES["torch"]() if e.name == "nn.Linear default")
    report = _verify(entry, 0, activation="relu")
    assert [c.name for c in report.failures] == ["propagation"]
    assert math.exp(report.check("propagation").extra["rate_q"]) == pytest.approx(1 / 6)
    # 0.41x the He std: U(-1/sqrt(n), 1/sqrt(n)) has std 1/sqrt(3 n)
    law = entry.expect.law((100, 100), "torch")
    assert law.std / math.sqrt(2 / 100) == pytest.approx(1 / math.sqrt(6), rel=1e-12)


def test_truncated_normal_conventions_differ():
    """torch: absolute bounds and the parent std; jax/keras: bounds in std units, and
    variance_scaling divides by 0.8796 so the variance is the one named."""
    x_torch = torch.nn.init.trunc_normal_(torch.empty(200_000), std=0.5,
                                          generator=torch.Generator().manual_seed(0)).numpy()
    assert x_torch.min() >= -2 and x_torch.max() > 1.9  # [-2, 2] absolute = 4 sigma
    x_jax = np.asarray(jax.nn.initializers.truncated_normal(0.5)(jax.random.key(0), (200_000,)))
    assert abs(x_jax).max() <= 1.0 and np.std(x_jax) == pytest.approx(0.5 * 0.8796, rel=0.01)
    x_vs = np.asarray(jax.nn.initializers.variance_scaling(1.0, "fan_in", "truncated_normal")(
        jax.random.key(1), (400, 500)))
    assert np.std(x_vs) == pytest.approx(1 / math.sqrt(400), rel=0.01)


# --------------------------------------------------------------- deliberate defects


def test_torch_wrong_fan_fails():
    def swapped(t, generator=None):  # fan_out where fan_in is claimed
        return torch.nn.init.kaiming_normal_(t, mode="fan_out", generator=generator)
    report = ic.verify(swapped, expect="he_normal", framework="torch")
    assert "std" in {c.name for c in report.failures}


def test_torch_wrong_bound_fails():
    def bound_is_std(t, generator=None):
        fan_in = ic.compute_fans(tuple(t.shape), "torch").fan_in
        r = math.sqrt(2 / fan_in)  # the std used as the bound
        return torch.nn.init.uniform_(t, -r, r, generator=generator)
    report = ic.verify(bound_is_std, expect="he_uniform", framework="torch")
    assert {"std", "edge"} & {c.name for c in report.failures}


def test_torch_clamped_tails_fail():
    def clamped(t, generator=None):
        torch.nn.init.normal_(t, generator=generator)
        return t.clamp_(-2, 2)

    report = ic.verify(
        clamped, expect=ic.spec("truncated_normal", a=-2.0, b=2.0), framework="torch"
    )
    assert "atoms" in {c.name for c in report.failures}


def test_keras_seed_reused_across_calls_fails():
    init = keras.initializers.HeNormal(seed=1337)
    reused = ic.frameworks.dispatch.ADAPTERS[
        "keras"
    ]  # the adapter reseeds; without it the seed repeats
    from initcheck.frameworks import keras_adapter
    report = ic.verify(
        keras_adapter.adapter(init, reseed=False),
        expect=ic.spec("variance_scaling", scale=2.0, distribution="truncated_normal"),
    )
    assert "independent_calls" in {c.name for c in report.failures}
    assert ic.verify(reused(init), expect=ic.spec("variance_scaling", scale=2.0),
                     samples=SAMPLES).passed


def test_jax_shared_key_fails():
    def same_key(key, shape, dtype=jax.numpy.float32):
        return jax.nn.initializers.he_normal()(jax.random.key(0), shape, dtype)
    report = ic.verify(same_key, expect=ic.spec("variance_scaling", scale=2.0), framework="jax")
    assert "independent_calls" in {c.name for c in report.failures}


# -------------------------------------------------------------------------- bad input


def test_torch_function_returning_a_new_tensor():
    def not_in_place(t, generator=None):
        return torch.randn(t.shape, generator=generator)

    with pytest.raises(
        ic.InitializerError, match="returned a new tensor and left its argument untouched"
    ):
        ic.verify(not_in_place, expect="normal", framework="torch")


def test_jax_factory_instead_of_initializer():
    with pytest.raises(ValueError, match="looks like an initializer factory.*glorot_uniform\\(\\)"):
        ic.verify(jax.nn.initializers.glorot_uniform, expect="xavier_uniform")


def test_jax_initializer_called_without_a_key():
    init = jax.nn.initializers.he_normal()
    with pytest.raises(ValueError, match="is a jax initializer, so framework='numpy' cannot"):
        ic.verify(init, expect="he_normal", framework="numpy")  # numpy passes (shape, rng)


def test_framework_detection():
    detect = ic.frameworks.dispatch.detect_framework
    assert detect(torch.nn.init.kaiming_normal_) == "torch"
    assert detect(jax.nn.initializers.he_normal()) == "jax"
    assert detect(keras.initializers.HeNormal()) == "keras"
    import functools
    assert detect(functools.partial(torch.nn.init.normal_, std=0.1)) == "torch"

    class Foreign:
        __module__ = "tensorflow.keras.initializers"

        def __call__(self, shape, dtype=None):
            return np.zeros(shape)
    with pytest.raises(ValueError, match="tensorflow, which initcheck has no adapter for"):
        ic.verify(Foreign(), expect="zeros")
    with pytest.raises(ValueError, match="not callable"):
        ic.verify("not an initializer", expect="zeros")


def test_missing_framework_names_the_extra(monkeypatch):
    from initcheck import frameworks
    monkeypatch.setitem(frameworks.FRAMEWORKS, "torch", ("torch_not_installed_xyz", "torch"))
    with pytest.raises(ImportError, match=r"pip install 'initcheck\[torch\]'"):
        ic.verify(lambda t: t, expect="zeros", framework="torch")


@pytest.mark.parametrize("catalogue", ["torch", "jax", "keras"])
def test_audit_of_each_framework_runs_end_to_end(catalogue):
    """Each framework's whole catalogue through the audit (the builtin one runs in the
    README's CI example, with propagation); test_audit covers how 'all' composes them."""
    result = audit.run(catalogue, alpha=1e-5, propagation=False)
    assert [e.name for e in result.entries] == [e.name for e in audit.CATALOGUES[catalogue]()]
    doc = result.to_dict()
    import jsonschema

    from initcheck.core.schema import AUDIT
    jsonschema.validate(doc, AUDIT)
    assert all(e["verdict"] in ("pass", "fail") for e in doc["initializers"])
    failing = {e["name"] for e in doc["initializers"] if e["verdict"] == "fail"}
    assert failing == {e.name for e in entries(catalogue, passing=False)}


# ------------------------------------------------ conventions outside the frameworks' modules


def timm_trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0):
    """timm's trunc_normal_ as written there (inverse CDF, then clamp), in this module so the
    test does not depend on timm (which drags a CUDA torch in through torchvision)."""
    with torch.no_grad():
        lo = (1.0 + math.erf((a - mean) / std / math.sqrt(2.0))) / 2.0
        hi = (1.0 + math.erf((b - mean) / std / math.sqrt(2.0))) / 2.0
        tensor.uniform_(2 * lo - 1, 2 * hi - 1)
        tensor.erfinv_()
        tensor.mul_(std * math.sqrt(2.0))
        tensor.add_(mean)
        tensor.clamp_(min=a, max=b)
        return tensor


def timm_trunc_normal_tf_(tensor, std=1.0):
    """timm's trunc_normal_tf_: a standard normal cut at +-2, then scaled (bounds in std units)."""
    timm_trunc_normal_(tensor)
    with torch.no_grad():
        return tensor.mul_(std)


def timm_lecun_normal_(tensor):
    """timm's variance_scaling_(tensor, mode='fan_in', distribution='truncated_normal')."""
    fan_in = ic.compute_fans(tuple(tensor.shape), "torch").fan_in
    return timm_trunc_normal_tf_(tensor, std=math.sqrt(1.0 / fan_in) / .87962566103423978)


def wrong_lecun_normal_(tensor):  # the twin: the 0.8796 correction forgotten
    fan_in = ic.compute_fans(tuple(tensor.shape), "torch").fan_in
    return timm_trunc_normal_tf_(tensor, std=math.sqrt(1.0 / fan_in))


LECUN_TRUNC = ic.spec("variance_scaling", scale=1.0, mode="fan_in", distribution="truncated_normal")


@pytest.mark.parametrize("seed", range(3))
def test_torch_style_functions_outside_torch_are_detected_and_pass(seed):
    assert ic.frameworks.dispatch.detect_framework(timm_trunc_normal_) == "torch"
    r = ic.verify(timm_trunc_normal_, expect=ic.spec("truncated_normal", a=-2.0, b=2.0), seed=seed,
                  samples=SAMPLES)
    assert r.passed and r.framework == "torch" and r.layout == "torch", r
    assert r.initializer == f"{__name__}.timm_trunc_normal_"
    assert ic.verify(timm_lecun_normal_, expect=LECUN_TRUNC, seed=seed, samples=SAMPLES).passed
    twin = ic.verify(wrong_lecun_normal_, expect=LECUN_TRUNC, seed=seed, samples=SAMPLES)
    assert "std" in {c.name for c in twin.failures}


def test_a_callable_of_no_known_convention_names_the_framework_to_pass():
    def neither(a, b, c, d):
        return None
    with pytest.raises(ic.InitializerError, match="pass framework='torch', 'jax' or 'keras'"):
        ic.verify(neither, expect="he_normal")


DENSE_GENERAL = ic.spec("variance_scaling", scale=1.0, mode="fan_avg", distribution="normal")


@pytest.mark.parametrize("seed", range(3))
def test_jax_variance_scaling_with_tuple_axes(seed):
    """in_axis=(0, 1): a DenseGeneral kernel. The layout comes from the initializer's own
    closure; given explicitly it is the same; read as keras's (*k, in, out), the std is off."""
    init = jax.nn.initializers.variance_scaling(
        1.0, "fan_avg", "normal", in_axis=(0, 1), out_axis=-1
    )
    report = ic.verify(init, expect=DENSE_GENERAL, seed=seed, samples=SAMPLES)
    assert report.passed and "in_axis=(0, 1)" in report.layout, report
    explicit = ic.Layout("dense_general", in_axis=(0, 1), out_axis=-1)
    assert ic.verify(init, expect=DENSE_GENERAL, layout=explicit, seed=seed, samples=SAMPLES).passed
    misread = ic.verify(init, expect=DENSE_GENERAL, layout="jax", seed=seed, samples=SAMPLES)
    assert "std" in {c.name for c in misread.failures}


def test_jax_batch_and_several_out_axes_and_a_function_without_dtype():
    init = jax.nn.initializers.variance_scaling(2.0, "fan_out", "uniform", in_axis=-3,
                                                out_axis=(-2, -1), batch_axis=0)
    report = ic.verify(init, expect=ic.spec("variance_scaling", scale=2.0, mode="fan_out",
                                            distribution="uniform"), samples=SAMPLES)
    assert report.passed and all(len(s) >= 4 for s in report.shapes if len(s) > 1), report

    def no_dtype(key, shape):
        return jax.random.normal(key, shape) * math.sqrt(2.0 / ic.compute_fans(shape).fan_in)
    r = ic.verify(no_dtype, expect="he_normal", framework="jax", samples=SAMPLES)
    assert r.passed and "dtype" not in {c.name for c in r.checks}, r


# ------------------------------------------- a failure says which convention the samples match


def test_a_failed_claim_names_the_convention_the_samples_follow():
    """jax's he_normal is truncated; torch's xavier_normal_ is not; torch reads a grouped
    conv's fan_out without the groups. Claimed the other way, each fails, and says so."""
    jax_he = ic.verify(jax.nn.initializers.he_normal(), expect="he_normal", samples=SAMPLES)
    assert not jax_he.passed and len(jax_he.meta["matches"]) == 1
    assert "distribution='truncated_normal'" in jax_he.meta["matches"][0]
    with pytest.raises(
        AssertionError, match="the samples match spec\\('variance_scaling', scale=2.0"
    ):
        jax_he.raise_for_failure()

    truncated = ic.spec(
        "variance_scaling", scale=1.0, mode="fan_avg", distribution="truncated_normal"
    )
    torch_x = ic.verify(torch.nn.init.xavier_normal_, expect=truncated, samples=SAMPLES)
    assert torch_x.meta["matches"] == [
        "spec('variance_scaling', scale=1.0, mode='fan_avg', distribution='normal') (untruncated,"
        " as torch and the papers mean it)"]

    grouped = next(e for e in audit.CATALOGUES["torch"]() if "grouped" in e.name)
    report = _verify(grouped, 0)
    assert any("convention='torch'" in m for m in report.meta["matches"]), report


def test_a_failure_no_convention_explains_says_nothing_more():
    def too_wide(t, generator=None):
        torch.nn.init.kaiming_normal_(t, generator=generator)
        return t.mul_(1.5)
    report = ic.verify(too_wide, expect="he_normal", samples=SAMPLES)
    assert not report.passed and report.meta["matches"] == []


def test_packed_qkv_gives_each_projection_0707_of_its_xavier_std():
    """nn.MultiheadAttention runs xavier_uniform_ on the packed (3E, E) in-projection: each
    projection, read as the (E, E) layer it is, has std sqrt((E + E) / (3E + E)) = 0.707x."""
    from initcheck.audit.catalogues.torch import module_default
    packed = module_default("attention", "in_proj_weight")

    def q_projection(t, generator=None):
        full = torch.empty(3 * t.shape[0], t.shape[1])
        packed(full, generator)
        with torch.no_grad():
            return t.copy_(full[: t.shape[0]])
    report = ic.verify(q_projection, expect="xavier_uniform", framework="torch",
                       shapes=[(64, 64), (128, 128), (256, 256)])
    assert report.check("std").observed == pytest.approx(math.sqrt(0.5), abs=0.01)
