"""check_model on models built by each framework: a model fresh from its constructor passes
its framework's built-in policy; one whose own init code ran, or one broken on purpose,
fails naming the tensor. Policies: globs, module types, composite and relative claims,
TOML; bad policies are one-line errors."""

import json
import math
import re

import jsonschema
import numpy as np
import pytest

import initcheck as ic
from initcheck.core.schema import MODEL_REPORT
from initcheck.models import Except, Relative, Split, rule

torch = pytest.importorskip("torch")
nn = torch.nn


def torch_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 64, 3), nn.BatchNorm2d(64), nn.Conv2d(64, 64, 3, groups=8),
        nn.ConvTranspose2d(64, 32, 3), nn.Flatten(), nn.Linear(512, 256), nn.LayerNorm(256),
        nn.Embedding(1000, 64, padding_idx=3), nn.MultiheadAttention(64, 4), nn.LSTM(32, 64),
        nn.PReLU())


def test_torch_modules_pass_the_torch_policy_and_buffers_are_checked():
    r = ic.check_model(torch_model(), "torch")
    assert r.passed, r.failure_message()
    assert r.row("1.num_batches_tracked").verdict == "pass"  # an int64 buffer: exact value
    assert r.row("7.weight").rule is not None
    assert not r.unmatched
    jsonschema.validate(json.loads(r.to_json()), MODEL_REPORT)
    assert "PASS" in str(r).splitlines()[0]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16", "float64"])
def test_models_in_every_float_dtype_pass(dtype):
    r = ic.check_model(torch_model().to(getattr(torch, dtype)), "torch")
    assert r.passed, r.failure_message()
    assert r.row("5.weight").dtype == dtype


@pytest.mark.parametrize("breaks, tensor, check", [
    (lambda m: m[5].weight.mul_(1.05), "5.weight", "std"),
    (lambda m: m[7].weight[3].normal_(), "7.weight", "support"),  # padding row not zero
    (lambda m: m[2].weight.copy_(m[2].weight * 0 + m[2].weight[:1]), "2.weight", "distinct_units"),
    (lambda m: m[8].in_proj_bias.uniform_(-0.1, 0.1), "8.in_proj_bias", "support"),
    (lambda m: nn.init.kaiming_normal_(m[0].weight), "0.weight", "support"),
])
def test_a_broken_twin_fails_naming_the_tensor(breaks, tensor, check):
    m = torch_model()
    with torch.no_grad():
        breaks(m)
    r = ic.check_model(m, "torch")
    assert not r.passed
    row = r.row(tensor)
    assert row.verdict == "FAIL" and check in row.failed, str(r)
    assert [x.name for x in r.failures] == [tensor]
    first_fail = next(line for line in str(r).splitlines() if line.startswith("  FAIL"))
    assert tensor in r.failure_message() and tensor in first_fail


def test_tied_parameters_are_checked_once_under_every_name_and_copies_fail():
    emb = nn.Embedding(500, 64)
    head = nn.Linear(64, 500, bias=False)
    head.weight = emb.weight  # tied, as language models tie their embeddings
    model = nn.ModuleDict({"emb": emb, "head": head, "other": nn.Embedding(500, 64)})
    pol = [rule("*.weight", "normal", module=("Embedding", "Linear"))]
    r = ic.check_model(model, pol)
    assert r.passed, r.failure_message()
    assert r.row("head.weight").names == ("emb.weight", "head.weight")
    with torch.no_grad():
        model["other"].weight.copy_(emb.weight)  # a copy, not a tie: the same draw twice
    r = ic.check_model(model, pol)
    # an exact copy is a near copy too: both model-wide checks name it, the copy only
    assert not r.passed and r.row("other.weight").failed == ("distinct_tensors", "near_copies")
    assert [row.name for row in r.failures] == ["other.weight"]
    assert "holds the same values as emb.weight" in r.failure_message()


def test_pooling_gives_power_that_each_small_tensor_lacks():
    """48 layers of 32x32, all 2.5% too wide: alone, each tensor's std test sees z ~ 1.1
    against a critical 4.8; pooled, z ~ 7.8 (power > 0.999). The group fails, no tensor."""
    torch.manual_seed(1)
    model = nn.Sequential(*[nn.Linear(32, 32, bias=False) for _ in range(48)])
    with torch.no_grad():
        for layer in model:
            nn.init.normal_(layer.weight, std=0.03 * 1.025)
    r = ic.check_model(model, [rule("*.weight", ic.spec("normal", std=0.03))], alpha=1e-3)
    assert not r.passed and not r.failures  # no single tensor fails ...
    (group,) = r.groups
    assert [c.name for c in group.pooled_failures] == ["std"]  # ... their pooled test does
    std = next(c for c in group.checks if c.name == "std")
    assert std.extra["where"] == "pooled"
    assert group.mde < 0.025 < std.extra["parts"][1]["mde"]
    assert "48 tensors pooled: std" in r.failure_message()


