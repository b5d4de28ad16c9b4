"""The command line as a first-time user meets it: every command's text within 80 columns
(a pipe, a CI log), messages that name the command line's own spelling, the user's code
failing as the user's code (exit 2, where it raised), outputs checked before the run, model
runs that reproduce, help that says each default once with an example."""

import math
import os
import re
import sys
import time

import numpy as np
import pytest
from helpers import cli_commands, run_cli

import initcheck as ic
from initcheck import stats
from initcheck.cli.inputs import in_cli_language
from initcheck.frameworks import install_hint

USER = '''
import math  # torch only inside the models: the initializers here run without it


def mlp(width=64):
    import torch

    return torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.Tanh(),
                               torch.nn.Linear(width, width))


def tripled():
    import torch

    m = torch.nn.Linear(64, 64)
    with torch.no_grad():
        m.weight.mul_(3)
    return m


def boom():
    raise RuntimeError("CUDA out of memory (pretend)")


def picky(width=64):
    if width % 2:
        raise ValueError("width must be even")
    return mlp(width)


def typo():
    import torch

    return torch.nn.Linear("64", 64)


def init_breaks(shape, rng):
    raise KeyError("no such table")


def capped_he(shape, rng):
    fan = min(shape[1] * math.prod(shape[2:]), 2048)
    return rng.standard_normal(shape) * math.sqrt(2 / fan)
'''

BROKEN_MODULE = "raise ImportError('a dependency of mine is missing')\n"


@pytest.fixture
def cli(tmp_path):
    (tmp_path / "user.py").write_text(USER)
    (tmp_path / "broken.py").write_text(BROKEN_MODULE)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    env.pop("COLUMNS", None)
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # --seed last: this test's own

    def run(*args, **kw):
        return run_cli(*args, cwd=tmp_path, env=env, **kw)
    run.path = tmp_path
    return run


WIDE_COMMANDS = [
    ("list",),
    ("verify", "he_normal"),
    ("verify", "xavier_uniform", "--expect", "he_normal"),
    ("explore", "user:capped_he", "--expect", "he_normal", "--layout", "torch"),
    ("identify", "he_normal", "--shape", "128,64"),
    ("audit", "builtin", "--no-propagation"),
    ("model", "user:tripled", "--policy", "torch"),
    ("model", "user:mlp", "--policy", "torch"),
    ("describe", "user:mlp"),
    ("diff", "user:mlp", "user:tripled", "--kwarg", "width=64"),
    ("trace", "user:mlp", "--input-shape", "16,64"),
    ("simulate", "--depth", "4"),
    ("gain", "tanh"),
]


