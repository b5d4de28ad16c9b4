"""initcheck's pytest plugin (registered through the ``pytest11`` entry point).

Fixtures ``initcheck_verify``, ``initcheck_model`` and ``initcheck_seed``; the ``initcheck``
marker (both take ``explore=True``, or a strategy of layers, to run ``initcheck.explore``
over layer shapes within the test's share of the budget); options
``--initcheck-seed`` (int, ``random`` or ``last``), ``--initcheck-alpha`` (the session's
false-alarm budget), ``--initcheck-samples`` (elements drawn per verify: power),
``--initcheck-plots=DIR`` and ``--initcheck-summary``, each with an ini key
(``initcheck_seed`` ...) and an environment variable (``INITCHECK_SEED`` ...).
Precedence: marker > command-line option > environment > ini file > default.

Seeds: each test's seed is derived from the session seed and the test's node id with a
stable hash, so every xdist worker, in any order, gives a test the same seed. Budget: the
session's alpha is split evenly over the tests that verify; within a test the k-th verify
call gets 1/2^k of the test's share, so the session never spends more than its budget.

Threads: each xdist worker caps its BLAS/OpenMP pools at its share of the cores (one per
worker on a 2-core machine with ``-n 2``), so a parallel run is faster than a serial one;
a limit set in the environment (``OMP_NUM_THREADS`` ...) is kept.

This module imports nothing heavy: numpy and the verification stack load on first use.
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest

from initcheck.core import threads
from initcheck.core.defaults import DEFAULT_SESSION_ALPHA

#: verify keywords that describe the propagation net; a marker may give them directly.
_PROPAGATION_KEYWORDS = ("depth", "width", "batch", "bias")
#: The keywords verify takes besides the initializer, expect and alpha.
_VERIFY_KEYWORDS = ("framework", "layout", "shapes", "samples", "seed", "dtype", "convention",
                    "name", "activation", "propagation")
_OPTIONS = {  # name: (ini key, environment variable, default, help)
    "seed": (
        "initcheck_seed",
        "INITCHECK_SEED",
        "0",
        "session seed: an int, 'random' (picked and shown), or 'last' (the previous run's)",
    ),
    "alpha": (
        "initcheck_alpha",
        "INITCHECK_ALPHA",
        str(DEFAULT_SESSION_ALPHA),
        f"family-wise false-alarm budget of the whole session (default {DEFAULT_SESSION_ALPHA:g})",
    ),
    "samples": (
        "initcheck_samples",
        "INITCHECK_SAMPLES",
        "",
        "elements each verify draws (default: verify's ~870k); more gives more power",
    ),
    "plots": ("initcheck_plots", "INITCHECK_PLOTS", "", "directory for propagation plots (PNG)"),
    "summary": (
        "initcheck_summary",
        "INITCHECK_SUMMARY",
        "false",
        "print a table of every verify call at the end of the session",
    ),
}
_CACHE_KEY = "initcheck/seed"
_STATE = pytest.StashKey["_Session"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("initcheck", "initcheck: verifiable weight initialization")
    for name, (ini, env, default, text) in _OPTIONS.items():
        flag = f"--initcheck-{name}"
        if name == "summary":
            group.addoption(flag, action="store_const", const="true", default=None,
                            help=f"{text} (ini {ini}, env {env})")
        else:
            group.addoption(
                flag, default=None, metavar=name.upper(), help=f"{text} (ini {ini}, env {env})"
            )
        parser.addini(ini, help=text, default=default)


def _setting(config: pytest.Config, name: str) -> str:
    ini, env, default, _ = _OPTIONS[name]
    value = config.getoption(f"--initcheck-{name}")
    if value is not None:
        return str(value)
    if os.environ.get(env):
        return os.environ[env]
    return str(config.getini(ini) or default)


class _Session:
    """Settings and bookkeeping of one pytest session (per process)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.seed = self._resolve_seed(config)
        self.alpha = _float(_setting(config, "alpha"), "--initcheck-alpha")
        if not 0 < self.alpha < 1:
            raise pytest.UsageError(
                f"--initcheck-alpha={self.alpha}: a budget must lie in (0, 1), e.g. 1e-4"
            )
        raw = _setting(config, "samples")
        self.samples = int(_float(raw, "--initcheck-samples")) if raw else None
        if self.samples is not None and self.samples < 1000:
            raise pytest.UsageError(f"--initcheck-samples={raw}: give at least 1000 elements")
        self.plots = _setting(config, "plots") or None
        self.summary = _setting(config, "summary").lower() in ("1", "true", "yes", "on")
        self.verifying_tests = 1
        self.records: list[dict[str, Any]] = []
        self.calls: dict[str, int] = {}

    @staticmethod
    def _resolve_seed(config: pytest.Config) -> int:
        workerinput = getattr(config, "workerinput", None)
        if workerinput is not None and "initcheck_seed" in workerinput:
            return int(workerinput["initcheck_seed"])  # xdist: the controller's seed
        raw = _setting(config, "seed").strip().lower()
        if raw == "random":
            return random.SystemRandom().randrange(2**32)
        if raw == "last":
            cache = getattr(config, "cache", None)
            cached = cache.get(_CACHE_KEY, None) if cache is not None else None
            if cached is None:
                raise pytest.UsageError(
                    "--initcheck-seed=last: no previous seed is cached; run once first"
                )
            return int(cached)
        try:
            seed = int(raw)
        except ValueError:
            raise pytest.UsageError(
                f"--initcheck-seed={raw!r}: give an int >= 0, 'random' or 'last'"
            ) from None
        if seed < 0:
            raise pytest.UsageError(f"--initcheck-seed={seed}: must be >= 0")
        return seed

    def test_seed(self, nodeid: str) -> int:
        from initcheck.core.seeding import int_seed

        return int_seed(self.seed, "pytest", nodeid)

    def next_alpha(self, nodeid: str, marker_alpha: float | None = None) -> float:
        """The alpha of the next verify call in test ``nodeid``: half of what is left of the
        test's share (the test's share is the session budget over the verifying tests)."""
        k = self.calls.get(nodeid, 0) + 1
        self.calls[nodeid] = k
        share = marker_alpha if marker_alpha is not None else self.alpha / self.verifying_tests
        return share / 2**k


