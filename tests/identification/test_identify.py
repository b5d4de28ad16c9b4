"""identify: the top candidate is the generating rule wherever that rule lies in the search
space (defect suite, built-ins, torch's catalogue), nothing is named that its own tests
reject, and failure messages of verify, check_tensor and check_model say what the values
look like."""

import math

import numpy as np
import pytest
from defects import DEFECTS, TRUNC

import initcheck as ic
import initcheck.claims.specs
from initcheck.checks.shapes import default_shapes

KERAS = ic.get_layout("keras")


def same_law(candidate, expected, shapes, layout=KERAS, convention="logical"):
    """The candidate's law is the expected spec's at every shape (family and std to 1e-6)."""
    for s in shapes:
        want = expected.law(s, layout, convention=convention, vectors="length")
        got = candidate.law(s)
        if got.family != want.family or abs(got.std / want.std - 1) > 1e-6:
            return False
    return True


#: The generating rule of each defect that lies in the search space (a spec, or the fan
#: rule's words for rules no spec expresses). The marginal is what identify explains:
#: dependence, structure and resolution defects draw a He normal marginal.
IN_SPACE = {
    "fan_in/fan_out swapped": ic.spec("he_normal", mode="fan_out"),
    "fan_avg for fan_in": ic.spec("xavier_normal", gain=math.sqrt(2)),
    "uniform for normal at equal std": ic.spec("he_uniform"),
    "normal for uniform at equal std": ic.spec("he_normal"),
    "truncation correction missing": ic.spec(
        "variance_scaling",
        scale=TRUNC.params["scale"] * 0.8796256610342398**2,
        mode="fan_in",
        distribution="truncated_normal",
    ),
    "zero tensor": ic.spec("zeros"),
    "ignores its rng": ic.spec("he_normal"),
    "draws from global state": ic.spec("he_normal"),
    "rank-one spike, std intact": ic.spec("he_normal"),
    "unit means differ, mean intact": ic.spec("he_normal"),
    "equicorrelated groups of 16 units": ic.spec("he_normal"),
    "inverse CDF of 16-bit uniforms": ic.spec("he_normal"),
    "bfloat16 mantissa in float32": ic.spec("he_normal"),
    "orthogonal without the sign fix": ic.spec("orthogonal"),
    # free gains: the fitted spec must have the generating std
    "scale off by 5%": ic.spec(
        "variance_scaling", scale=2 * 1.05**2, mode="fan_in", distribution="normal"
    ),
    "uniform bound set to the std": ic.spec(
        "variance_scaling", scale=2 / 3, mode="fan_in", distribution="uniform"
    ),
    "sqrt(24) for sqrt(6)": ic.spec(
        "variance_scaling", scale=4.0, mode="fan_avg", distribution="uniform"
    ),
    "receptive field ignored": "no receptive field",
    "square kernel assumed": "a square kernel assumed",
}
#: Outside the space: not a zero-mean variance-scaling law of one fan (or not one law).
OUTSIDE = {"missing sqrt", "clamped instead of truncated", "rare 1000-sigma outliers",
           "mean shifted by 0.1 sigma", "uniform on [0, r)", "constant tensor", "identical units",
           "tiled slices", "correlated units", "wrong only for small fans", "a single NaN",
           "Gaussian claiming orthogonal", "Student-t at the right std",
           "unit scales differ, std intact"}
FREE = {"scale off by 5%", "uniform bound set to the std", "sqrt(24) for sqrt(6)"}


