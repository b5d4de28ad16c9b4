"""The statistical primitives against their exact null laws (scipy), at the boundary of each
acceptance region, and with the power each one claims. Samples come from fixed seeds; each
statistical assertion states its false-alarm probability under a correct implementation."""

import math

import numpy as np
import pytest
from scipy import special, stats as sps

import initcheck as ic
from initcheck import stats
from initcheck.core.results import CheckResult

ALPHA = 1e-3


def _summary(n, squares=None, total=0.0, max_abs=1.0, kurtosis=3.0):
    return stats.Summary(n, total, float(n if squares is None else squares), max_abs, kurtosis)


def test_chi2_acceptance_region_is_exact():
    n = 10_000
    lo, hi = sps.chi2.ppf(ALPHA / 2, n), sps.chi2.isf(ALPHA / 2, n)
    assert stats.sigma_chi2_test([_summary(n, hi * (1 - 1e-9))], ALPHA).passed
    assert not stats.sigma_chi2_test([_summary(n, hi * (1 + 1e-6))], ALPHA).passed
    assert not stats.sigma_chi2_test([_summary(n, lo * (1 - 1e-6))], ALPHA).passed
    r = stats.sigma_chi2_test([_summary(n, n)], ALPHA)
    assert r.pvalue == pytest.approx(2 * min(sps.chi2.cdf(n, n), sps.chi2.sf(n, n)), rel=1e-9)


def test_pooling_adds_degrees_of_freedom():
    parts = [_summary(100, 120.0), _summary(900, 880.0)]
    pooled = stats.sigma_chi2_test(parts, ALPHA)
    assert pooled.n == 1000 and pooled.statistic == 1000.0
    assert pooled.mde == pytest.approx(stats.sigma_mde(1000, ALPHA, 3.0))


def test_moment_test_uses_the_claimed_kurtosis():
    n, kappa = 40_000, 1.8  # uniform
    z_crit = -special.ndtri(ALPHA / 2)
    excess = z_crit * math.sqrt(n * (kappa - 1))
    assert stats.sigma_moment_test([_summary(n, n + excess * 0.999, kurtosis=kappa)], ALPHA).passed
    assert not stats.sigma_moment_test(
        [_summary(n, n + excess * 1.001, kurtosis=kappa)], ALPHA
    ).passed


def test_mean_test_boundary_and_mde():
    n = 10_000
    z_crit = -special.ndtri(ALPHA / 2)
    assert stats.mean_test([_summary(n, total=0.999 * z_crit * math.sqrt(n))], ALPHA).passed
    r = stats.mean_test([_summary(n, total=1.001 * z_crit * math.sqrt(n))], ALPHA)
    assert not r.passed and r.observed == pytest.approx(1.001 * z_crit / 100)
    assert r.mde == pytest.approx((z_crit + special.ndtri(stats.POWER)) / 100)


def test_sigma_mde_has_the_stated_power():
    """Simulated: 400 normal samples of n = 2000 with sigma off by exactly the MDE are
    rejected at the rate POWER = 0.99. Under that rate, 380 or fewer rejections of 400 has
    probability 5e-6."""
    n, rng = 2000, np.random.default_rng(20261129)
    d = stats.sigma_mde(n, ALPHA, 3.0)
    x = rng.standard_normal((400, n)) * (1 + d)
    law = ic.spec("normal").law((n,))
    rejected = sum(
        not stats.sigma_chi2_test([stats.summarize(row, law)], ALPHA).passed for row in x
    )
    assert rejected > 380, rejected


def test_ks_matches_scipy_exactly_for_small_n():
    u = np.random.default_rng(1).random(500) ** 1.05
    ours = stats.ks_test(u, ALPHA)
    theirs = sps.kstest(u, "uniform", method="exact")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-15)
    assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-9)


def test_ks_limit_agrees_with_the_exact_law_beyond_the_cutoff():
    n = stats.KS_EXACT_MAX + 1
    d = sps.kstwo.isf(1e-6, n)
    assert stats.ks_pvalue(d, n) == pytest.approx(1e-6, rel=0.03)


def test_cdf_is_the_probability_transform_of_every_family():
    for spec, shape in [(ic.spec("he_normal"), (64, 32)), (ic.spec("he_uniform"), (64, 32)),
                        (ic.spec("truncated_normal", std=0.5), (64, 32)),
                        (ic.spec("orthogonal"), (64, 32))]:
        law = spec.law(shape)
        xs = np.linspace(law.mean - 2 * law.std, law.mean + 2 * law.std, 9)
        np.testing.assert_allclose(stats.cdf(xs, law), law.dist.cdf(xs), rtol=1e-9, atol=1e-12)