def _float(text: str, option: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise pytest.UsageError(f"{option}={text!r} is not a number") from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "initcheck(expect=None, activation=None, alpha=None, shapes=None, framework='auto',"
        " layout=None, explore=False, **verify_kwargs): verify the initializer the test returns"
        " (or names) against `expect`; alpha overrides the test's share of the session budget;"
        " explore=True (or a strategy of layers) searches layer shapes instead (initcheck."
        "explore, max_examples=...); other keywords go to initcheck.verify (depth, width, ...).")
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:  # an xdist worker: its share of the cores
        threads.limit(threads.per_worker(int(workerinput.get("workercount", 1))))
    state = _Session(config)
    config.stash[_STATE] = state
    cache = getattr(config, "cache", None)  # absent with -p no:cacheprovider
    if cache is not None and getattr(config, "workerinput", None) is None:
        cache.set(_CACHE_KEY, state.seed)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:  # xdist hook: give workers the session seed
    node.workerinput["initcheck_seed"] = node.config.stash[_STATE].seed


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[_STATE]
    return (f"initcheck: seed {s.seed} (rerun with --initcheck-seed={s.seed} or"
            f" --initcheck-seed=last), session alpha {s.alpha:g}")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    verifying = [i for i in items if i.get_closest_marker("initcheck") is not None
                 or {"initcheck_verify", "initcheck_model"} & set(getattr(i, "fixturenames", ()))]
    # every process sees the whole collection, so each computes the same split
    config.stash[_STATE].verifying_tests = max(1, len(verifying))


@pytest.fixture
def initcheck_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: a stable hash of the session seed and the test's node id."""
    return request.config.stash[_STATE].test_seed(request.node.nodeid)


