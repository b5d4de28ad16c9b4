"""The pytest plugin, exercised with pytester as a user's test suite would use it."""

import re

import numpy  # noqa: F401 - loaded before pytester's in-process runs snapshot sys.modules:
import pytest  # numpy cannot be imported twice in one process
import scipy.stats  # noqa: F401
from helpers import run_python

import initcheck.verification.pipeline  # noqa: F401

GOOD_AND_BAD = """
import math
import numpy as np
import pytest
import initcheck as ic


def scaled_he(factor):
    def fn(shape, rng, dtype=np.float32):
        std = factor * math.sqrt(2 / ic.compute_fans(shape).fan_in)
        return (rng.standard_normal(shape) * std).astype(dtype)
    return fn


def test_good(initcheck_verify):
    report = initcheck_verify(scaled_he(1.0), expect="he_normal")
    assert report.passed


def test_bad(initcheck_verify):
    initcheck_verify(scaled_he(1.2), expect="he_normal")


@pytest.mark.initcheck(expect="xavier_uniform")
def test_marked_returns_initializer():
    return ic.initializers.xavier_uniform()


@pytest.mark.initcheck
def test_marked_names_builtin():
    return "he_uniform"


@pytest.mark.initcheck(expect="he_normal", activation="relu")
def test_marked_with_activation():
    return ic.initializers.xavier_normal()
"""

SEEDS = """
import json, os

def test_a(initcheck_seed):
    with open(os.path.join(os.environ["SEED_DIR"], "a"), "w") as fh:
        fh.write(str(initcheck_seed))

def test_b(initcheck_seed):
    with open(os.path.join(os.environ["SEED_DIR"], "b"), "w") as fh:
        fh.write(str(initcheck_seed))
"""


def test_options_and_marker_are_registered(pytester):
    result = pytester.runpytest("--help")
    out = result.stdout.str()
    for option in ("--initcheck-seed", "--initcheck-alpha", "--initcheck-samples",
                   "--initcheck-plots", "--initcheck-summary"):
        assert option in out
    assert "initcheck_seed" in out  # ini key
    markers = pytester.runpytest("--markers").stdout.str()
    assert "@pytest.mark.initcheck(expect=None, activation=None, alpha=None, shapes=None" in markers


def test_outcomes_report_sections_and_summary(pytester):
    pytester.makepyfile(GOOD_AND_BAD)
    result = pytester.runpytest("--initcheck-summary", "-rA")
    result.assert_outcomes(passed=3, failed=2)
    out = result.stdout.str()
    assert "initcheck: seed 0" in out  # the header
    # the failing test shows the numbers and how to reproduce
    assert re.search(r"std \[.*\]: .*std/claimed = 1\.2", out)
    assert "reproduce: initcheck.verify(" in out and "--initcheck-seed=0" in out
    assert "Captured initcheck call" in out  # the report section
    # the marked test claiming he_normal for a Xavier init fails on its std, and propagation
    assert "test_marked_with_activation" in out
    assert "initcheck summary" in out
    spent = re.search(r"alpha spent ([0-9.e-]+) of the session budget ([0-9.e-]+)", out)
    assert float(spent.group(1)) <= float(spent.group(2)) == 1e-4


def test_seed_option_ini_env_precedence_and_last(pytester, monkeypatch):
    pytester.makepyfile("def test_x(initcheck_seed):\n    print('SEED', initcheck_seed)\n")
    pytester.makeini("[pytest]\ninitcheck_seed = 11\n")
    assert "initcheck: seed 11" in pytester.runpytest().stdout.str()
    monkeypatch.setenv("INITCHECK_SEED", "12")
    assert "initcheck: seed 12" in pytester.runpytest().stdout.str()  # env beats ini
    assert (
        "initcheck: seed 13" in pytester.runpytest("--initcheck-seed=13").stdout.str()
    )  # option beats env
    monkeypatch.delenv("INITCHECK_SEED")
    first = pytester.runpytest("--initcheck-seed=random", "-s").stdout.str()
    seed = re.search(r"initcheck: seed (\d+)", first).group(1)
    again = pytester.runpytest("--initcheck-seed=last", "-s").stdout.str()
    assert f"initcheck: seed {seed}" in again
    assert re.search(r"SEED (\d+)", first).group(1) == re.search(r"SEED (\d+)", again).group(1)