def test_edge_law_is_exact():
    r = stats.edge_test_of(0.001, 0.998, 1000, ALPHA)
    assert r.pvalue == pytest.approx((1 - 2 * 0.001) ** 1000, rel=1e-12) and r.passed
    eps = 1 - ALPHA ** (1 / 1000)
    assert stats.edge_test_of(eps / 2 * 0.999, 1 - eps, 1000, ALPHA).passed
    assert not stats.edge_test_of(eps / 2 * 1.001, 1 - eps, 1000, ALPHA).passed


def test_tails_law_is_exact_for_one_value():
    m = 2.5
    cdf = 1 - 2 * special.ndtr(-m)
    r = stats.tails_test([_summary(1, max_abs=m)], 0.5)
    assert r.pvalue == pytest.approx(2 * min(cdf, 1 - cdf), rel=1e-12)
    assert not stats.tails_test([_summary(10**6, max_abs=1000.0)], ALPHA).passed
    assert not stats.tails_test([_summary(10**6, max_abs=2.0)], ALPHA).passed  # clamped


def test_atoms_tell_clamping_from_rounding():
    law = ic.spec("truncated_normal", a=-2.0, b=2.0).law((4,))
    rng = np.random.default_rng(3)
    z = sps.truncnorm(-2, 2).rvs(200_000, random_state=rng)
    r = stats.atoms_test(z.astype(np.float32), law, ALPHA)
    assert r.passed and r.name == "atoms" and r.observed == 0
    clamped = np.clip(rng.standard_normal(200_000), -2, 2).astype(np.float32)
    assert not stats.atoms_test(clamped, law, ALPHA).passed


def test_support_and_finite_are_hard_checks():
    law = ic.spec("uniform", low=-1, high=1).law((3,))
    ok = stats.support(np.array([-1.0, 0.0, 1.0], dtype=np.float32), law)
    bad = stats.support(np.array([-1.0, 0.0, 1.5]), law)
    assert ok.passed and ok.alpha == 0 and ok.pvalue == 1
    assert not bad.passed and bad.pvalue == 0 and bad.observed == 1
    assert not stats.finite(np.array([1.0, np.nan])).passed


def test_cosine_null_is_the_beta_law():
    d, c = 50, 0.3
    assert stats.structure._cosine_pvalue(c, d) == pytest.approx(
        sps.beta(0.5, (d - 1) / 2).sf(c * c), rel=1e-10
    )
    rows = np.random.default_rng(4).standard_normal((20, 64))
    assert stats.max_cosine_test([("iid", rows)], ALPHA).passed
    rows[7] = rows[3] + 0.05 * rows[7]
    assert not stats.max_cosine_test([("near-copy", rows)], ALPHA).passed


def test_spectrum_catches_a_spike_that_keeps_the_std():
    rng = np.random.default_rng(5)
    m = rng.standard_normal((256, 300))
    assert stats.spectrum_test([("iid", m)], ALPHA).passed
    u, v = rng.standard_normal(256), rng.standard_normal(300)
    spiked = np.sqrt(0.9) * m + np.sqrt(0.1) * np.outer(u, v)
    assert (
        abs(spiked.std() - 1) < 0.05 and not stats.spectrum_test([("spike", spiked)], ALPHA).passed
    )
    assert stats.top_singular_value(m) == pytest.approx(np.linalg.norm(m, 2), rel=2e-2)


def test_duplicates_on_any_axis():
    x = np.random.default_rng(6).standard_normal((8, 16, 3)).astype(np.float32)
    assert stats.duplicates([("x", x)]).passed
    x[:, 5] = x[:, 2]
    r = stats.duplicates([("x", x)])
    assert not r.passed and "axis 1" in r.detail


def test_orthonormality_and_haar():
    rng = np.random.default_rng(7)
    qs = []
    for _ in range(8):
        q, r = np.linalg.qr(rng.standard_normal((64, 32)))
        qs.append((q * np.sign(np.diag(r))).T)  # Haar (units, fan) = (32, 64)
    assert stats.orthonormality([("q", q, 1.0) for q in qs]).passed
    assert stats.haar_test(qs, 1.0, ALPHA).passed
    # QR without the sign fix: LAPACK's R has a one-signed diagonal, so Q's is biased
    biased = [np.linalg.qr(rng.standard_normal((64, 32)))[0].T for _ in range(8)]
    assert stats.orthonormality([("b", q, 1.0) for q in biased]).passed
    assert not stats.haar_test(biased, 1.0, ALPHA).passed
    assert not stats.orthonormality([("g", rng.standard_normal((32, 64)) / 8, 1.0)]).passed


