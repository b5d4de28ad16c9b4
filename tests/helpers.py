"""Helpers the test modules share, written once.

``run_cli`` runs the package under test as the ``initcheck`` command (``sys.executable -m
initcheck``: never whatever ``initcheck`` is first on PATH); ``run_shell`` runs a shell line,
as a README or docs page shows it, with an ``initcheck`` on PATH that is that same package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

#: Seconds one command may take (a CLI run draws at most a few million values).
TIMEOUT = 600
#: Examples per property at which a Hypothesis profile counts as the long run by hand
#: (conftest.py's ``wide``), which also widens the seed sweeps.
WIDE_EXAMPLES = 1000


def seeds(ci: int, wide: int) -> range:
    """The seeds a sweep runs: ``wide`` of them under the ``wide`` profile (by hand), ``ci``
    otherwise. A sweep's claim (no false alarm on any seed) holds for each seed alone; more
    seeds only measure the rate, which ``benchmarks/calibration.py`` does over hundreds."""
    from hypothesis import settings

    return range(wide if settings.default.max_examples >= WIDE_EXAMPLES else ci)


def run_cli(*args: str, cwd: str | Path | None = None, env: dict[str, str] | None = None,
            timeout: float = TIMEOUT) -> subprocess.CompletedProcess[str]:
    """``initcheck ARGS`` of the package under test, its output captured as text."""
    return subprocess.run([sys.executable, "-m", "initcheck", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


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