def test_composite_and_relative_claims():
    torch.manual_seed(2)
    qkv = nn.Linear(64, 192)
    with torch.no_grad():
        qkv.weight[:64].normal_(0, 0.01)
        qkv.weight[64:].normal_(0, 0.02)
        qkv.bias.uniform_(-1 / 8, 1 / 8)
    model = nn.ModuleDict({"qkv": qkv})
    bound = ic.spec("variance_scaling", scale=1 / 3, mode="fan_in", distribution="uniform")
    small, big = ic.spec("normal", std=0.01), ic.spec("normal", std=0.02)
    good = [rule("qkv.weight", Split(0, (small, big, big))),
            rule("qkv.bias", Relative(bound, of="weight"), convention="torch")]
    r = ic.check_model(model, good)
    assert r.passed, r.failure_message()
    assert {g.claim for g in r.groups} >= {repr(small), repr(big)}
    swapped = [rule("qkv.weight", Split(0, (big, small, big))), good[1]]
    r = ic.check_model(model, swapped)
    assert r.row("qkv.weight").verdict == "FAIL"
    assert "qkv.weight[0:64]" in r.failure_message()
    explicit = [rule("qkv.weight", Except(big, {0: small, 1: small}, axis=0)), good[1]]
    assert not ic.check_model(model, explicit).passed  # rows 2..63 are small too


