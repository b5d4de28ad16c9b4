"""The package's public names: lazy, cheap, and never shadowed by a submodule."""

import subprocess
import sys

from helpers import run_cli_process, run_python


def test_public_functions_survive_submodule_imports():
    out = run_python(
        "import initcheck.verification.pipeline, initcheck.propagation.simulation\n"
        "import initcheck.theory.meanfield, initcheck.audit.runner\n"
        "import initcheck as ic\n"
        "print(callable(ic.verify), callable(ic.simulate), callable(ic.gain), callable(ic.spec))"
    )
    assert out.split() == ["True"] * 4


def test_import_is_cheap_and_names_resolve():
    out = run_python("import sys, initcheck as ic\n"
               "print('numpy' in sys.modules)\n"
               "print(sorted(n for n in ic.__all__ if getattr(ic, n, None) is None))")
    first, second = out.splitlines()
    assert first == "False" and second == "[]"


def test_version_is_read_from_the_installed_metadata():
    from importlib.metadata import version

    import initcheck as ic

    assert ic.__version__ == version("initcheck") != "0+unknown"
    cli = run_cli_process("--version").stdout
    assert cli.split() == ["initcheck", ic.__version__]


def test_installed_package_is_typed_and_its_entry_points_load():
    """What the wheel must carry: py.typed, the console script and the pytest11 plugin. Under
    CI (INITCHECK_TEST_INSTALLED names the installed package), the suite must be testing
    that install, not a source tree on sys.path."""
    import os
    import shutil
    from importlib.metadata import entry_points
    from pathlib import Path

    import initcheck as ic

    package = Path(ic.__file__).resolve().parent
    assert (package / "py.typed").is_file()
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "initcheck"]
    assert callable(script.load())
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "initcheck"]
    assert plugin.load().__name__ == "initcheck.pytest_plugin"
    assert shutil.which("initcheck") is not None
    installed = os.environ.get("INITCHECK_TEST_INSTALLED")
    if installed:
        assert package == Path(installed).resolve() and "site-packages" in package.parts
        assert not (package.parent / "pyproject.toml").exists()  # not a checkout


def _mypy(*args: str) -> subprocess.CompletedProcess:
    import pytest

    pytest.importorskip("mypy")
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]  # the repository, or CI's copy of the suite
    config = next(p for p in (root / "pyproject.toml", root / "pytest-config.toml") if p.exists())
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           "--config-file", str(config), *args], capture_output=True, text=True,
                          cwd=root)


def test_a_users_typed_test_file_type_checks_and_runs(tmp_path):
    """tests/typed_usage.py type-checks under --strict against initcheck's annotations; a
    copy with one wrong annotation does not, so the names are typed, not Any."""
    from pathlib import Path

    usage = Path(__file__).with_name("typed_usage.py")
    wrong = tmp_path / "typed_wrong.py"
    wrong.write_text(usage.read_text().replace("fans: ic.Fans =", "fans: str ="))
    found = _mypy(str(usage), str(wrong))  # one run: numpy's stubs are read once
    errors = [line for line in found.stdout.splitlines() if ": error:" in line]
    assert errors and all(line.startswith(str(wrong)) for line in errors), (
        found.stdout + found.stderr
    )
    assert 'expression has type "Fans", variable has type "str"' in errors[0], errors
    namespace: dict = {}
    exec(compile(usage.read_text(), str(usage), "exec"), namespace)
    for name in (
        "test_my_init_is_he_normal",
        "test_a_builtin_and_its_law",
        "test_gain_and_simulation",
    ):
        namespace[name]()