def test_bad_options_are_usage_errors(pytester):
    pytester.makepyfile("def test_x():\n    pass\n")
    result = pytester.runpytest("--initcheck-seed=banana")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "give an int >= 0, 'random' or 'last'" in result.stderr.str()
    result = pytester.runpytest("--initcheck-alpha=2")
    assert result.ret == pytest.ExitCode.USAGE_ERROR and "(0, 1)" in result.stderr.str()


def test_marker_alpha_overrides_and_samples_option(pytester):
    pytester.makepyfile("""
import pytest, initcheck as ic

def test_power(initcheck_verify):
    report = initcheck_verify(ic.initializers.he_normal())
    print("ELEMENTS", report.meta["elements"], "ALPHA", report.alpha)

@pytest.mark.initcheck(alpha=1e-3)
def test_marked():
    return "he_normal"
""")
    result = pytester.runpytest("-s", "--initcheck-samples=200000", "--initcheck-summary")
    result.assert_outcomes(passed=2)
    out = result.stdout.str()
    elements = int(re.search(r"ELEMENTS (\d+)", out).group(1))
    assert abs(elements - 200000) < 2000
    # two verifying tests share 1e-4: the first call of a test gets half its share
    assert float(re.search(r"ALPHA ([0-9.e-]+)", out).group(1)) == pytest.approx(1e-4 / 2 / 2)
    assert "alpha 0.0005" in out  # the marker's 1e-3, halved for the first call


def test_xdist_workers_get_the_serial_seeds(pytester, tmp_path, monkeypatch):
    pytest.importorskip("xdist")
    pytester.makepyfile(SEEDS)
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    serial.mkdir(), parallel.mkdir()
    monkeypatch.setenv("SEED_DIR", str(serial))
    pytester.runpytest_subprocess("--initcheck-seed=5").assert_outcomes(passed=2)
    monkeypatch.setenv("SEED_DIR", str(parallel))
    pytester.runpytest_subprocess(
        "--initcheck-seed=5", "-n", "2", "-p", "no:randomly"
    ).assert_outcomes(passed=2)
    for name in ("a", "b"):
        assert (serial / name).read_text() == (parallel / name).read_text()


THREADS = """
import os

import numpy
import threadpoolctl


def test_threads():
    blas = [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(os.path.join(os.environ["SEED_DIR"], "threads-" + worker), "w") as fh:
        fh.write(f"{os.environ.get('OPENBLAS_NUM_THREADS')} {blas}")
"""


def test_random_seed_reaches_every_worker_and_blas_keeps_to_each_workers_cores(
        pytester, tmp_path, monkeypatch):
    """One run with two workers: each derives its test's seed from the controller's random
    session seed, and each caps its BLAS pool at cores // 2 (through the environment, which
    children inherit, and threadpoolctl) when no limit was set."""
    pytest.importorskip("xdist")
    pytest.importorskip("threadpoolctl")
    from initcheck.core import threads
    from initcheck.core.seeding import int_seed

    for name in threads.THREAD_VARIABLES:  # as on a fresh shell, where no limit is set
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SEED_DIR", str(tmp_path))
    pytester.makepyfile(test_seeds=SEEDS, test_one=THREADS, test_two=THREADS)
    result = pytester.runpytest_subprocess(
        "--initcheck-seed=random", "-n", "2", "-p", "no:randomly"
    )
    result.assert_outcomes(passed=4)
    seed = int(re.search(r"initcheck: seed (\d+)", result.stdout.str()).group(1))
    for name in ("a", "b"):
        assert int((tmp_path / name).read_text()) == int_seed(
            seed, "pytest", f"test_seeds.py::test_{name}"
        )
    expected = threads.per_worker(2)
    seen = [p.read_text() for p in tmp_path.glob("threads-gw*")]
    assert seen and all(s.split()[0] == str(expected) for s in seen), seen
    assert all(f"[{expected}" in s or "[]" in s for s in seen), seen