def test_toml_policy_gives_the_python_policys_verdicts(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("""
name = "mine"
[[rule]]
match = "*.weight"
module = "Embedding"
spec = "normal"
except = [{index = "padding_idx", spec = "zeros"}]
[[rule]]
match = "*"
skip = true
""")
    torch.manual_seed(3)
    model = nn.ModuleDict({"e": nn.Embedding(300, 32, padding_idx=0), "l": nn.Linear(3, 3)})
    r = ic.check_model(model, str(path), strict=True)
    assert r.passed and r.policy == "mine", r.failure_message()
    assert r.row("l.weight").verdict == "skip"
    with torch.no_grad():
        model["e"].weight[0] = 1.0
    assert ic.check_model(model, path).row("e.weight").failed == ("support",)


def test_coverage_is_part_of_the_verdict():
    """A built-in policy must claim every float tensor: the Bilinear it does not know keeps the
    model from passing, named; extended with a rule for it, the model passes. A user's policy
    leaves unclaimed tensors out unless strict. A check that checked nothing never passes.
    The coverage (tensors and elements checked, skipped, unclaimed) leads the report."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16), nn.Bilinear(4, 4, 4))
    r = ic.check_model(model, "torch")
    assert not r.passed and [x.name for x in r.uncovered] == ["1.weight", "1.bias"]
    assert "the built-in 'torch' policy must claim every float tensor" in " ".join(
        r.failure_message().split())
    assert r.coverage.checked == (2, 272) and r.coverage.unclaimed == (2, 68)
    assert "\n  coverage: checked 2 tensors (272 elements" in str(r)
    bound = ic.spec("uniform", low=-0.5, high=0.5)  # 1/sqrt(in1_features) = 1/2
    pol = ic.models.as_policy("torch").extended(rule("1.*", bound, module="Bilinear"))
    assert ic.check_model(model, pol).passed
    kaiming = ic.spec("he_uniform", nonlinearity="leaky_relu", a=5**0.5)
    mine = [rule("0.weight", kaiming, convention="torch"), rule("0.bias", "skip")]
    assert ic.check_model(model, mine).passed
    r = ic.check_model(model, mine, strict=True)
    assert not r.passed and r.unmatched == ("1.weight", "1.bias")
    nothing = ic.check_model(model, [rule("*", "skip")])
    assert not nothing.passed and "nothing was checked" in nothing.failure_message()


def test_flax_linen_and_nnx_pass_the_flax_policy_and_break():
    jax = pytest.importorskip("jax")
    pytest.importorskip("flax")
    import flax.linen as ln
    from flax import nnx

    class Net(ln.Module):
        @ln.compact
        def __call__(self, x):
            x = ln.Conv(32, (3, 3), feature_group_count=4)(x)
            x = ln.BatchNorm(use_running_average=True)(x)
            x = ln.LayerNorm()(x.reshape(x.shape[0], -1))
            return ln.Dense(10)(ln.Dense(256)(x))

    variables = Net().init(jax.random.key(0), jax.numpy.ones((1, 6, 6, 8)))
    r = ic.check_model(variables, "flax")
    assert r.passed and r.framework == "jax", r.failure_message()
    assert r.row("params.Dense_0.kernel").match.startswith("*.kernel in Dense/Linear")
    broken = jax.tree_util.tree_map(lambda x: x, variables)
    broken["params"]["Dense_0"]["kernel"] = broken["params"]["Dense_0"]["kernel"] * 1.05
    r = ic.check_model(broken, "flax")
    assert [x.name for x in r.failures] == ["params.Dense_0.kernel"]

    class Block(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(256, 128, rngs=rngs)
            self.embed = nnx.Embed(500, 64, rngs=rngs)
            self.norm = nnx.LayerNorm(128, rngs=rngs)

    block = Block(nnx.Rngs(0))
    r = ic.check_model(block, "flax")
    assert r.passed and r.framework == "flax", r.failure_message()
    block.embed.embedding.value = block.embed.embedding.value * 2
    assert [x.name for x in ic.check_model(block, "flax").failures] == ["embed.embedding"]


def test_keras_and_equinox_models():
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(16, 3),
                              keras.layers.Flatten(), keras.layers.Dense(64),
                              keras.layers.LayerNormalization()])
    r = ic.check_model(model, "keras")
    assert r.passed and r.framework == "keras", r.failure_message()
    jax = pytest.importorskip("jax")
    eqx = pytest.importorskip("equinox")
    mlp = eqx.nn.MLP(64, 32, 128, 2, key=jax.random.key(0))
    bound = ic.spec("variance_scaling", scale=1 / 3, mode="fan_in", distribution="uniform")
    pol = [rule("*.weight", bound, module="Linear"),  # equinox stores (out, in), like torch
           rule("*.bias", Relative(bound), module="Linear")]
    r = ic.check_model(mlp, pol)
    assert r.passed and r.framework == "equinox", r.failure_message()
    assert r.row("layers.0.weight").shape == (128, 64)


@pytest.mark.parametrize("policy, match", [
    ([rule("*.wieght", "normal")], r"rule 1 \(\*\.wieght\).*matches no tensor.*closest names"),
    ([rule("*.bias", "orthogonal")], "orthogonal.*does not fit 0.bias"),
    ([rule("*.bias", Relative(ic.spec("he_normal"), of="kernel"))], "relative to 'kernel'"),
    ([rule("*.weight", Split(0, ("zeros", "zeros", "zeros")))], "does not split into 3"),
    ("pytorch", "policy='pytorch' is not supported. Did you mean 'torch'"),
])
def test_bad_policies_are_one_line_errors(policy, match):
    with pytest.raises(ValueError, match=match):
        ic.check_model(nn.Sequential(nn.Linear(4, 4)), policy)


def test_bad_rules_and_models_are_refused(tmp_path):
    with pytest.raises(ValueError, match="name='he_nromal' is not supported. Did you mean"):
        rule("*", "he_nromal")
    with pytest.raises(ValueError, match="not a model initcheck can read"):
        ic.check_model(object(), "torch")
    bad = tmp_path / "p.toml"
    bad.write_text('[[rule]]\nmatch = "*"\nspec = "normal"\nparams = {sd = 1}\n')
    with pytest.raises(ValueError, match=r"p.toml rule 1 \('\*'\): .*sd"):
        ic.check_model(nn.Linear(2, 2), bad)
    bad.write_text('[[rule]]\nmatch = "*"\n')
    with pytest.raises(ValueError, match="exactly one of skip"):
        ic.check_model(nn.Linear(2, 2), bad)


def test_check_model_uses_whole_model_bonferroni():
    r = ic.check_model(torch_model(), "torch", alpha=1e-4)
    assert r.alpha_spent == pytest.approx(1e-4)
    assert all(math.isnan(g.mde) or g.mde > 0 for g in r.groups)
    assert np.isfinite([g.alpha for g in r.groups]).all()


@pytest.mark.parametrize("head_first", [False, True])
def test_a_tied_tensor_takes_the_first_rule_that_matches_any_of_its_names(head_first):
    """First match wins over all of a tied tensor's names, each read with its own module: an
    Embedding rule (padding row zero) before a Linear rule claims the tied embedding/head
    whichever module registered it first (XLM-R registers its lm_head before the encoder),
    and the Linear rule, matching only the tie's other name, is not "unused"."""
    torch.manual_seed(0)
    emb = nn.Embedding(500, 64, padding_idx=0)
    head = nn.Linear(64, 500, bias=False)
    head.weight = emb.weight
    parts = {"head": head, "emb": emb} if head_first else {"emb": emb, "head": head}
    model = nn.ModuleDict(parts)
    pol = [rule("*.weight", Except("normal", {"padding_idx": "zeros"}), module="Embedding"),
           rule("*.weight", "xavier_uniform", module="Linear")]
    r = ic.check_model(model, pol)
    assert r.passed, r.failure_message()
    row = r.row("emb.weight")
    assert row.rule == 1 and row.via == ("emb.weight" if head_first else None)
    assert row.names == (("head.weight", "emb.weight") if head_first
                         else ("emb.weight", "head.weight"))
    with torch.no_grad():
        emb.weight[0] = 1.0  # the padding row, claimed zero through the embedding's name
    failed = ic.check_model(model, pol)
    assert not failed.passed and failed.row("emb.weight").failed
    assert "rule 1 via emb.weight" in failed.failure_message() or not head_first


def test_relative_claims_read_a_stacked_bias_in_its_own_rank():
    """An ensemble stacked with torch.func.stack_module_state holds weights (L, out, in) and
    biases (L, out); a stacked layout (batch axis 0) fits the weights, and the biases'
    Relative claim resolves the bound at the stacked weight's shape while their own values
    are read in their rank (this raised "axes must be distinct"). A bias drawn 1.5x wide
    fails, naming it. Each check spends at most the default 1e-6."""
    torch.manual_seed(0)
    params, _ = torch.func.stack_module_state([nn.Linear(32, 64) for _ in range(4)])
    stacked = ic.Layout("stacked torch", in_axis=-1, out_axis=-2, batch_axes=(0,))
    bound = ic.spec("variance_scaling", scale=1 / 3, mode="fan_in", distribution="uniform")
    pol = [rule("weight", bound, layout=stacked),
           rule("bias", Relative(bound, of="weight"), layout=stacked)]
    tree = {k: v.detach() for k, v in params.items()}
    assert ic.check_model(tree, pol).passed
    tree["bias"] = tree["bias"] * 1.5
    assert [row.name for row in ic.check_model(tree, pol).failures] == ["bias"]


def test_a_bare_flax_pytree_the_flax_policy_cannot_read_does_not_pass():
    """Parameters without their modules carry no module type: an nnx Linear's pure dict and
    a linen model written in setup() style (``self.fc1 = nn.Dense(...)``: keys 'fc1', no class
    in them) used to PASS with nothing checked, even with a kernel doubled. Now nothing
    checked is no pass, and the tensors the built-in policy cannot claim are named, with
    why; the nnx module itself passes."""
    pytest.importorskip("flax")
    import flax.linen as ln
    import jax
    from flax import nnx

    bare = nnx.state(nnx.Linear(128, 256, rngs=nnx.Rngs(0))).to_pure_dict()
    r = ic.check_model(bare, "flax")
    assert not r.passed and r.coverage.checked == (0, 0)
    assert "nothing was checked" in r.failure_message()
    assert "2 of them with no module type" in r.failure_message()
    assert ic.check_model(nnx.Linear(128, 256, rngs=nnx.Rngs(0)), "flax").passed

    class Setup(ln.Module):
        def setup(self):
            self.fc1 = ln.Dense(64)

        def __call__(self, x):
            return self.fc1(x)

    params = Setup().init(jax.random.PRNGKey(0), jax.numpy.ones((1, 32)))["params"]
    params = jax.tree_util.tree_map(lambda x: x, params)
    params["fc1"]["kernel"] = params["fc1"]["kernel"] * 2.0
    r = ic.check_model(params, "flax")
    assert not r.passed and "fc1.kernel" in r.failure_message()


def test_a_linen_module_with_its_variables_says_its_submodules_types():
    """Given with its variables (or bound), a linen model written in setup() style is read
    with each submodule's class, so the flax policy claims every tensor, and a doubled
    kernel fails, named (as a bare params dict it could only be reported unclaimed)."""
    pytest.importorskip("flax")
    import flax.linen as ln
    import jax

    class Inner(ln.Module):
        def setup(self):
            self.proj = ln.Dense(8)

        def __call__(self, x):
            return self.proj(x)

    class Setup(ln.Module):
        def setup(self):
            self.fc1 = ln.Dense(64)
            self.block = Inner()

        def __call__(self, x):
            return self.block(self.fc1(x))

    model = Setup()
    variables = model.init(jax.random.PRNGKey(0), jax.numpy.ones((1, 32)))
    r = ic.check_model((model, variables), "flax")
    assert r.passed and r.coverage.unclaimed == (0, 0) and r.model == "Setup"
    doubled = jax.tree_util.tree_map(lambda a: a, variables)
    doubled["params"]["fc1"]["kernel"] = doubled["params"]["fc1"]["kernel"] * 2.0
    for given in ((model, doubled), model.bind(doubled)):
        assert [x.name for x in ic.check_model(given, "flax").failures] == ["params.fc1.kernel"]


def test_rules_take_classes_and_dicts_and_a_shadowed_rule_is_named():
    """``module=`` takes a class or a dotted name as well as a class name; a dict
    ``{glob: claim}`` is an ordered policy; a rule whose every tensor an earlier rule claims
    is reported as shadowed by it, not as matching nothing (the closest names listed were
    the very tensors it matches)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16), nn.Conv2d(3, 8, 3))
    kaiming = ic.spec("he_uniform", nonlinearity="leaky_relu", a=5**0.5)
    for module in (nn.Conv2d, "torch.nn.Conv2d", "Conv2d", [nn.Conv2d, "Linear"]):
        r = ic.check_model(model, [rule("*.weight", kaiming, module=module, convention="torch"),
                                   rule("*", "skip")])
        conv = r.row("1.weight")
        assert r.passed and conv.rule == 1 and conv.verdict == "pass", module
    assert ic.check_model(model, {"*.weight": kaiming, "*.bias": "skip"}).passed
    with pytest.raises(ValueError, match=r"rule 2 \(0.weight\).*is shadowed.*by rule 1"):
        ic.check_model(model, [rule("*.weight", kaiming), rule("0.weight", "he_normal"),
                               rule("*.bias", "skip")])
    with pytest.raises(ValueError, match="module=3"):
        rule("*", "skip", module=3)


def test_failures_say_what_the_tensor_holds():
    """An exact-value claim that fails says what the values are ("every value is 0.99" where
    ones are claimed; a running variance of 0), and a zero row among random ones is named as
    such, not as an infinite statistic. Deterministic checks (support) and a Bartlett test at
    p = 0: no false alarm budget is at stake."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.LayerNorm(64), nn.BatchNorm1d(128))
    with torch.no_grad():
        model[1].weight.fill_(0.99)
        model[0].weight[7] = 0
        model[2].running_var.fill_(0.0)
    text = " ".join(ic.check_model(model, "torch").failure_message().split())
    assert "64 of 64 values are not the claimed 1; every value is 0.99" in text
    assert "128 of 128 values are not the claimed 1; every value is 0" in text
    assert "unit(s) constant among varying ones (unit 7" in text and "inf" not in text


def test_every_failed_tensor_says_what_it_looks_like_constants_included():
    """Eight tensors scaled 2x (the report explained the first five only) each get a law
    they look like, the weights' within 1% of twice He's bound; norm tensors that hold
    another constant than the claimed one say which ("looks like: spec('zeros')"). A zero
    row among 3000 is named by its index in the tensor, past the slices the check reads."""
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(96, 96) for _ in range(4)], nn.LayerNorm(96))
    with torch.no_grad():
        for layer in model[:4]:
            layer.weight.mul_(2)
            layer.bias.mul_(2)
        model[4].weight.zero_()
        model[4].bias.fill_(0.25)
    report = ic.check_model(model, "torch")
    failed = {row.name: row for row in report.failures}
    assert len(failed) == 10 and all(row.looks_like for row in failed.values()), failed
    bound = 2 / 96**0.5  # torch's U(+-1/sqrt(fan_in)), doubled
    for k in range(4):
        claim = failed[f"{k}.weight"].looks_like[0].claim
        high = re.fullmatch(r"spec\('uniform', low=-([0-9.e-]+), high=([0-9.e-]+)\)", claim)
        assert high and abs(float(high[2]) / bound - 1) < 0.01, claim
    assert failed["4.weight"].looks_like[0].claim == "spec('zeros')"
    assert failed["4.bias"].looks_like[0].claim == "spec('constant', value=0.25)"
    assert "every value is 0.25" in str(failed["4.bias"].looks_like[0])
    from initcheck import stats

    n = 3000
    index = int(stats.spaced(n, stats.MAX_SLICES)[5])
    w = np.random.default_rng(0).normal(0, 0.02, (n, 64))
    w[index] = 0
    text = ic.check_tensor(w, ic.spec("normal", std=0.02)).failure_message()
    assert f"axis 0: slice {index} is all at the claimed mean" in text