@pytest.mark.parametrize("args", WIDE_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_command_fits_80_columns_when_not_a_terminal(cli, args):
    if args[0] in ("model", "describe", "diff", "trace"):  # the user's models are torch's
        pytest.importorskip("torch")
    if args[0] == "diff":  # two factories: one with kwarg width, one without
        args = ("diff", "user:mlp", "user:mlp")
    r = cli(*args)
    assert r.returncode in (0, 1), r.stderr
    wide = [line for line in r.stdout.splitlines() if len(line) > 80]
    assert not wide, wide
    assert "\x1b[" not in r.stdout  # no colour off a terminal


def test_numbers_carry_their_precision():
    assert ic.verify("he_normal", shapes=[(64, 32)], alpha=1e-6 / 12).reproduce().endswith(
        "alpha=1e-06 / 12, dtype='float32')")
    ks = stats.ks_test(np.ones(3), 1e-6)  # D = 1 at n = 3: the reported bound is a real one
    assert not ks.passed and ks.threshold < 1.0
    for spec in (ic.spec("he_uniform", nonlinearity="leaky_relu", a=math.sqrt(5)),
                 ic.spec("xavier_uniform", gain=1 / math.sqrt(3)),
                 ic.spec("variance_scaling", scale=1 / 3, distribution="uniform"),
                 ic.spec("normal", std=1.000000000001)):  # as typed: kept
        text = repr(spec)
        assert len(text) < 80 and eval("ic." + text).params == spec.params  # noqa: S307
    assert "a=5 ** 0.5" in repr(ic.spec("he_uniform", nonlinearity="leaky_relu", a=5 ** 0.5))
    fitted = ic.identify(lambda shape, rng: rng.uniform(-0.3712, 0.3712, shape),
                         shapes=[(256, 128)])
    assert fitted and "(fitted)" in str(fitted[0])
    assert not re.search(r"\d\.\d{5,}", fitted[0].claim), fitted[0].claim  # 4 digits: a fit's
    zero = ic.identify(lambda shape, rng: 0 * rng.standard_normal(shape), shapes=[(64, 32)])
    assert all("nan" not in str(c) for c in zero)


@pytest.mark.parametrize("message, spelled", [
    ("pass vectors='length' to use", "pass --kwarg vectors=length to use"),
    ("or pass backward=False.", "or pass --forward-only."),
    ("verify only shapes it supports (shapes=[(784, 256), (3, 3, 16, 32)])",
     "verify only shapes it supports (--shape 784,256 --shape 3,3,16,32)"),
    ("pass framework='torch', 'jax' or 'keras'.", "pass --framework torch, jax or keras."),
    ("expect=initcheck.spec('he_normal', mode='fan_out')",
     "--expect he_normal --param mode=fan_out"),
])
def test_the_command_line_names_its_own_spelling(message, spelled):
    assert in_cli_language(message) == spelled


def test_cli_errors_speak_flags_not_python(cli):
    r = cli("verify", "he_normal", "--shape", "64")
    assert r.returncode == 2 and "--kwarg vectors=length" in r.stderr
    assert "vectors='length'" not in r.stderr
    negative = cli("verify", "he_normal", "--shape", "-1,3")  # not "expected one argument"
    assert negative.returncode == 2 and "--shape -1,3: dimension 0 is -1" in negative.stderr


def _line(text):
    """user.py's line number of the first line holding ``text``."""
    return f"user.py:{next(i for i, l in enumerate(USER.splitlines(), 1) if text in l)}"


@pytest.mark.parametrize("target, kind, line", [
    ("user:boom", "RuntimeError: CUDA out of memory (pretend)", _line("CUDA out of memory")),
    ("user:picky", "ValueError: width must be even", _line("width must be even")),
    ("user:typo", "TypeError:", _line('Linear("64"')),
])
def test_the_users_code_fails_as_the_users_code(cli, target, kind, line):
    if target == "user:typo":  # the others raise before they reach torch
        pytest.importorskip("torch")
    kwargs = ("--kwarg", "width=63") if target == "user:picky" else ()
    r = cli("model", target, "--policy", "torch", *kwargs)
    assert r.returncode == 2, r.stderr
    assert f"raised by {target} at " in r.stderr and line in r.stderr and kind in r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


def test_an_import_an_initializer_and_a_file_path_are_the_users_too(cli):
    imported = cli("model", "broken:make", "--policy", "torch")
    assert imported.returncode == 2
    assert "raised by importing broken at " in imported.stderr and "broken.py:1" in imported.stderr
    drawn = cli("verify", "user:init_breaks", "--expect", "he_normal")
    assert drawn.returncode == 2 and "KeyError at " in drawn.stderr
    assert _line("no such table") in drawn.stderr
    missing = cli("model", f"{cli.path / 'nope.py'}:mlp", "--policy", "torch")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    pytest.importorskip("torch")
    by_path = cli("model", f"{cli.path / 'user.py'}:mlp", "--policy", "torch")
    assert by_path.returncode == 0, by_path.stderr


def test_outputs_are_checked_before_the_run(cli):
    start = time.perf_counter()
    r = cli("audit", "builtin", "--json", str(cli.path / "missing" / "audit.json"))
    assert r.returncode == 2 and "does not exist" in r.stderr and r.stdout == ""
    assert time.perf_counter() - start < 30  # refused before the audit ran
    folder = cli("verify", "he_normal", "--json", str(cli.path))
    assert folder.returncode == 2 and "is a directory" in folder.stderr


def test_a_plot_without_matplotlib_is_refused_before_the_run(cli, monkeypatch):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else found(name, *a))
    r = cli("simulate", "he_normal", "--activation", "relu", "--plot", str(cli.path / "h.png"))
    assert r.returncode == 2 and r.stdout == "", r.stdout  # nothing ran
    assert r.stderr.strip() == (
        f"initcheck simulate: error: --plot {cli.path / 'h.png'} needs matplotlib, which is not"
        " installed: pip install 'initcheck[plot]' (or leave out --plot)")


