"""The house rules, checked on the source: the import graph (static, lazy and importlib
imports all counted) has no cycle and no import that points up a floor; the run-time path
never imports Hypothesis; every module is small and says in its first docstring line what it
is for. docs/architecture.md explains the floors."""

import ast
import re
from pathlib import Path

import pytest
from helpers import run_python

import initcheck

PACKAGE = Path(initcheck.__file__).resolve().parent  # the source tree's, or the installed wheel's
MAX_LINES = 400

#: Floors from the ground up, keyed by room: a folder of initcheck/ (its modules and
#: subfolders), or a module at the top level, which is no layer and so is named alone. A
#: module may import from its own room's floor or any floor below; a new module inherits its
#: folder's floor. docs/architecture.md shows the same floors (test_docs_show_every_room).
FLOORS: list[set[str]] = [
    {"core"},            # results, schema, fans, contract, seeding, defaults, limits
    {"theory"},          # activations, Gaussian expectations, mean field, gains
    {"claims", "strategies"},  # specs, laws, NumPy samplers; Hypothesis strategies over them
    {"sharding"},        # ShardedArray, Exchange, partial statistics, merges, slice keys
    {"stats"},           # statistical tests only
    {"frameworks"},      # one adapter per framework (leaves) and their dispatch
    {"propagation"},     # the property, the simulation, model traces, plots
    {"checks"},          # the battery of checks, contexts, default shapes
    {"identification"},  # identify, the claim space, sibling conventions
    {"verification"},    # verify
    {"audit"},           # catalogues and their runs
    {"models"},          # check_tensor, check_model, policies, presets
    {"cli", "pytest_plugin", "__main__"},  # the faces
]


def room(module: str) -> str:
    """The room a module lives in: its top folder, or itself at the top level."""
    return module.split(".")[0]


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if p.parent.name != "__pycache__"
    }


def _targets(node: ast.AST, here: str, known: set[str]) -> set[str]:
    """The initcheck modules one AST node imports (plain, from-, and importlib imports)."""
    found: set[str] = set()
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:  # relative: resolve against this module's package
            pkg = here.split(".")[: -node.level] if here else []
            base = ".".join([*pkg, base] if base else pkg)
            base = f"initcheck.{base}" if base else "initcheck"
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
          and node.args):
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            names = [arg.value]
        elif isinstance(arg, ast.JoinedStr):  # f"initcheck.frameworks.{name}_adapter"
            pattern = "".join(re.escape(v.value) if isinstance(v, ast.Constant) else ".+"
                              for v in arg.values)
            found |= {m for m in known if re.fullmatch(pattern, f"initcheck.{m}")}
    for name in names:
        if name.startswith("initcheck."):
            short = name[len("initcheck."):]
            if short in known:
                found.add(short)
    return found - {here}


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    graph = {}
    for name, path in modules.items():
        if name == "":  # the package itself: its lazy table names every public module
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = set().union(*(_targets(n, name, known) for n in ast.walk(tree)))
        graph[name].discard("")
    return graph


def _floor(module: str) -> int:
    for i, floor in enumerate(FLOORS):
        if room(module) in floor:
            return i
    raise AssertionError(f"module {module!r} is in no room of FLOORS: put it in a folder, or"
                         " decide where a new top-level module belongs (docs/architecture.md)")


def test_every_module_has_a_floor_and_imports_only_down():
    upward = [f"{m} (floor {_floor(m)}) imports {t} (floor {_floor(t)})"
              for m, targets in import_graph().items() for t in targets if _floor(t) > _floor(m)]
    assert not upward, "\n".join(upward)


def test_import_graph_has_no_cycle():
    graph = import_graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_graph_sees_lazy_and_importlib_imports():
    """The checker itself: the adapters' importlib dispatch and the audit's lazy loaders are
    edges, and a made-up upward import would be caught."""
    graph = import_graph()
    assert {"frameworks.torch_adapter", "frameworks.jax_adapter"} <= graph["frameworks.dispatch"]
    assert "audit.catalogues.torch" in graph["audit.runner"]
    assert "stats.moments" in graph["stats"]
    known = set(_modules())
    tree = ast.parse("def f():\n    from initcheck import audit\n")
    assert _targets(tree.body[0].body[0], "core.fans", known) == {"audit"}
    assert _floor("audit") > _floor("core.fans")  # so that import would fail the floor test


@pytest.mark.parametrize(
    "call",
    [
        "initcheck.verify(initcheck.claims.initializers.he_normal(), shapes=[(64, 64)])",
        "initcheck.simulate('he_normal', 'relu', depth=2, width=8, batch=8)",
    ],
)
def test_run_time_path_does_not_import_hypothesis(call):
    code = f"import sys, initcheck\n{call}\nprint('hypothesis' in sys.modules)"
    assert run_python(code).split()[-1] == "False"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_small_and_says_what_it_is_for(module):
    path = _modules()[module]
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines; split it by concern"
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc and len(doc.split("\n")[0]) > 10, f"{path} needs a docstring saying what it is for"


def test_docs_show_every_room():
    """docs/architecture.md names every module (``folder/module.py``, or a bare
    ``module.py`` in a list under its folder) and no module that is not there."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "architecture.md").read_text()
    tree = doc[doc.index("```text"):doc.index("```", doc.index("```text") + 7)]
    named = set(re.findall(r"[\w.]+\.py", tree))
    files = {p.relative_to(PACKAGE) for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts}
    missing = sorted(str(f) for f in files if f.name != "__init__.py" and f.name not in named)
    assert not missing, f"docs/architecture.md does not name {missing}"
    stale = sorted(n for n in named if n != "__init__.py" and not any(f.name == n for f in files))
    assert not stale, f"docs/architecture.md names modules that do not exist: {stale}"
    layers = [name for name in re.findall(r"^(\w+)\s{2,}", tree, re.M) if name != "faces"]
    floors = [_floor(name) for name in layers]  # the page lists them from the top floor down
    assert floors == sorted(floors, reverse=True) and len(set(floors)) == len(floors), layers


def test_the_tests_mirror_the_package():
    """Each folder of the package has its folder of tests here, and no test folder names a
    folder the package lacks: a newcomer finds a module's tests where the module is."""
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    tests = {p.name for p in Path(__file__).parent.iterdir()
             if p.is_dir() and any(p.glob("test_*.py"))}
    assert tests == folders, {"package folders without tests": sorted(folders - tests),
                              "test folders without a package folder": sorted(tests - folders)}