def test_every_defect_is_classified():
    assert {d.name for d in DEFECTS} == set(IN_SPACE) | OUTSIDE


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d.name in IN_SPACE], ids=lambda d: d.name)
def test_top_candidate_is_the_generating_rule(defect):
    found = ic.identify(defect.fn, seed=3)
    assert found, f"{defect.name}: nothing found"
    top, want = found[0], IN_SPACE[defect.name]
    shapes = [s for s in default_shapes(ic.spec("he_normal"), KERAS) if len(s) >= 2]
    if isinstance(want, str):
        assert want in top.explanation, top
    elif defect.name in FREE:  # a fitted gain: the generating std within 4 standard errors
        assert not top.named
        for s in shapes:
            assert abs(top.law(s).std / want.law(s, KERAS).std - 1) < 4 * top.std_ratio_se + 1e-4, (
                top
            )
    else:
        assert top.spec == want or same_law(top, want, shapes), f"{defect.name}: {top}"


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d.name in OUTSIDE], ids=lambda d: d.name)
def test_outside_the_space_nothing_is_claimed_that_its_tests_reject(defect):
    """Whatever is named passes, in verify on the same draws, the tests identify ran: mean,
    std, distribution (verify splits alpha finer, so they pass there too). Values that are
    NaN or Inf are refused: no law explains them."""
    if defect.name == "a single NaN":
        with pytest.raises(ValueError, match="NaN or Inf"):
            ic.identify(defect.fn, seed=3)
        return
    for c in ic.identify(defect.fn, seed=3)[:2]:
        assert c.pvalue >= 1e-6
        if c.spec is not None and c.convention == "logical" and c.layout == "keras":
            report = ic.verify(defect.fn, expect=c.spec, seed=3)
            for check in ("mean", "std", "distribution"):
                assert report.check(check).passed, (c, report.check(check))


@pytest.mark.parametrize("name", [n for n in ic.claims.specs.SPECS
                                  if n not in ("uniform", "constant", "ones", "zeros", "normal")])
def test_builtins_are_identified_as_their_own_spec(name):
    init = ic.initializers.get(name)
    (top, *_) = ic.identify(init, seed=5)
    shapes = [s for s in default_shapes(init.spec, init.layout) if len(s) >= 2]
    assert top.spec == init.spec or same_law(top, init.spec, shapes, init.layout), top


def test_a_candidate_passes_verify_with_its_own_spec():
    fn = next(d.fn for d in DEFECTS if d.name == "fan_in/fan_out swapped")
    top = ic.identify(fn)[0]
    report = ic.verify(fn, expect=top.spec, seed=11)
    assert report.passed, report.failure_message()


@pytest.mark.parametrize("framework", ["torch", "jax", "keras"])
def test_catalogue_top_candidates_are_the_documented_rules(framework):
    """Every entry of a framework's catalogue whose rule lies in the space (zero-mean, not a
    constant, not a dtype-specific entry) is identified as the rule the framework documents.
    Drawn on three layers whose fans tell every rule apart (in != out, a receptive field,
    a non-square kernel) rather than verify's nine: jax compiles each new shape."""
    pytest.importorskip(framework)
    from initcheck.audit import runner as audit
    from initcheck.frameworks.dispatch import adapter

    checked = 0
    for entry in audit.CATALOGUES[framework]():
        spec = entry.expect
        if entry.dtype or spec is None or spec.family == "constant" or spec.name == "uniform" \
                or (spec.name == "truncated_normal" and "a" in spec.params):
            continue
        sampler = adapter(entry.make(), framework=entry.framework, layout=entry.layout)
        layout = sampler.layout
        # torch reads fans literally: for the grouped conv that is torch's convention
        convention = "torch" if layout.groups > 1 else "logical"
        shapes = entry.shapes or [s for s in default_shapes(spec, layout) if len(s) >= 2][1:4]
        found = ic.identify(sampler, shapes=shapes, seed=1)
        assert found, entry.name
        top = found[0]
        assert top.spec == spec and top.convention == convention or same_law(
            top, spec, shapes, layout, convention), f"{entry.name}: {top}"
        checked += 1
    assert checked >= 8