def test_framework_mismatch_flat_shapes_and_none_are_named(cli):
    with pytest.raises(ValueError, match=r"is one shape, but shapes is a list of shapes"):
        ic.verify("he_normal", shapes=(784, 256))
    with pytest.raises(ValueError, match="initializer is None"):
        ic.verify(None)
    pytest.importorskip("torch")
    torch_init = cli("verify", "torch.nn.init:kaiming_normal_", "--framework", "jax")
    assert torch_init.returncode == 2
    assert "is a torch initializer, so --framework jax cannot call it" in torch_init.stderr


def test_model_runs_reproduce_from_their_seed(cli):
    pytest.importorskip("torch")
    first = cli("model", "user:mlp", "--policy", "torch", "--seed", "3")
    again = cli("model", "user:mlp", "--policy", "torch", "--seed", "3")
    other = cli("model", "user:mlp", "--policy", "torch", "--seed", "4")
    assert first.returncode == 0 and first.stdout == again.stdout != other.stdout
    assert first.stdout.startswith("initcheck model: seed 3")
    drawn = cli("model", "user:tripled", "--policy", "torch", "--seed", "random")
    assert drawn.returncode == 1
    seed = drawn.stdout.splitlines()[0].split()[-1]
    assert f"reproduce: initcheck model user:tripled --policy torch --seed {seed}" in drawn.stdout
    last = cli("model", "user:tripled", "--policy", "torch", "--seed", "last")
    assert last.stdout.splitlines()[0] == f"initcheck model: seed {seed}"


COMMANDS = sorted(cli_commands())


def test_every_command_is_laid_out_above():
    assert {args[0] for args in WIDE_COMMANDS} == set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_says_each_default_once_and_shows_an_example(cli, command):
    r = cli(command, "--help")
    assert r.returncode == 0
    assert "(default: None)" not in r.stdout and "example:" in r.stdout
    assert not any(line.count("default") > 1 for line in r.stdout.splitlines())
    if command in ("verify", "explore", "identify"):
        assert "haiku" in r.stdout
    if command == "gain":
        assert "an activation's name" in r.stdout


def test_a_missing_extra_names_what_to_install():
    assert install_hint(ModuleNotFoundError("x", name="torch")) == "pip install 'initcheck[torch]'"
    assert install_hint(ModuleNotFoundError("x", name="matplotlib.pyplot")) == (
        "pip install 'initcheck[plot]'")
    assert install_hint(ModuleNotFoundError("x", name="transformers")) == (
        "pip install transformers")