def test_check_results_are_frozen_and_amended_by_copy():
    r = CheckResult.hard("x", True, n=3, detail="ok")
    assert (r.alpha, r.pvalue, math.isnan(r.mde)) == (0.0, 1.0, True)
    r2 = r.with_extra(seconds=1.5)
    assert r.extra == {} and r2.extra == {"seconds": 1.5} and r2.name == "x"
    with pytest.raises(AttributeError):
        r.passed = False
    with pytest.raises(ValueError, match="alpha must lie in"):
        stats.mean_test([_summary(10)], 1.5)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_orthonormality_in_half_precision_is_not_vacuous(dtype):
    """The tolerance is the dtype's rounding of an orthogonal matrix (each Gram entry moves by
    at most eps) plus float32's QR error, not 30 eps sqrt(n), which in bfloat16 was 3.75 at
    n = 256 and passed a Gaussian. Rounded orthogonal matrices pass at every size; a Gaussian
    N(0, 1/n), about sqrt(8 log n / n) from orthogonal, fails. Deterministic (a hard check)."""
    import ml_dtypes

    dt = np.dtype(ml_dtypes.bfloat16) if dtype == "bfloat16" else np.dtype(dtype)
    rng = np.random.default_rng(0)
    for n in (8, 64, 256, 1024):
        q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        assert stats.orthonormality([("q", (1.3 * q).astype(dt), 1.3)]).passed, n
        gauss = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dt)
        assert not stats.orthonormality([("g", gauss, 1.0)]).passed, n


def test_atoms_allow_for_the_generators_grid_and_still_catch_clamping():
    """jax draws float32 from 23 random bits, so a bound is hit with probability 2**-23 per
    element (0.28 on a ResNet50 conv kernel): a few values on the bound are what a correct
    framework sampler gives (benchmarks/atoms.py: 0 of 2000 jax and torch draws rejected at
    alpha 0.01, against 25% and 13% before). Clamping the tail piles thousands there. alpha
    1e-6 per test."""
    shape = (3, 3, 512, 512)
    law = ic.spec("xavier_uniform").law(shape)
    x = np.random.default_rng(0).uniform(law.low, law.high, shape).astype(np.float32)
    x.flat[[5, 99]] = np.float32(law.low)  # two bit patterns of 0
    assert stats.atoms_test(x, law, 1e-6).passed
    clamped = np.clip(x * 1.001, law.low, law.high).astype(np.float32)
    assert not stats.atoms_test(clamped, law, 1e-6).passed


@pytest.mark.parametrize("axis", [0, 1, 2, 3])
def test_slices_gather_only_the_coordinates_they_keep(axis):
    from initcheck.sharding.array import Shard, ShardedArray

    x = np.random.default_rng(7).standard_normal((40, 30, 3, 5)).astype(np.float32)
    rest = x.size // x.shape[axis]
    full = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
    cols = stats.spaced(rest, 100)
    rows = stats.spaced(x.shape[axis], 16)
    got = stats.slices(x, axis, 16, max_length=100)
    assert np.array_equal(got, full[rows][:, cols])
    rest_of = (slice(None),) * 3
    halves = ShardedArray(x.shape, x.dtype, [Shard((slice(0, 20), *rest_of), x[:20]),
                                             Shard((slice(20, 40), *rest_of), x[20:])])
    assert np.array_equal(stats.slices(halves, axis, 16, max_length=100), got)
    assert np.array_equal(stats.slices(x, axis, 16, max_length=rest), full[rows])


def test_a_copied_kernel_tap_is_still_caught_on_the_kept_coordinates():
    from initcheck.checks import battery
    from initcheck.checks.contexts import Tensors
    from initcheck.core.fans import LAYOUTS

    rng = np.random.default_rng(8)
    x = rng.standard_normal((64, 64, 3, 3)).astype(np.float32) * 0.05  # taps: 3 of 12288
    claim = ic.spec("normal", std=0.05)
    law = claim.law(x.shape, LAYOUTS['torch'])
    assert 64 * 64 * 3 > stats.MAX_SLICE_LENGTH  # the tap slices are thinned
    assert battery.unit_correlation(
        Tensors(claim, {"w": x}, {"w": law}, LAYOUTS['torch']), ALPHA).passed
    x[:, :, 2, :] = x[:, :, 0, :] + 0.3 * x[:, :, 2, :]  # a tap copied up to 30% noise
    r = battery.unit_correlation(
        Tensors(claim, {"w": x}, {"w": law}, LAYOUTS['torch']), ALPHA)
    assert not r.passed and "length 8192" in r.detail


def test_a_near_copy_is_named_by_its_tensors_whatever_their_names_hold():
    """The failing pair is named from the slices' own fields (not read back from the detail
    text), so a tensor whose name holds ' axis ' keeps its whole name."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 256))
    b = a + 0.3 * rng.standard_normal(a.shape)  # a copy with 30% noise
    parts = [stats.sketched("blocks axis 1 proj", 0, a), stats.sketched("mirror axis 0", 0, b)]
    r = stats.near_copy_test(parts, 1e-6)
    assert not r.passed
    assert {r.extra["where"], r.extra["copy_of"]} == {"blocks axis 1 proj", "mirror axis 0"}
    assert "blocks axis 1 proj axis 0" in r.detail