def test_failure_messages_say_what_the_values_look_like():
    fn = next(d.fn for d in DEFECTS if d.name == "fan_in/fan_out swapped")
    assert (
        "looks like: spec('he_normal', mode='fan_out'"
        in ic.verify(fn, expect="he_normal").failure_message()
    )
    w = np.random.default_rng(0).normal(0, 0.021, (512, 256))
    msg = ic.check_tensor(w, ic.spec("normal", std=0.02)).failure_message()
    assert "looks like: spec('normal', mean=0.0, std=0.021" in msg
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(256, 512))
    with torch.no_grad():  # He normal where torch's default is claimed
        model[0].weight.copy_(torch.nn.init.kaiming_normal_(
            torch.empty(512, 256), generator=torch.Generator().manual_seed(0)))
    r = ic.check_model(model, "torch")
    assert r.row("0.weight").looks_like[0].claim.startswith("spec('he_normal'")
    assert "looks like: spec('he_normal'" in r.failure_message()


def test_identify_a_tensor_and_refuse_nonsense():
    torch = pytest.importorskip("torch")
    w = torch.empty(300, 200)
    torch.nn.init.xavier_uniform_(w, generator=torch.Generator().manual_seed(0))
    assert ic.identify(w)[0].spec == ic.spec("xavier_uniform")
    assert ic.identify(np.full((30, 20), 0.5))[0].spec == ic.spec("constant", value=0.5)
    with pytest.raises(ValueError, match="NaN or Inf values: no law explains them"):
        ic.identify(np.array([[np.nan, 1.0], [0.0, 2.0]]))


def test_no_diagnosis_is_made_from_non_finite_values():
    """A sampler at 57x the claimed std with one NaN used to be reported as matching a sibling
    convention: verify's report now names the NaN (its finite check) and guesses no law."""
    def nan_he(shape, rng, dtype=np.float32):
        w = rng.standard_normal(shape) * 57 * math.sqrt(2 / ic.compute_fans(shape).fan_in)
        w.flat[0] = np.nan
        return w.astype(dtype)

    report = ic.verify(nan_he, expect="he_normal", shapes=[(64, 32)])
    assert not report.check("finite").passed
    assert report.diagnosis is not None and report.diagnosis.lines() == []
    text = report.failure_message()
    assert "looks like" not in text and "the samples match" not in text


# ------------------------------------------------ order among laws a tensor cannot tell apart


def test_identify_names_an_orthogonal_tensor_orthogonal():
    jax = pytest.importorskip("jax")
    torch = pytest.importorskip("torch")
    w = jax.nn.initializers.orthogonal()(jax.random.key(0), (256, 256))  # float32
    assert ic.identify(np.asarray(w))[0].spec == ic.spec("orthogonal")
    t = torch.nn.init.orthogonal_(torch.empty(128, 300), gain=2.0,
                                  generator=torch.Generator().manual_seed(1))
    assert ic.identify(t)[0].spec == ic.spec("orthogonal", gain=2.0)
    # break it: a Gaussian of the same std is not orthogonal
    g = np.random.default_rng(0).normal(0, 1 / 16, (256, 256)).astype(np.float32)
    assert all(c.family != "orthogonal" for c in ic.identify(g))


def test_exactly_equal_laws_are_one_candidate_named_the_same_way_on_every_seed():
    torch = pytest.importorskip("torch")
    # (256, 128, 3, 3): He with fan_out = 2 * 128 * 9 is LeCun's 1 / fan_in, exactly
    tops = set()
    for seed in range(8):
        t = torch.nn.init.kaiming_normal_(torch.empty(256, 128, 3, 3), mode="fan_out",
                                          generator=torch.Generator().manual_seed(seed))
        top = ic.identify(t)[0]
        tops.add((top.claim, top.same_law))
    assert tops == {("spec('lecun_normal')",
                     ("spec('he_normal', mode='fan_out', nonlinearity='relu')",))}, tops
    assert "the same law as spec('he_normal', mode='fan_out'" in top.as_explanation().evidence
    # the names the same law has at other shapes are not claimed at one where it differs
    t = torch.nn.init.kaiming_normal_(torch.empty(200, 128, 3, 3), mode="fan_out",
                                      generator=torch.Generator().manual_seed(0))
    top = ic.identify(t)[0]
    assert top.spec == ic.spec("he_normal", mode="fan_out") and top.same_law == ()