def test_a_projected_lstm_passes_torchs_policy_and_a_scaled_one_fails():
    """torch draws every RNN tensor from U(+-1/sqrt(hidden_size)); with proj_size, weight_hh's
    fan_in is proj_size, so the bound is read from weight_hr (hidden_size in) where the module
    has one (it failed every tensor). Each check spends at most 1e-6."""
    torch.manual_seed(0)
    lstm = nn.LSTM(64, 128, num_layers=2, proj_size=16)
    assert ic.check_model(lstm, "torch").passed
    with torch.no_grad():
        lstm.weight_ih_l1.mul_(1.5)
    assert [x.name for x in ic.check_model(lstm, "torch").failures] == ["weight_ih_l1"]


def test_keras_multi_head_attention_passes_with_its_einsum_fans():
    """keras 3 gives EinsumDense kernels' VarianceScaling their input and output axes, so
    MultiHeadAttention's query/key/value (dim, heads, key_dim) and output kernels have
    logical fans over them (read from each layer's equation); the keras policy failed them
    at 3.2x and 1.6x. A query kernel scaled 1.2x fails, named. Each check spends <= 1e-6."""
    keras = pytest.importorskip("keras")
    from initcheck.models.collect_keras import einsum_layout

    keras.utils.set_random_seed(0)
    mha = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16)
    x = np.zeros((2, 8, 64), "float32")
    mha(x, x)
    assert ic.check_model(mha, "keras").passed
    mha._query_dense.kernel.assign(mha._query_dense.kernel.numpy() * 1.2)
    failed = ic.check_model(mha, "keras").failures
    assert [row.name for row in failed] == ["multi_head_attention.query.kernel"]
    layer = type("L", (), {"equation": "abc,cde->abde"})()
    lay = einsum_layout(layer)
    assert ic.compute_fans((64, 4, 16), lay) == ic.Fans(fan_in=64, fan_out=64, receptive_field=1)