@pytest.fixture
def initcheck_verify(request: pytest.FixtureRequest, initcheck_seed: int):
    """``initcheck_verify(init, expect=None, **verify_kwargs) -> Report``: verify with this
    test's seed and its share of the session budget; a failed check fails the test with
    the report's numbers (pass ``fail=False`` to get the report back instead). With
    ``explore=True`` (or a strategy of layers or shapes) it runs ``initcheck.explore`` and
    returns its ``ExploreResult``."""

    def run(init: Any, expect: Any = None, *, fail: bool = True, **kwargs: Any):
        __tracebackhide__ = True
        return _verify_for(request.node, init, expect, kwargs, fail)

    return run


@pytest.fixture
def initcheck_model(request: pytest.FixtureRequest):
    """``initcheck_model(model, policy, *, strict=False, framework="auto") -> ModelReport``:
    ``check_model`` with this test's share of the session budget; a failed tensor fails the
    test with its numbers (pass ``fail=False`` to get the report back instead)."""

    def run(model: Any, policy: Any, *, strict: bool = False, framework: str = "auto",
            alpha: float | None = None, fail: bool = True):
        __tracebackhide__ = True
        from initcheck.models import check_model

        item = request.node
        state: _Session = item.config.stash[_STATE]
        share = state.next_alpha(item.nodeid, alpha)
        report = _or_fail(item, lambda: check_model(model, policy, alpha=share, strict=strict,
                                                    framework=framework))
        state.records.append({"test": item.nodeid, "initializer": report.model,
                              "spec": f"policy {report.policy}", "passed": report.passed,
                              "alpha": share, "spent": report.alpha_spent,
                              "checks": len(report.rows),
                              "failed": [r.name for r in report.failures]})
        item.add_report_section("call", "initcheck", str(report))
        if fail and not report.passed:
            pytest.fail(report.failure_message(), pytrace=False)
        return report

    return run


def _or_fail(item: pytest.Item, run: Any) -> Any:
    """``run()`` (a verify or check_model call); bad input fails the test with its one line
    that names the fix (outside the ``except``, so no exception is chained under it)."""
    __tracebackhide__ = True
    try:
        return run()
    except ValueError as exc:
        error = f"{item.nodeid}: {exc}"
    pytest.fail(error, pytrace=False)


def _verify_for(item: pytest.Item, init: Any, expect: Any, kwargs: dict[str, Any], fail: bool):
    __tracebackhide__ = True
    from initcheck.verification.pipeline import verify

    state: _Session = item.config.stash[_STATE]
    marker_alpha = kwargs.pop("alpha", None)
    alpha = state.next_alpha(item.nodeid, marker_alpha)
    kwargs.setdefault("seed", state.test_seed(item.nodeid))
    search = kwargs.pop("explore", None)
    if search is not None and search is not False:
        return _explore_for(item, state, init, expect, search, alpha, kwargs, fail)
    if "max_examples" in kwargs:
        raise pytest.UsageError(f"{item.nodeid}: max_examples sizes a search: pass explore=True.")
    if state.samples is not None and "shapes" not in kwargs:
        kwargs["samples"] = state.samples
    net = {k: kwargs.pop(k) for k in _PROPAGATION_KEYWORDS if k in kwargs}
    if net:
        from initcheck.propagation.property import PropagationOptions

        if kwargs.get("activation") is None:
            raise pytest.UsageError(f"{item.nodeid}: {', '.join(net)} describe the propagation"
                                    " net; pass activation= too.")
        kwargs["propagation"] = PropagationOptions(kwargs.pop("activation"), **net)
    unknown = [k for k in kwargs if k not in _VERIFY_KEYWORDS]
    if unknown:
        import difflib

        close = [difflib.get_close_matches(k, [*_VERIFY_KEYWORDS, *_PROPAGATION_KEYWORDS], n=1)
                 for k in unknown]
        hints = ", ".join(f"{k!r}" + (f" (did you mean {c[0]!r}?)" if c else "")
                          for k, c in zip(unknown, close))
        pytest.fail(f"{item.nodeid}: initcheck does not take {hints}", pytrace=False)
    report = _or_fail(item, lambda: verify(init, expect=expect, alpha=alpha, **kwargs))
    state.records.append({"test": item.nodeid, "initializer": report.initializer,
                          "spec": report.spec, "passed": report.passed, "alpha": alpha,
                          "spent": report.alpha_spent, "checks": len(report.checks),
                          "failed": [c.name for c in report.failures]})
    if state.plots and report.trace is not None:
        _plot(state.plots, item.nodeid, report.trace)
    item.add_report_section("call", "initcheck", str(report))
    if fail and not report.passed:  # the message once: no exception chained under it
        pytest.fail(f"{report.failure_message()}\n(pytest: --initcheck-seed={state.seed}; test"
                    f" seed {state.test_seed(item.nodeid)})", pytrace=False)
    return report