def test_a_module_that_is_not_installed_is_named_with_its_install(cli):
    """A missing framework names its extra; a module the user's module imports names where;
    a module that is nowhere names the close matches."""
    from initcheck.cli.inputs import _not_found

    torch = ModuleNotFoundError("No module named 'torch'", name="torch")
    assert _not_found("torch.nn.init", torch) == (
        "cannot import 'torch.nn.init': torch is not installed (pip install 'initcheck[torch]')")
    assert "it imports 'torch' at " in _not_found("mynets", torch)
    assert _not_found("mynets", torch).endswith("which is not installed"
                                                " (pip install 'initcheck[torch]')")
    (cli.path / "needy.py").write_text("import surely_not_installed_xyz\n")
    needy = cli("verify", "needy:init", "--expect", "he_normal")
    assert needy.returncode == 2 and "Traceback" not in needy.stderr
    assert ("cannot import 'needy': it imports 'surely_not_installed_xyz' at "
            f"{cli.path / 'needy.py'}:1, which is not installed") in needy.stderr
    nowhere = cli("verify", "numpyy.random:normal")
    assert nowhere.returncode == 2 and "Did you mean numpy" in nowhere.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    from initcheck.core.text import paint, use_color

    class Tty:
        def isatty(self):
            return True

    text = "  FAIL std: too wide\nverdict: FAIL (3/4 checks passed)\nrow  pass"
    assert paint(text, False) == text
    painted = paint(text, True).splitlines()
    assert painted[0].startswith("\x1b[31m") and painted[1].startswith("\x1b[31m")
    assert painted[2] == "row  pass"
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_color(Tty()) and not use_color(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(Tty())


def test_the_width_is_columns_then_the_terminals_then_80(monkeypatch):
    import io

    from initcheck.core import text

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(text.shutil, "get_terminal_size", lambda fallback: os.terminal_size(
        (int(os.environ.get("COLUMNS", 132)), 40)))
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a pipe, a file, a redirect
    assert text.text_width() == 80
    monkeypatch.setattr(sys, "stdout", Tty())
    assert text.text_width() == 132
    monkeypatch.setenv("COLUMNS", "100")
    assert text.text_width() == 100
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert text.text_width() == 100  # COLUMNS is asked for, terminal or not
    monkeypatch.setenv("COLUMNS", "20")
    assert text.text_width() == text.MIN_WIDTH


def test_a_models_forward_pass_is_the_users_code(cli):
    pytest.importorskip("torch")
    (cli.path / "fwd.py").write_text(
        "import torch\n\n\nclass Odd(torch.nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.lin = torch.nn.Linear(8, 8)\n\n"
        "    def forward(self, x):\n        raise RuntimeError('my forward is broken')\n\n\n"
        "def make():\n    return Odd()\n")
    r = cli("trace", "fwd:make", "--input-shape", "4,8")
    assert r.returncode == 2, r.stderr
    assert "Odd raised RuntimeError at " in r.stderr and "fwd.py:10" in r.stderr


def test_a_factory_that_takes_a_key_gets_one_from_the_seed(cli):
    pytest.importorskip("flax")
    (cli.path / "jaxnets.py").write_text(
        "from flax import nnx\n\n\ndef make(rngs):\n    return nnx.Linear(64, 32, rngs=rngs)\n\n\n"
        "def keyed(key, width=64):\n    import jax\n"
        "    return {'w': jax.random.normal(key, (width, 32)) * (1 / width) ** 0.5}\n")
    first = cli("model", "jaxnets:make", "--policy", "flax", "--seed", "5")
    again = cli("model", "jaxnets:make", "--policy", "flax", "--seed", "5")
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    other = cli("describe", "jaxnets:keyed", "--seed", "6")
    assert other.returncode == 0, other.stderr
    assert cli("describe", "jaxnets:keyed", "--seed", "6").stdout == other.stdout


def test_initchecks_own_fault_inside_user_code_stays_initchecks():
    """An exception whose innermost frame is initcheck's stays what it is (exit 3 in the
    CLI, 'please report it'), though it surfaced while the user's code ran."""
    from initcheck.cli.inputs import UserCodeError, user_code
    from initcheck.core.contract import raised_inside_initcheck
    from initcheck.core.fans import compute_fans

    def users():
        raise RuntimeError("mine")

    with pytest.raises(UserCodeError, match="raised by mine at .*test_faces.py"):
        with user_code("mine"):
            users()
    with pytest.raises(ValueError) as ours:
        with user_code("mine"):
            compute_fans((3,))  # raised by initcheck's own validation
    assert not isinstance(ours.value, UserCodeError)
    assert raised_inside_initcheck(ours.value)


def test_the_users_line_is_found_past_frameworks_installed_anywhere(tmp_path, monkeypatch):
    """A framework raising for the user's code points to the user's line, also where the
    framework lies in a site-packages outside the Python installation (pip install --user,
    a PYTHONPATH'd environment)."""
    import importlib

    from initcheck.core.contract import raised_at

    site = tmp_path / "home" / ".local" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "somefw.py").write_text("def layer(n):\n    raise TypeError('n must be an int')\n")
    (tmp_path / "mynet.py").write_text("import somefw\n\n\ndef build():\n"
                                       "    return somefw.layer('64')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    for name in ("mynet", "somefw"):  # forgotten again when the test ends
        monkeypatch.setitem(sys.modules, name, importlib.import_module(name))
    with pytest.raises(TypeError) as info:
        sys.modules["mynet"].build()
    assert raised_at(info.value) == f"{tmp_path / 'mynet.py'}:5"