def test_plots_directory(pytester, tmp_path):
    pytest.importorskip("matplotlib")
    pytester.makepyfile("""
import pytest

@pytest.mark.initcheck(activation="relu", depth=8, width=32, batch=32)
def test_he():
    return "he_normal"
""")
    plots = tmp_path / "plots"
    pytester.runpytest(f"--initcheck-plots={plots}").assert_outcomes(passed=1)
    assert len(list(plots.glob("*.png"))) == 1


def test_marked_test_returning_none_is_an_error(pytester):
    pytester.makepyfile("""
import pytest

@pytest.mark.initcheck(expect="he_normal")
def test_nothing():
    pass
""")
    result = pytester.runpytest()
    assert "returned None: return the initializer" in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


def test_plugin_import_is_cheap():
    code = ("import sys, initcheck.pytest_plugin as p; "
            "print(','.join(m for m in ('numpy', 'scipy', 'matplotlib') if m in sys.modules))")
    assert run_python(code).strip() == ""  # nothing heavy until a fixture or marker is used


def test_a_limit_set_by_the_user_is_kept(monkeypatch):
    from initcheck.core import threads
    for name in threads.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKL_NUM_THREADS", "3")
    assert threads.user_limit() == 3 and threads.limit(1) == 3
    assert "OPENBLAS_NUM_THREADS" not in __import__("os").environ
    assert threads.per_worker(10**6) == 1 and threads.available_cores() >= 1


def test_marker_keywords_are_verify_keywords():
    import inspect

    import initcheck as ic
    from initcheck import pytest_plugin
    taken = set(inspect.signature(ic.verify).parameters) - {"initializer", "expect", "alpha"}
    assert set(pytest_plugin._VERIFY_KEYWORDS) == taken


def test_misspellings_and_failures_are_one_message(pytester):
    pytester.makepyfile("""
import pytest

@pytest.mark.initcheck(expect="he_normal", activaton="relu")
def test_keyword():
    return "he_normal"

@pytest.mark.initcheck(expect="he_nromal")
def test_spec_name():
    return "he_normal"

def test_fails(initcheck_verify):
    initcheck_verify("xavier_uniform", expect="he_normal", shapes=[(256, 128)])
""")
    result = pytester.runpytest()
    result.assert_outcomes(failed=3)
    out = result.stdout.str()
    assert "initcheck does not take 'activaton' (did you mean 'activation'?)" in out
    assert "Did you mean 'he_normal'" in out
    body = out.split("short test summary info")[0]  # the summary repeats each first line
    assert body.count("does not match spec('he_normal'") == 1
    assert "During handling of the above exception" not in out


EXPLORING = """
import math
import pytest
from hypothesis import settings
from initcheck import strategies

settings.register_profile("few", max_examples=7)
settings.load_profile("few")


def capped_he(shape, rng):
    fan = min(shape[1] * math.prod(shape[2:]), 2048)
    return rng.standard_normal(shape) * math.sqrt(2 / fan)


@pytest.mark.initcheck(explore=True)
def test_builtin_over_layers():
    return "he_uniform"


def test_fixture_uses_the_profile(initcheck_verify):
    found = initcheck_verify("xavier_normal", explore=strategies.layers(max_channels=32))
    assert found.passed and found.max_examples == 7


def test_capped(initcheck_verify):
    initcheck_verify(capped_he, "he_normal", explore=True, layout="torch", max_examples=100)


@pytest.mark.initcheck(explore=True, shapes=[(4, 4)])
def test_shapes_with_explore():
    return "he_normal"
"""


def test_explore_through_the_marker_and_the_fixture(pytester):
    """explore=True (or a strategy) searches layer shapes inside the test's share of the
    session budget, sized by the loaded Hypothesis profile unless the test says otherwise;
    a failure names the shrunk layer and the verify call that reproduces it."""
    pytester.makepyfile(EXPLORING)
    result = pytester.runpytest("-rA", "--initcheck-summary")
    result.assert_outcomes(passed=2, failed=2)
    out = result.stdout.str()
    assert "smallest failing layer" in out or "does not match" in out
    assert "reproduce: initcheck.verify(" in out and "--initcheck-seed=" in out
    assert "with explore=, initcheck takes" in out and "'shapes'" in out