def _explore_for(item: pytest.Item, state: _Session, init: Any, expect: Any, search: Any,
                 alpha: float, kwargs: dict[str, Any], fail: bool):
    """``explore`` (``explore=True``, or a strategy of layers or shapes) at this test's
    seed and share of the budget; the loaded Hypothesis profile sizes it unless the test
    says ``max_examples``."""
    __tracebackhide__ = True
    from initcheck.verification.exploration import explore

    allowed = ("framework", "layout", "dtype", "seed", "max_examples")
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        pytest.fail(f"{item.nodeid}: with explore=, initcheck takes {', '.join(allowed)}; not"
                    f" {', '.join(map(repr, unknown))}", pytrace=False)
    kwargs.setdefault("max_examples", None)
    layers = None if search is True else search
    found = _or_fail(item, lambda: explore(init, expect, layers=layers, alpha=alpha, **kwargs))
    state.records.append({"test": item.nodeid, "initializer": found.initializer,
                          "spec": found.spec, "passed": found.passed, "alpha": alpha,
                          "spent": alpha, "checks": found.examples,
                          "failed": [] if found.passed else [f"layer {list(found.shape or ())}"]})
    item.add_report_section("call", "initcheck", str(found))
    if fail and not found.passed:
        pytest.fail(f"{found.failure_message()}\n(pytest: --initcheck-seed={state.seed}; test"
                    f" seed {state.test_seed(item.nodeid)})", pytrace=False)
    return found


def _plot(directory: str, nodeid: str, trace: Any) -> None:
    from pathlib import Path

    from initcheck.propagation import plot
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in nodeid)
    plot.save(plot.depth_profile(trace), Path(directory) / f"{safe}.png")


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Tests marked ``initcheck`` return (or name) an initializer; it is verified."""
    marker = pyfuncitem.get_closest_marker("initcheck")
    if marker is None:
        return None
    __tracebackhide__ = True
    funcargs = pyfuncitem.funcargs
    args = {name: funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    init = pyfuncitem.obj(**args)
    if init is None:
        raise pytest.UsageError(
            f"{pyfuncitem.nodeid} is marked initcheck but returned None: return the initializer"
            " (or a built-in name) to verify.")
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("expect", marker.args[0])
    expect = kwargs.pop("expect", None)
    if isinstance(init, str):
        from initcheck.claims import initializers
        init = initializers.get(init)
    _verify_for(pyfuncitem, init, expect, kwargs, fail=True)
    return True


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state: _Session = config.stash[_STATE]
    if not state.summary or not state.records:
        return
    tr = terminalreporter
    tr.write_sep("=", "initcheck summary")
    for r in state.records:
        verdict = "PASS" if r["passed"] else "FAIL " + ",".join(r["failed"])
        tr.write_line(
            f"{verdict:<6} {r['test']}  {r['initializer']} vs {r['spec']}  alpha {r['alpha']:.3g}"
        )
    spent = sum(r["alpha"] for r in state.records)
    tr.write_line(f"initcheck: {len(state.records)} verify calls in this process, alpha spent"
                  f" {spent:.3g} of the session budget {state.alpha:g}; seed {state.seed}")
