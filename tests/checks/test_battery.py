"""The harness catches every defect class (docs/defects.md) at default settings, with the
check that should catch it; and the defects are real (the std of the correlated-units and
spike defects is intact, so only their own check can see them)."""

import pytest
from defects import DEFECTS, HIDDEN, _he_std, _rank_one_spike, normal_with_std

import initcheck as ic


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_defect_fails_verify_with_the_right_check(defect):
    report = ic.verify(defect.fn, expect=defect.expect, seed=0)
    failed = {c.name for c in report.failures}
    assert not report.passed, f"{defect.name} passed:\n{report}"
    assert failed & set(defect.caught_by), (
        f"{defect.name}: expected {defect.caught_by} to fail, failed {failed}\n{report}")
    with pytest.raises(AssertionError, match="reproduce: initcheck.verify"):
        report.raise_for_failure()


def test_rank_one_spike_leaves_std_and_mean_intact_and_only_structure_checks_see_it():
    report = ic.verify(normal_with_std(_he_std, _rank_one_spike), expect="he_normal", seed=1)
    assert report.check("std").passed and report.check("mean").passed
    failed = {c.name for c in report.failures}
    # a spike makes units of unequal scale, correlated, with heavier tails: the structure and
    # shape checks see it, the scale and location ones must not
    assert "spectrum" in failed and failed <= {"spectrum", "unit_correlation", "unit_dependence",
                                               "unit_scales", "fourth_moment"}


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d.name in HIDDEN],
                         ids=lambda d: d.name)
def test_hidden_defects_keep_std_and_mean_and_only_the_new_checks_see_them(defect):
    """Heavy tails, heterogeneous units, weak dependence, a coarse grid: the marginal std and
    mean are right, so the checks of v0.1 pass them; their own checks do not."""
    report = ic.verify(defect.fn, expect=defect.expect, seed=2)
    assert report.check("std").passed and report.check("mean").passed, str(report)
    assert {c.name for c in report.failures} & set(defect.caught_by), str(report)
