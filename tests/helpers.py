"""Helpers the test modules share, written once.

``run_cli`` runs ``initcheck ARGS`` of the package under test in this process, as pytester's
``runpytest`` runs pytest: ``initcheck.cli.parser.main`` with its own working directory,
environment, streams and import path, all restored after (a new interpreter for each of the
suite's ~200 command lines cost more than half its time). ``run_cli_process`` runs it as a
user does, ``sys.executable -m initcheck`` (never whatever ``initcheck`` is first on PATH), for
what only a process shows: the entry point and the exit status.
``run_shell`` runs a shell line, as a README or docs page shows it, with an ``initcheck`` on
PATH that is that same package.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import os
import random
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from initcheck.frameworks import EXTRAS

#: Seconds one command may take (a CLI run draws at most a few million values).
TIMEOUT = 600
#: Examples per property at which a Hypothesis profile counts as the long run by hand
#: (conftest.py's ``wide``), which also widens the seed sweeps.
WIDE_EXAMPLES = 1000


#: Modules that come with one of initcheck's extras (the package's own table), or that tests
#: build models with: a test that needs one skips where it is not installed.
OPTIONAL = frozenset(EXTRAS) | {"transformers"}


def skip_without_what_it_names(text: str) -> None:
    """Skip the calling test when ``text`` (a command line, a code block) names a module from
    ``OPTIONAL`` that is not installed: as an import path (``torch.nn:Linear``), an import
    statement or a ``--framework``."""
    import pytest

    named = re.findall(r"\b([A-Za-z_]\w*)(?:\.\w+)*:\w", text)
    named += re.findall(r"^\s*(?:import|from)\s+([A-Za-z_]\w*)", text, re.M)
    named += re.findall(r"--framework[ =](\w+)", text)
    for module in dict.fromkeys(named):
        if module in OPTIONAL:
            pytest.importorskip(module)


def seeds(ci: int, wide: int) -> range:
    """The seeds a sweep runs: ``wide`` of them under the ``wide`` profile (by hand), ``ci``
    otherwise. A sweep's claim (no false alarm on any seed) holds for each seed alone; more
    seeds only measure the rate, which ``benchmarks/calibration.py`` does over hundreds."""
    from hypothesis import settings

    return range(wide if settings.default.max_examples >= WIDE_EXAMPLES else ci)


@dataclasses.dataclass(frozen=True)
class Ran:
    """A command line's outcome: the fields of ``subprocess.CompletedProcess`` tests read."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str


def _under(path: str, dirs: list[str]) -> bool:
    real = os.path.realpath(path)
    return any(real == d or real.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _users_module(name: str, module: object, added: list[str], before: list[str]) -> bool:
    """Whether a module a run imported is the user's (to forget after the run): it lies where
    the run's own ``sys.path`` entries point (its directory, its ``PYTHONPATH``) or nowhere
    the test process could import from (a file given by path). initcheck's are never."""
    path = getattr(module, "__file__", None)
    if not path or name == "initcheck" or name.startswith("initcheck."):
        return False
    return _under(path, added) or not _under(path, before)


@contextlib.contextmanager
def _as_a_new_process(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[None]:
    """This process dressed as ``python -m initcheck ARGS`` started in ``cwd`` with ``env``
    (``PYTHONPATH`` and the working directory on ``sys.path``); everything the run may change
    that outlives it (environment, directory, path, modules, argv, global RNGs, BLAS pools)
    restored on the way out."""
    from threadpoolctl import threadpool_limits

    saved_env, saved_dir = dict(os.environ), os.getcwd()
    saved_path, saved_argv, saved_modules = list(sys.path), list(sys.argv), set(sys.modules)
    saved_random, saved_numpy = random.getstate(), np.random.get_state()
    torch = sys.modules.get("torch")
    saved_torch = torch.get_rng_state() if torch is not None else None
    extra = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    with threadpool_limits(limits=None):  # restores the pools' sizes on exit
        try:
            os.environ.clear()
            os.environ.update(env)
            os.chdir(cwd)
            sys.path[:0] = [str(cwd), *extra]
            sys.argv = ["initcheck", *args]
            importlib.invalidate_caches()  # files the test just wrote are importable
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
            os.chdir(saved_dir)
            sys.path[:], sys.argv[:] = saved_path, saved_argv
            added = [os.path.realpath(p) for p in (str(cwd), *extra)]
            before = [os.path.realpath(p or ".") for p in saved_path]
            for name in set(sys.modules) - saved_modules:
                if _users_module(name, sys.modules[name], added, before):
                    del sys.modules[name]
            random.setstate(saved_random)
            np.random.set_state(saved_numpy)
            if saved_torch is not None:
                torch.set_rng_state(saved_torch)


def _shown(caught: list[warnings.WarningMessage]) -> str:
    return "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
                   for w in caught)


def run_cli(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None) -> Ran:
    """``initcheck ARGS`` of the package under test, run in this process (see the module's
    docstring); its exit code and its output as text. Warnings show on its stderr as a new
    interpreter shows them (deprecations hidden outside ``__main__``)."""
    from initcheck.cli.parser import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with _as_a_new_process(argv, Path(cwd or os.getcwd()), dict(os.environ if env is None
                                                                 else env)), \
            warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.resetwarnings()  # a new interpreter's filters
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):
            warnings.simplefilter("ignore", category)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help, --version, a usage error
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return Ran(argv, code, out.getvalue(), _shown(caught) + err.getvalue())


def run_python(code: str) -> str:
    """What ``code`` prints in a new interpreter (this one's executable): for what only a
    fresh process shows, as which modules an import loads."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=TIMEOUT).stdout


def run_cli_process(*args: str, cwd: str | Path | None = None,
                    env: dict[str, str] | None = None,
                    timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``initcheck ARGS`` as a user runs it: ``sys.executable -m initcheck`` in a new process
    (the package under test, never whatever ``initcheck`` is first on PATH)."""
    return subprocess.run([sys.executable, "-m", "initcheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def cli_commands(option: str | None = None) -> set[str]:
    """The ``initcheck`` commands (those that take ``option``, if given), read from the
    parser, so a list of commands a test runs can be checked against every command."""
    import argparse

    from initcheck.cli.parser import build_parser

    (commands,) = [a for a in build_parser()._actions
                   if isinstance(a, argparse._SubParsersAction)]
    return {name for name, sub in commands.choices.items()
            if option is None or any(option in a.option_strings for a in sub._actions)}


def command_dir(where: Path) -> Path:
    """A directory holding an ``initcheck`` script that runs the package under test."""
    bin_dir = where / "initcheck-under-test"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "initcheck"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m initcheck "$@"\n')
    script.chmod(0o755)
    return bin_dir


def run_shell(line: str, cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``bash -c LINE`` in ``cwd``, where ``initcheck`` (and ``python``) are the package and
    interpreter under test; the test asserts which ``initcheck`` ran."""
    bin_dir = command_dir(cwd)
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                                 os.environ.get("PATH", "")])}
    found = subprocess.run(["bash", "-c", "command -v initcheck"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
    assert Path(found) == bin_dir / "initcheck", f"initcheck resolves to {found}"
    return subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
