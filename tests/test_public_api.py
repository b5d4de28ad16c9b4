"""The declared public API: one table (``initcheck/__init__.pyi``), the same names in
``__all__`` and on docs/api.md, no package named like an exported function, and initcheck 0.2's
flat import paths still working with a DeprecationWarning that names the new path."""

import importlib
import re
import sys
import warnings
from pathlib import Path

import pytest
from helpers import run_python

import initcheck as ic
from initcheck.core import compat

DOCS = Path(__file__).resolve().parents[1] / "docs" / "api.md"
PACKAGE = Path(ic.__file__).resolve().parent


def test_all_is_the_stub_table_and_every_name_resolves():
    assert ic.__all__ == sorted(ic._EXPORTS) and len(ic.__all__) == len(set(ic.__all__))
    for name in ic.__all__:
        assert getattr(ic, name) is not None, name
    assert "numpy" not in run_python("import sys, initcheck; print(sorted(sys.modules))")


def test_docs_api_page_documents_exactly_the_exported_names():
    documented = re.findall(r"^::: initcheck\.(\w+)$", DOCS.read_text(encoding="utf-8"), re.M)
    assert len(documented) == len(set(documented)), "a name is documented twice"
    missing, extra = set(ic.__all__) - set(documented), set(documented) - set(ic.__all__)
    assert not missing and not extra, f"docs/api.md lacks {sorted(missing)}, has {sorted(extra)}"


def test_no_package_or_module_shadows_an_exported_function():
    """Importing a submodule sets it as its package's attribute: a module named like an
    exported function would replace that function (``initcheck.verify``)."""
    names = {p.stem for p in PACKAGE.rglob("*.py")} | {
        p.name for p in PACKAGE.rglob("*") if p.is_dir()
    }
    functions = {
        n for n in ic.__all__ if callable(getattr(ic, n)) and not isinstance(getattr(ic, n), type)
    }
    assert not names & functions, sorted(names & functions)


@pytest.mark.parametrize("old", sorted(compat.MOVED))
def test_old_module_paths_warn_and_are_the_new_modules(old):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match=re.escape(f"{old} moved to {compat.MOVED[old]}")):
        module = importlib.import_module(old)
    new = importlib.import_module(compat.MOVED[old])
    assert module is new and new.__spec__.name == compat.MOVED[old]


@pytest.mark.parametrize("package", sorted(compat.FORMER_MODULES))
def test_old_names_of_modules_that_became_packages_warn(package):
    home = importlib.import_module(compat.FORMER_MODULES[package])
    own = vars(importlib.import_module(package))  # its submodules, once imported
    name = next(
        n for n in getattr(home, "__all__", dir(home)) if not n.startswith("_") and n not in own
    )
    with pytest.warns(DeprecationWarning, match=re.escape(f"{package}.{name} moved to")):
        value = getattr(importlib.import_module(package), name)
    assert value is getattr(home, name)
    with pytest.raises(AttributeError):
        _ = importlib.import_module(package).no_such_name


def test_new_paths_and_subpackage_attributes_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        importlib.import_module("initcheck.propagation.simulation")
        assert ic.stats.ks_test is importlib.import_module("initcheck.stats").ks_test
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = ic.no_such_name


def _functions():
    return [
        n
        for n in ic.__all__
        if callable(getattr(ic, n))
        and not isinstance(getattr(ic, n), type)
        and not isinstance(getattr(ic, n), type(ic))
    ]


@pytest.mark.parametrize("name", _functions())
def test_every_exported_function_documents_each_parameter(name):
    """Google style, as the docs site renders it: Args naming every parameter, Returns,
    Raises and an Example."""
    import inspect

    fn = getattr(ic, name)
    doc = inspect.getdoc(fn) or ""
    for section in ("Args:", "Returns:", "Raises:", "Example:"):
        assert f"\n{section}\n" in f"\n{doc}\n", f"{name}'s docstring has no {section} section"
    args = doc.split("Args:\n", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^    (\*{0,2}\w+)(?: \([^)]*\))?:", args, re.M))
    params = {
        ("**" if p.kind is p.VAR_KEYWORD else "*" if p.kind is p.VAR_POSITIONAL else "") + p.name
        for p in inspect.signature(fn).parameters.values()
    }
    assert params == documented, f"{name}: parameters {sorted(params)}, Args {sorted(documented)}"


def _result_types() -> list[str]:
    """Every exported result type (a ``Result``), so a new one is held to the style."""
    from initcheck.core.results import Result

    return sorted(n for n in ic.__all__
                  if isinstance(getattr(ic, n), type) and issubclass(getattr(ic, n), Result))


RESULT_TYPES = _result_types()


@pytest.mark.parametrize("name", RESULT_TYPES)
def test_every_exported_result_type_documents_each_field(name):
    """The same style for result types: Attributes naming every field, and an Example."""
    import dataclasses
    import inspect

    doc = inspect.getdoc(getattr(ic, name)) or ""
    assert "\nAttributes:\n" in doc and "\nExample:\n" in doc, name
    attrs = doc.split("Attributes:\n", 1)[1].split("\n\n", 1)[0]
    documented = set(re.findall(r"^    (\w+):", attrs, re.M))
    fields = {f.name for f in dataclasses.fields(getattr(ic, name)) if not f.name.startswith("_")}
    assert fields == documented, f"{name}: fields {sorted(fields)}, Attributes {sorted(documented)}"
