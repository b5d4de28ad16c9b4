"""Audits: the alpha split, verdicts per entry (pass, fail, error), the findings, the JSON
schema, and catalogues that cannot load. Each verify here spends at most 1e-5 / entries."""

import math

import jsonschema
import numpy as np
import pytest

import initcheck as ic
from initcheck import audit, catalogues
from initcheck.schema import AUDIT


def _wrong_scale(shape, rng, dtype=np.float32):
    return (rng.standard_normal(shape) * 1.5 * math.sqrt(2 / ic.compute_fans(shape).fan_in)).astype(dtype)


def _broken(shape, rng):
    raise RuntimeError("boom")


def _small_catalogue():
    shapes = ((256, 128), (3, 3, 16, 32))
    return [
        catalogues.Entry("he_normal", lambda: ic.initializers.he_normal(), shapes=shapes),
        catalogues.Entry("wrong scale", lambda: _wrong_scale, "he_normal", shapes=shapes),
        catalogues.Entry("broken", lambda: _broken, "he_normal", shapes=shapes),
    ]


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setitem(audit.CATALOGUES, "builtin", _small_catalogue)


def test_verdicts_findings_and_alpha_split(small):
    result = audit.run("builtin", alpha=3e-5, propagation=False)
    assert [r is not None and r.passed for r in result.reports] == [True, False, False]
    assert not result.passed
    assert result.reports[0].alpha == pytest.approx(1e-5)  # split evenly over 3 entries
    assert "std within" in result.finding(0)
    assert result.finding(1).startswith("std:") and "std/claimed = 1.5" in result.finding(1)
    assert result.reports[2] is None and "raised RuntimeError" in result.finding(2)
    verdicts = [row[3] for row in result.rows()[1:]]
    assert verdicts == ["PASS", "FAIL", "ERROR"]
    assert "1/3 pass" in result.summary()
    doc = result.to_dict()
    jsonschema.validate(doc, AUDIT)
    assert [e["verdict"] for e in doc["initializers"]] == ["pass", "fail", "error"]


def test_propagation_finding_reports_the_rates(monkeypatch):
    monkeypatch.setitem(audit.CATALOGUES, "builtin", lambda: [
        catalogues.Entry("he_normal", lambda: ic.initializers.he_normal(), activation="relu",
                         shapes=((64, 64),))])
    result = audit.run("builtin")
    assert result.passed and "relu: fwd x1.000/layer, bwd x1.000/layer" in result.finding(0)


def test_unknown_target_lists_the_catalogues():
    with pytest.raises(ValueError, match="Allowed values: 'builtin', 'torch', 'jax', 'keras', 'all'"):
        audit.run("caffe")


def test_a_catalogue_that_cannot_load_is_skipped_in_all_and_raised_alone(monkeypatch):
    def missing():
        raise ImportError("torch is not installed: pip install 'initcheck[torch]'")
    monkeypatch.setattr(audit, "CATALOGUES", {"builtin": _small_catalogue, "torch": missing})
    result = audit.run("all", propagation=False)
    assert result.skipped == [("torch", "torch is not installed: pip install 'initcheck[torch]'")]
    assert "skipped torch" in result.summary() and len(result.entries) == 3
    with pytest.raises(ImportError, match="initcheck\\[torch\\]"):
        audit.run("torch")


def test_builtin_catalogue_covers_every_spec_with_its_activation():
    entries = catalogues.builtin()
    assert [e.name for e in entries] == list(ic.specs.SPECS)
    meant = {e.name: e.activation for e in entries}
    assert meant["he_normal"] == "relu" and meant["xavier_uniform"] == "tanh" and meant["zeros"] is None