def test_optional_rules_may_match_nothing_in_python_and_toml(tmp_path):
    """A policy written for several models marks the rules a model may not need ``optional``
    (in TOML too: per rule, or ``optional = true`` for the whole policy); any other rule that
    matches nothing is still an error."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 16))
    kaiming = ic.spec("he_uniform", nonlinearity="leaky_relu", a=5**0.5)
    conv = rule("*.weight", "normal", module="Conv2d")
    rest = [rule("0.weight", kaiming, convention="torch"), rule("*.bias", "skip")]
    with pytest.raises(ValueError, match="matches no tensor"):
        ic.check_model(model, [conv, *rest])
    optional = rule("*.weight", "normal", module="Conv2d", optional=True)
    assert ic.check_model(model, [optional, *rest]).passed
    path = tmp_path / "p.toml"
    path.write_text('name = "mine"\n[[rule]]\nmatch = "*.weight"\nmodule = "Conv2d"\n'
                    'spec = "normal"\noptional = true\n[[rule]]\nmatch = "0.weight"\n'
                    'spec = "he_uniform"\nparams = {nonlinearity = "leaky_relu", a = 2.2360679'
                    '77499789}\nconvention = "torch"\n[[rule]]\nmatch = "*.bias"\nskip = true\n')
    assert ic.check_model(model, path).passed


def test_flax_general_dense_layers_and_attention_pass_the_flax_policy():
    """flax draws a general dense kernel (batch, in..., out...) as the flat (batch x in, out)
    matrix: read with those axes, nnx LinearGeneral and MultiHeadAttention, and a linen
    DenseGeneral given with its variables, pass the flax policy (their kernels were left
    unclaimed); a query kernel scaled 1.3x fails, named. Each check spends <= 1e-6."""
    pytest.importorskip("flax")
    import flax.linen as ln
    import jax
    from flax import nnx

    mha = nnx.MultiHeadAttention(num_heads=4, in_features=64, qkv_features=64, decode=False,
                                 rngs=nnx.Rngs(0))
    r = ic.check_model(mha, "flax")
    assert r.passed and r.coverage.unclaimed == (0, 0)
    assert ic.check_model(nnx.LinearGeneral((8, 16), (4, 32), axis=(-2, -1),
                                            rngs=nnx.Rngs(1)), "flax").passed
    mha.query.kernel.value = mha.query.kernel.value * 1.3
    assert [x.name for x in ic.check_model(mha, "flax").failures] == ["query.kernel"]

    class Net(ln.Module):
        def setup(self):
            self.proj = ln.DenseGeneral(features=(4, 16), axis=-1)

        def __call__(self, x):
            return self.proj(x)

    net = Net()
    variables = net.init(jax.random.PRNGKey(0), jax.numpy.ones((2, 64)))
    assert ic.check_model((net, variables), "flax").passed


def test_keras_policy_covers_depthwise_separable_transposed_and_recurrent_layers():
    """keras's DepthwiseConv2D, SeparableConv2D, Conv2DTranspose kernels (glorot_uniform,
    keras's fans), LSTM/GRU/SimpleRNN kernels (glorot_uniform), recurrent kernels
    (Orthogonal) and biases (zeros; an LSTM's forget quarter ones, unit_forget_bias) are
    claimed: such models pass the keras policy with every tensor checked; a recurrent kernel
    scaled 1.1x, or an LSTM forget bias left at zero, fails. Each check spends <= 1e-6."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    inp = keras.Input((16, 16, 8))
    x = keras.layers.DepthwiseConv2D(3)(inp)
    x = keras.layers.SeparableConv2D(16, 3)(x)
    conv = keras.Model(inp, keras.layers.Conv2DTranspose(8, 3)(x))
    seq = keras.Input((10, 8))
    y = keras.layers.GRU(32, return_sequences=True)(
        keras.layers.LSTM(32, return_sequences=True)(seq)
    )
    rnn = keras.Model(seq, keras.layers.SimpleRNN(16)(y))
    for model in (conv, rnn):
        r = ic.check_model(model, "keras")
        assert r.passed and r.coverage.unclaimed == (0, 0), r.failure_message()
    lstm = rnn.layers[1].cell
    lstm.recurrent_kernel.assign(lstm.recurrent_kernel.numpy() * 1.1)
    assert [x.name for x in ic.check_model(rnn, "keras").failures] == [
        "lstm.lstm_cell.recurrent_kernel"]
    lstm.recurrent_kernel.assign(lstm.recurrent_kernel.numpy() / 1.1)
    lstm.bias.assign(np.zeros(lstm.bias.shape, "float32"))
    assert [x.name for x in ic.check_model(rnn, "keras").failures] == ["lstm.lstm_cell.bias"]


def test_an_equinox_model_passes_the_equinox_policy():
    """The built-in "equinox" policy: Linear and Conv (grouped too) weights and biases
    U(+-1/sqrt(fan_in)) with the weight's fan_in, Embedding N(0, 1), LayerNorm ones and zeros;
    MultiheadAttention is Linears. Every tensor of such a model is checked and passes; a
    grouped Conv's weight scaled 1.3x fails, named. Each check spends <= 1e-6."""
    pytest.importorskip("equinox")
    import equinox as eqx
    import jax

    class Net(eqx.Module):
        lin: eqx.nn.Linear
        conv: eqx.nn.Conv2d
        emb: eqx.nn.Embedding
        norm: eqx.nn.LayerNorm
        att: eqx.nn.MultiheadAttention

        def __init__(self, key):
            k = jax.random.split(key, 4)
            self.lin = eqx.nn.Linear(64, 128, key=k[0])
            self.conv = eqx.nn.Conv2d(8, 16, 3, groups=4, key=k[1])
            self.emb = eqx.nn.Embedding(100, 32, key=k[2])
            self.norm = eqx.nn.LayerNorm(64)
            self.att = eqx.nn.MultiheadAttention(4, 64, key=k[3])

    net = Net(jax.random.PRNGKey(0))
    r = ic.check_model(net, "equinox")
    assert r.passed and r.coverage.unclaimed == (0, 0), r.failure_message()
    wider = eqx.tree_at(lambda m: m.conv.weight, net, net.conv.weight * 1.3)
    assert [x.name for x in ic.check_model(wider, "equinox").failures] == ["conv.weight"]


def test_a_haiku_params_dict_passes_the_haiku_policy():
    """haiku names modules in its params (``mlp/~/linear_0`` is a Linear, ``conv2_d`` a Conv2D):
    the "haiku" policy claims every tensor of an MLP, a Conv2D, an Embed and a LayerNorm
    (weights TruncatedNormal(1/sqrt(fan_in)) not widened, biases zero, embeddings
    TruncatedNormal(1), scale one, offset zero); a linear's weights scaled 1.2x fail, named.
    Each check spends <= 1e-6."""
    hk = pytest.importorskip("haiku")
    import jax

    def net(x):
        h = hk.nets.MLP([256, 128])(x)
        c = hk.Conv2D(32, 3)(x.reshape(2, 8, 8, 4))
        e = hk.Embed(1000, 64)(np.zeros((2,), "int32"))
        return hk.LayerNorm(-1, True, True)(h), c, e

    params = hk.transform(net).init(jax.random.PRNGKey(0), np.ones((2, 256), "float32"))
    r = ic.check_model(params, "haiku")
    assert r.passed and r.coverage.unclaimed == (0, 0), r.failure_message()
    params = jax.tree_util.tree_map(lambda a: a, params)
    params["mlp/~/linear_0"]["w"] = params["mlp/~/linear_0"]["w"] * 1.2
    assert [x.name for x in ic.check_model(params, "haiku").failures] == ["mlp/~/linear_0.w"]


def test_a_rule_inside_a_module_class_claims_only_what_that_module_encloses(tmp_path):
    """``inside=`` reads the modules enclosing a tensor's module: flax's recurrent cells hold
    their hidden-to-hidden kernels in plain Linear submodules, drawn orthogonal; the flax
    preset claims them through it (they failed, or passed a lecun claim by luck of size).
    A torch rule inside one block claims that block's Linear only, in Python and TOML."""
    pytest.importorskip("flax")
    from flax import nnx

    cell = nnx.GRUCell(32, 48, rngs=nnx.Rngs(0))
    report = ic.check_model(cell, "flax")
    match = report.row("dense_h.kernel").match
    assert report.passed and "inside" in match and "GRUCell" in match, match
    cell.dense_h.kernel[...] = np.random.default_rng(0).normal(0, 48**-0.5, (48, 144))
    assert [r.name for r in ic.check_model(cell, "flax").failures] == ["dense_h.kernel"]

    torch.manual_seed(0)
    block = nn.Sequential(nn.Linear(16, 16))
    model = nn.Sequential(nn.Linear(16, 16), nn.ModuleList([block]))
    with torch.no_grad():
        block[0].weight.zero_()
    inner = rule("*.weight", "zeros", module="Linear", inside="ModuleList")
    policy = ic.models.as_policy("torch").extended(inner)
    report = ic.check_model(model, policy)
    assert report.passed and report.row("1.0.0.weight").rule == 1
    assert report.row("0.weight").rule != 1  # not inside a ModuleList
    path = tmp_path / "p.toml"
    path.write_text('[[rule]]\nmatch = "*.weight"\ninside = "ModuleList"\nspec = "zeros"\n'
                    '[[rule]]\nmatch = "*"\nskip = true\n')
    assert ic.check_model(model, path).row("1.0.0.weight").claim == "spec('zeros')"


@pytest.mark.parametrize("make", [
    lambda a, g: -a,                                          # sign flipped
    lambda a, g: a.T.clone(),                                 # transposed (a port)
    lambda a, g: a[torch.randperm(a.shape[0], generator=g)],  # rows permuted
    lambda a, g: torch.cat([a[:96], a.abs().max() * torch.rand(96, 192, generator=g)]),
    lambda a, g: a + 1e-7 * torch.randn(a.shape, generator=g),                 # upcycled + noise
    lambda a, g: a + 0.05 * a.std() * torch.randn(a.shape, generator=g),       # 5% noise
], ids=["negated", "transposed", "rows permuted", "half the rows", "noise 1e-7", "noise 5%"])
def test_a_near_copy_of_another_tensor_fails_the_model_named(make):
    """Only bit-exact copies were found: -A, A transposed, A with rows permuted, half of A's
    rows, A + noise passed. The near-copy test compares slices of equal length across tensors
    (|cos| near 1 at any sign, order or orientation), Bonferroni over the pairs compared, at
    one share of the model's alpha; the fresh model passes (its largest |cos| is ~0.3)."""
    g = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(192, 192) for _ in range(4)])
    clean = ic.check_model(model, "torch")
    near = next(c for c in clean.checks if c.name == "near_copies")
    assert clean.passed and near.passed and near.statistic < near.threshold < 0.6, near
    with torch.no_grad():
        model[2].weight.copy_(make(model[0].weight.detach().clone(), g))
    report = ic.check_model(model, "torch")
    near = next(c for c in report.checks if c.name == "near_copies")
    assert not near.passed and near.statistic > 0.99, near
    assert [r.name for r in report.failures] == ["2.weight"]
    assert "near copy" in report.failure_message()


def test_a_near_copy_among_many_tensors_is_among_the_pairs_tested_exactly():
    """With 24 layers there are 276 pairs of tensors, more than the EXACT_PAIRS whose best
    slices get an exact cosine: the sketch must rank the copy (30% noise, |cos| ~ 0.96)
    among them."""
    from initcheck.stats import copies

    torch.manual_seed(0)
    model = nn.Sequential(*[nn.Linear(96, 96, bias=False) for _ in range(24)])
    assert 24 * 23 // 2 > copies.EXACT_PAIRS
    assert ic.check_model(model, "torch").passed
    g = torch.Generator().manual_seed(2)
    with torch.no_grad():
        a = model[3].weight.detach().clone()
        model[20].weight.copy_(a + 0.3 * a.std() * torch.randn(a.shape, generator=g))
    report = ic.check_model(model, "torch")
    near = next(c for c in report.checks if c.name == "near_copies")
    assert not near.passed and near.statistic > 0.9, near
    assert {near.extra["where"], near.extra["copy_of"]} == {"3.weight", "20.weight"}
