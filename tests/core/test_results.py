"""The result contract, for every result type: frozen, built by keyword, ``to_dict``/``to_json``
valid against the schema its ``SCHEMA`` registers, a ``__str__`` within 80 columns, and
(with a verdict) ``passed`` and a ``raise_for_failure`` that raises exactly when it failed.
The result types are found in the package, so a new one cannot miss the contract."""

import dataclasses
import importlib
import inspect
import json
import math
import pkgutil

import jsonschema
import numpy as np
import pytest

import initcheck as ic
from initcheck.audit import AuditRow, Entry
from initcheck.core.results import TEXT_WIDTH, Result, Verdict
from initcheck.core.schema import SCHEMAS


def _half_he(shape, rng, dtype=np.float32):
    return (rng.standard_normal(shape) * math.sqrt(0.5 / ic.compute_fans(shape).fan_in)).astype(
        dtype
    )


def _results():
    """One passing and one failing instance of every result type (a pair where it has a
    verdict), from real runs on small inputs."""
    torch = pytest.importorskip("torch")
    good = ic.verify("he_normal", shapes=[(64, 32)])
    bad = ic.verify(_half_he, expect="he_normal", shapes=[(256, 128)])
    yield "Report", good, bad
    yield "CheckResult", good.check("std"), bad.check("std")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
    model_ok = ic.check_model(net, "torch")
    with torch.no_grad():
        net[0].weight.mul_(2.0)
    yield "ModelReport", model_ok, ic.check_model(net, "torch")
    entries = [Entry("he", lambda: ic.initializers.he_normal(), shapes=((64, 32),)),
               Entry("half he", lambda: _half_he, "he_normal", shapes=((256, 128),))]
    rows = tuple(AuditRow(entry=e, report=e.verify(alpha=1e-6)) for e in entries)
    audit = ic.audit.AuditResult(catalogue="mine", seed=0, alpha=2e-6, rows=rows)
    yield "AuditResult", dataclasses.replace(audit, rows=rows[:1]), audit
    yield "AuditRow", rows[0], rows[1]
    deep = torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.Tanh())
                                 for _ in range(12)])
    vanishing = ic.trace_model(deep, torch.randn(64, 32))  # torch's default init shrinks it
    with torch.no_grad():
        for block in deep:
            torch.nn.init.normal_(block[0].weight, std=float(ic.gain("tanh")) / math.sqrt(32))
    yield "ModelTrace", ic.trace_model(deep, torch.randn(64, 32)), vanishing
    yield "Trace", ic.simulate("xavier_normal", "tanh", depth=3, width=16, batch=32), None
    yield "Gain", ic.gain("tanh"), None
    yield "Candidate", ic.identify("he_normal", shapes=[(128, 64)])[0], None
    yield "ExploreResult", ic.explore("he_normal", max_examples=5), ic.explore(
        _half_he, "he_normal", max_examples=5)
    torch.manual_seed(1)
    fresh = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
    other = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
    odd = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.Linear(64, 64))
    with torch.no_grad():  # a scale mixture no named law fits
        w = odd[1].weight
        w.copy_(torch.where(torch.rand(w.shape) < 0.5, torch.randn(w.shape) * 0.01,
                            torch.randn(w.shape)))
    yield "ModelDescription", ic.describe_model(fresh), ic.describe_model(odd)
    yield "ModelDiff", ic.compare_models(fresh, other), ic.compare_models(fresh, odd)


@pytest.fixture(scope="module")
def results():
    return {name: (ok, bad) for name, ok, bad in _results()}


def _result_types() -> dict[str, type]:
    """Every concrete result type the package defines (a subclass of ``Result`` with a
    ``SCHEMA``), by name."""
    found = {}
    for info in pkgutil.walk_packages(ic.__path__, "initcheck."):
        if info.name.endswith(("__main__", ".compat")):
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (inspect.isclass(value) and issubclass(value, Result)
                    and value.__module__ == module.__name__ and "SCHEMA" in vars(value)):
                found[value.__name__] = value
    return found


NAMES = sorted(_result_types())


def test_every_result_type_is_exercised(results):
    assert set(results) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_result_keeps_the_contract(results, name):
    for result in results[name]:
        if result is None:
            continue
        assert type(result).__name__ == name and isinstance(result, Result)
        field = dataclasses.fields(result)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(result, field, getattr(result, field))
        with pytest.raises(TypeError):  # keyword only
            type(result)(*[getattr(result, f.name) for f in dataclasses.fields(result)])
        doc = json.loads(result.to_json())
        jsonschema.validate(doc, SCHEMAS[type(result).SCHEMA])
        assert doc.get("schema", type(result).SCHEMA) == type(result).SCHEMA
        wide = [line for line in str(result).splitlines() if len(line) > TEXT_WIDTH]
        assert not wide, wide


@pytest.mark.parametrize("name", [n for n in NAMES if issubclass(_result_types()[n], Verdict)])
def test_a_verdict_raises_exactly_when_it_failed(results, name):
    ok, bad = results[name]
    assert isinstance(ok, Verdict) and ok.passed and ok.failure_message() == ""
    ok.raise_for_failure()
    if bad is not None:
        assert not bad.passed
        with pytest.raises(AssertionError, match=".") as info:
            bad.raise_for_failure()
        assert str(info.value) == bad.failure_message()


def test_every_registered_schema_is_a_valid_schema_with_its_id():
    for name, schema in SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["title"] == name
