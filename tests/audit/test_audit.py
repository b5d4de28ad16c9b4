"""Audits: the alpha split, verdicts per entry (pass, fail, error), the findings, the JSON
schema, and catalogues that cannot load. Each verify here spends at most 1e-5 / entries."""

import math
import sys

import jsonschema
import numpy as np
import pytest
from helpers import run_cli

import initcheck as ic
import initcheck.claims.specs
from initcheck.audit import Entry, runner as audit
from initcheck.audit.catalogues import builtin as builtin_catalogue
from initcheck.core.results import TEXT_WIDTH
from initcheck.core.schema import AUDIT


def _wrong_scale(shape, rng, dtype=np.float32):
    return (rng.standard_normal(shape) * 1.5 * math.sqrt(2 / ic.compute_fans(shape).fan_in)).astype(
        dtype
    )


def _broken(shape, rng):
    raise RuntimeError("boom")


def _small_catalogue():
    shapes = ((256, 128), (3, 3, 16, 32))
    return [
        Entry("he_normal", lambda: ic.initializers.he_normal(), shapes=shapes),
        Entry("wrong scale", lambda: _wrong_scale, "he_normal", shapes=shapes),
        Entry("broken", lambda: _broken, "he_normal", shapes=shapes),
    ]


@pytest.fixture
def small(monkeypatch):
    monkeypatch.setitem(audit.CATALOGUES, "builtin", _small_catalogue)


def test_verdicts_findings_and_alpha_split(small):
    result = audit.run("builtin", alpha=3e-5, propagation=False)
    assert [r is not None and r.passed for r in result.reports] == [True, False, False]
    assert not result.passed
    assert result.reports[0].alpha == pytest.approx(1e-5)  # split evenly over 3 entries
    assert "std within" in result.rows[0].finding
    # the finding says what the samples look like (He with 1.5x the gain), then what failed
    assert result.rows[1].finding.startswith("looks like spec('variance_scaling', scale=4.5")
    assert "; std:" in result.rows[1].finding and "std/claimed = 1.5" in result.rows[1].finding
    assert result.reports[2] is None and "raised RuntimeError" in result.rows[2].finding
    verdicts = [row[3] for row in result.table()[1:]]
    assert verdicts == ["PASS", "FAIL", "ERROR"]
    assert "1/3 pass" in result.summary()
    doc = result.to_dict()
    jsonschema.validate(doc, AUDIT)
    assert [e["verdict"] for e in doc["initializers"]] == ["pass", "fail", "error"]


def test_propagation_finding_reports_the_rates(monkeypatch):
    monkeypatch.setitem(audit.CATALOGUES, "builtin", lambda: [
        Entry("he_normal", lambda: ic.initializers.he_normal(), activation="relu",
                         shapes=((64, 64),))])
    result = audit.run("builtin")
    assert result.passed and "relu: fwd x1.000/layer, bwd x1.000/layer" in result.rows[0].finding


def test_unknown_target_lists_the_catalogues():
    with pytest.raises(
        ValueError,
        match="Allowed values: 'builtin', 'torch', 'jax', 'keras', 'haiku', 'flax', 'equinox'"
        ".*'all'",
    ):
        audit.run("caffe")


def test_a_catalogue_that_cannot_load_is_skipped_in_all_and_raised_alone(monkeypatch):
    def missing():
        raise ImportError("torch is not installed: pip install 'initcheck[torch]'")
    monkeypatch.setattr(audit, "CATALOGUES", {"builtin": _small_catalogue, "torch": missing})
    result = audit.run("all", propagation=False)
    assert list(result.skipped) == [
        ("torch", "torch is not installed: pip install 'initcheck[torch]'")
    ]
    assert "skipped torch" in result.summary() and len(result.entries) == 3
    assert "no framework is installed" in result.summary()
    assert all(len(line) <= TEXT_WIDTH for line in result.text().splitlines())
    with pytest.raises(ImportError, match="initcheck\\[torch\\]"):
        audit.run("torch")


def test_builtin_catalogue_covers_every_spec_with_its_activation():
    entries = builtin_catalogue.catalogue()
    assert [e.name for e in entries] == list(ic.claims.specs.SPECS)
    meant = {e.name: e.activation for e in entries}
    assert (
        meant["he_normal"] == "relu"
        and meant["xavier_uniform"] == "tanh"
        and meant["zeros"] is None
    )


PLUGIN = '''
"""A third party's catalogue: its initializers with the specs they document."""
import math

import numpy as np

from initcheck.audit.entry import Entry


def my_he(shape, rng, dtype=np.float32):
    return (rng.standard_normal(shape) * math.sqrt(2.0 / shape[-2])).astype(dtype)


def catalogue():
    return [Entry("my_he", lambda: my_he, "he_normal", shapes=((256, 128), (512, 64)))]
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A package installed as pip would leave it: its module, and a dist-info whose
    entry_points.txt registers the catalogue under initcheck.catalogues."""
    import importlib

    (tmp_path / "mycat.py").write_text(PLUGIN)
    info = tmp_path / "mycat-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mycat\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[initcheck.catalogues]\nmycat = mycat:catalogue\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("mycat", None)  # each test imports its own version


def test_a_plugin_catalogue_is_audited_like_the_others(plugin):
    assert "mycat" in audit.available() and "mycat" not in audit.CATALOGUES
    result = audit.run("mycat", propagation=False)
    assert [e.name for e in result.entries] == ["my_he"] and result.passed


def test_the_cli_audits_a_plugin_by_name(plugin):
    import os

    env = {**os.environ, "PYTHONPATH": str(plugin)}
    r = run_cli("audit", "mycat", "--no-propagation", env=env)
    assert r.returncode == 0 and "audit mycat: 1/1 pass" in r.stdout, r.stdout + r.stderr


def test_a_broken_plugin_is_named(plugin):
    (plugin / "mycat.py").write_text("def catalogue():\n    return ['not an entry']\n")
    with pytest.raises(
        ValueError, match="catalogue 'mycat' \\(mycat:catalogue\\) must return a list"
    ):
        audit.run("mycat")
