"""The README's examples are tested, not just shown: the pytest example runs under
pytester, the CI commands run in a shell with the exit codes they claim."""

import re
from pathlib import Path

import numpy  # noqa: F401 - loaded before pytester snapshots sys.modules
import pytest
import scipy.stats  # noqa: F401

try:  # the pytest example builds a torch model: torch must be loaded before pytester's
    import torch  # noqa: F401  # in-process run snapshots sys.modules (a re-import crashes)
except ImportError:
    pass
from helpers import run_shell, skip_without_what_it_names

import initcheck.verification.pipeline  # noqa: F401

README = Path(__file__).resolve().parent.parent / "README.md"


def block(tag: str) -> str:
    text = README.read_text()
    match = re.search(rf"<!-- example: {tag} -->\s*```\w+\n(.*?)```", text, re.S)
    assert match, f"README has no example block {tag!r}"
    return match.group(1)


def test_readme_pytest_example(pytester):
    skip_without_what_it_names(block("pytest"))
    pytester.makepyfile(test_my_inits=block("pytest"))
    pytester.runpytest().assert_outcomes(passed=4)


def test_readme_verify_example():
    skip_without_what_it_names(block("verify"))
    exec(compile(block("verify"), "README.md (verify example)", "exec"), {})


def test_readme_explore_example():
    skip_without_what_it_names(block("explore"))
    exec(compile(block("explore"), "README.md (explore example)", "exec"), {})


def test_readme_model_example():
    skip_without_what_it_names(block("model"))
    exec(compile(block("model"), "README.md (model example)", "exec"), {})


def test_readme_trace_example():
    skip_without_what_it_names(block("trace"))
    exec(compile(block("trace"), "README.md (trace example)", "exec"), {})


CI_COMMANDS = [line.split("  #")[0].strip() for line in block("ci").strip().splitlines()]


@pytest.mark.parametrize("command", CI_COMMANDS)
def test_readme_ci_commands(command, tmp_path):
    """Each CI line exits as the README says (0, or the code its `|| test $? -eq N` names),
    and writes the JSON it names."""
    skip_without_what_it_names(command)
    r = run_shell(command, tmp_path)
    assert r.returncode == 0, (command, r.stdout[-2000:], r.stderr[-2000:])
    for written in re.findall(r"--json (\S+\.json)", command):
        assert (tmp_path / written).exists(), (command, written)