@pytest.mark.parametrize(("draw", "want", "seeds"), [
    # a 0.02 std on a small conv kernel: "gain 5/3, a square kernel assumed" fits as well
    (lambda rng: rng.normal(0, 0.02, (40, 3, 4, 4)), ic.spec("normal", std=0.02), 20),
    # He normal on (512, 256): variance_scaling(25/9, fan_geo_avg) lies 0.8% away
    (lambda rng: rng.normal(0, math.sqrt(2 / 256), (512, 256)), ic.spec("he_normal"), 20),
    # He normal: leaky_relu(0.01)'s gain lies 5e-5 away from sqrt(2)
    (lambda rng: rng.normal(0, math.sqrt(2 / 300), (100, 300)), ic.spec("he_normal"), 10),
], ids=["fixed std", "he over fan_geo_avg", "relu over leaky_relu(0.01)"])
def test_the_simple_rule_wins_unless_a_contrived_one_beats_it_by_the_margin(draw, want, seeds):
    for seed in range(seeds):
        w = draw(np.random.default_rng(seed))
        top = ic.identify(w, layout="torch")[0]
        assert top.spec == want, (seed, top.claim)


def test_a_contrived_rule_that_generated_the_values_wins_by_the_margin():
    # the receptive field ignored, on kernels large enough to tell: the confusion is named
    from initcheck.identification.ranking import MARGIN_Z
    rng = np.random.default_rng(0)
    w = rng.normal(0, math.sqrt(2 / 64), (64, 64, 3, 3))  # He with fan_in = 64, not 576
    top = ic.identify(w, layout="torch")[0]
    assert "no receptive field" in top.explanation, top
    assert MARGIN_Z == 3.0  # the margin docs/identify.md states


def test_identify_is_told_groups_and_transposition():
    # (48, 16, 3, 3) in groups of 2: logical fan_out 24 * 9 = 216, torch's 432
    w = np.random.default_rng(0).normal(0, math.sqrt(2 / 216), (48, 16, 3, 3))
    assert ic.identify(w, layout="torch", groups=2)[0].spec == ic.spec("he_normal", mode="fan_out")
    assert ic.identify(w, layout="torch")[0].spec != ic.spec("he_normal", mode="fan_out")
    # a transposed kernel is (in, out, k): fan_in is 16 * 9, where dim 1 would give 24 * 9
    t = np.random.default_rng(1).normal(0, math.sqrt(2 / 144), (16, 24, 3, 3))
    assert ic.identify(t, layout="torch", transposed=True)[0].spec == ic.spec("he_normal")
    assert ic.identify(t, layout="torch")[0].spec == ic.spec("he_normal", mode="fan_out")
    with pytest.raises(ValueError, match="groups"):
        ic.identify(w, layout="torch", groups=0)


def test_laws_closer_than_the_data_resolve_are_ranked_by_simplicity():
    """LeCun (fan_in 64) and He's leaky_relu(0.01) gain over fan_geo_avg (128) on a 64x256
    kernel are 0.01% apart: Vuong's z can exceed 3 on such a pair (their pointwise ratio has
    almost no spread), so a candidate must also win by more than MARGIN_NATS to outrank the
    simpler one. A single unit is never called orthogonal."""
    jax = pytest.importorskip("jax")
    from initcheck.identification.ranking import MARGIN_NATS

    lecun = ic.spec("variance_scaling", scale=1.0, mode="fan_in", distribution="truncated_normal")
    for seed in range(5):
        w = np.asarray(jax.nn.initializers.lecun_normal()(jax.random.key(seed), (64, 256)))
        assert ic.identify(w)[0].spec == lecun, seed
    assert MARGIN_NATS == 3.0
    one_unit = np.random.default_rng(0).normal(0, 0.1, (300, 1))
    assert all(c.family != "orthogonal" for c in ic.identify(one_unit))
