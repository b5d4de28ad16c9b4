"""The package's public names: lazy, cheap, and never shadowed by a submodule."""

import subprocess
import sys


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_public_functions_survive_submodule_imports():
    out = _run("import initcheck.verification, initcheck.simulation, initcheck.theory, initcheck.audit\n"
               "import initcheck as ic\n"
               "print(callable(ic.verify), callable(ic.simulate), callable(ic.gain), callable(ic.spec))")
    assert out.split() == ["True"] * 4


def test_import_is_cheap_and_names_resolve():
    out = _run("import sys, initcheck as ic\n"
               "print('numpy' in sys.modules)\n"
               "print(sorted(n for n in ic.__all__ if getattr(ic, n, None) is None))")
    first, second = out.splitlines()
    assert first == "False" and second == "[]"
