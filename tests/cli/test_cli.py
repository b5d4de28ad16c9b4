"""The command line, run as a user runs it (in this process: ``helpers.run_cli``; as a new
process where only a process shows it): its output, its exit code, and JSON validated against
the published schemas."""

import json

import jsonschema
import pytest
from helpers import cli_commands, run_cli, run_cli_process

from initcheck.core.schema import AUDIT, GAIN, REPORT, TRACE


def run(*args):
    return run_cli(*args)


def no_traceback(r):
    assert "Traceback" not in r.stderr, r.stderr


def test_the_process_exits_with_the_verdicts_code():
    """What only a new process shows: ``python -m initcheck`` reaches ``main`` and exits with
    its code (0 pass, 1 fail, 2 usage), with no traceback."""
    ok = run_cli_process("verify", "he_normal", "--shape", "64,64")
    bad = run_cli_process("verify", "xavier_normal", "--expect", "he_normal", "--shape", "256,256")
    usage = run_cli_process("verify", "no_such_initializer")
    assert (ok.returncode, bad.returncode, usage.returncode) == (0, 1, 2), usage.stderr
    assert "verdict: PASS" in ok.stdout and "no_such_initializer" in usage.stderr
    no_traceback(usage)


def test_each_run_imports_the_users_code_afresh(tmp_path):
    """The in-process runner forgets the user's modules, directory and environment after
    each run: two ``mine.py`` in two directories are two initializers."""
    import os
    import sys

    def run_in(std):
        where = tmp_path / f"std{std}"
        where.mkdir()
        (where / "mine.py").write_text(
            f"def init(shape, rng):\n    return rng.standard_normal(shape) * {std}\n")
        return run_cli("verify", "mine:init", "--expect", "normal", "--param", "std=1",
                       "--shape", "128,128", cwd=where).returncode

    first = run_in(1)  # after it, what the libraries set up on import stays, as it should
    state = (os.getcwd(), dict(os.environ), list(sys.path))
    assert (first, run_in(3)) == (0, 1)
    assert "mine" not in sys.modules
    assert (os.getcwd(), dict(os.environ), list(sys.path)) == state


def test_list_shows_every_builtin_at_the_article_shape():
    r = run("list")
    assert r.returncode == 0, r.stderr
    assert "fan_in=100, fan_out=100" in r.stdout
    for name in ("small_normal", "large_normal", "xavier_normal", "he_uniform", "orthogonal"):
        assert name in r.stdout
    assert "he_normal         0.1414  (-inf, inf)        N(0, 2/fan_in)" in r.stdout


def test_list_torch_conv_shape():
    r = run("list", "--shape", "64,32,3,3", "--layout", "torch")
    assert r.returncode == 0 and "fan_in=288, fan_out=576, receptive_field=9" in r.stdout


def test_verify_builtin_passes_with_json_to_stdout():
    r = run("verify", "he_normal", "--json", "-")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, REPORT)
    assert doc["passed"] and doc["initializer"] == "he_normal"


def test_verify_import_path_with_expect_and_params(tmp_path):
    module = tmp_path / "myinits.py"
    module.write_text(
        "import math\n"
        "import initcheck as ic\n"
        "def he_fan_out(shape, rng, dtype=None):\n"
        "    import numpy as np\n"
        "    std = math.sqrt(2 / ic.compute_fans(shape).fan_out)\n"
        "    return (rng.standard_normal(shape) * std).astype(dtype or np.float32)\n"
        "def scaled(shape, rng, dtype=None, factor=1.0):\n"
        "    return (rng.standard_normal(shape) * factor).astype(dtype)\n")
    env = {"PYTHONPATH": str(tmp_path)}
    import os
    env = {**os.environ, **env}

    def go(*args):
        return run_cli(*args, env=env)

    ok = go("verify", "myinits:he_fan_out", "--expect", "he_normal", "--param", "mode='fan_out'",
            "--shape", "64,32", "--shape", "3,3,16,8", "--json", str(tmp_path / "r.json"))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    jsonschema.validate(json.loads((tmp_path / "r.json").read_text()), REPORT)
    assert "verdict: PASS" in ok.stdout
    bad = go("verify", "myinits.he_fan_out", "--expect", "he_normal")  # dotted path, fan_in claim
    assert bad.returncode == 1 and "FAIL std" in bad.stdout
    kw = go(
        "verify",
        "myinits:scaled",
        "--expect",
        "normal",
        "--param",
        "std=2.0",
        "--kwarg",
        "factor=2.0",
    )
    assert kw.returncode == 0, kw.stdout + kw.stderr


def test_verify_with_activation_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    plot = tmp_path / "p.png"
    r = run("verify", "xavier_normal", "--activation", "relu", "--plot", str(plot))
    assert r.returncode == 1 and "FAIL propagation" in r.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("verify", "nosuchpackage_xyz:init", "--expect", "he_normal"),
            "no module named 'nosuchpackage_xyz'",
        ),
        (("verify", "numpy.random:norml", "--expect", "he_normal"), "Did you mean normal"),
        (("verify", "he_nromal"), "Did you mean he_normal"),
        (("verify", "he_normal", "--expect", "he_nrmal"), "Did you mean 'he_normal'"),
        (
            ("verify", "he_normal", "--expect", "he_normal", "--param", "fan_out"),
            "not of the form name=value",
        ),
        (
            ("verify", "he_normal", "--expect", "he_normal", "--param", "mdoe=1"),
            "did you mean 'mode'",
        ),
        (("verify", "he_normal", "--param", "mode=1"), "pass --expect NAME too"),
        (("verify", "he_normal", "--alpha", "3"), "must lie in (0, 1)"),
        (("verify", "he_normal", "--shape", "3x0"), "dimension 1 is 0"),
        (("verify", "he_normal", "--activation", "swish2"), "Allowed values"),
        (("verify", "numpy.random:normal", "--expect", "he_normal"), "raised TypeError"),
        (("simulate", "he_normal", "--depth", "0"), "depth must be >= 1"),
        (("simulate", "he_normal", "--activation", "tanhh"), "Did you mean 'tanh'"),
        (("audit", "caffe"), "Allowed values"),
        (("gain", "relu6"), "Allowed values"),
        (("list", "--shape", "three"), "integers separated by commas"),
        ((), "usage"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args, message):
    r = run(*args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    no_traceback(r)
    assert message in r.stderr + r.stdout


def test_audit_builtin_json_lists_every_initializer(tmp_path):
    """The JSON and the summary line (the README's CI example runs the complete audit)."""
    out = tmp_path / "audit.json"
    r = run("audit", "--no-propagation", "--json", str(out))
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, AUDIT)
    from initcheck.claims import specs
    assert [e["name"] for e in doc["initializers"]] == list(specs.SPECS)
    assert all(e["verdict"] == "pass" for e in doc["initializers"])
    assert "audit builtin: 16/16 pass" in r.stdout


def test_simulate_prints_the_table_and_writes_the_figure(tmp_path):
    pytest.importorskip("matplotlib")
    fig, prof = tmp_path / "h.png", tmp_path / "p.png"
    r = run("simulate", "small_normal", "--plot", str(fig), "--profile", str(prof))
    assert r.returncode == 0, r.stderr
    assert "pred grad" in r.stdout and fig.exists() and prof.exists()
    j = run("simulate", "he_normal", "--activation", "relu", "--depth", "3", "--json", "-")
    jsonschema.validate(json.loads(j.stdout), TRACE)


def test_gain_prints_derived_beside_torch():
    r = run("gain", "tanh")
    assert (
        r.returncode == 0
        and "forward        1.59254" in r.stdout
        and "torch table    1.66667" in r.stdout
    )


def test_gain_json_validates():
    j = run("gain", "selu", "--json", "-")
    jsonschema.validate(json.loads(j.stdout), GAIN)


def test_gain_says_when_torch_has_no_entry():
    g = run("gain", "gelu")
    assert g.returncode == 0 and "no entry for gelu" in g.stdout


def test_json_to_an_unwritable_place_is_a_usage_error(tmp_path):
    r = run("verify", "zeros", "--json", str(tmp_path / "missing" / "r.json"))
    assert r.returncode == 2 and "does not exist; create it first" in r.stderr
    assert r.stdout == ""  # refused before the run
    no_traceback(r)


MY_INIT = """
import math


def he(shape, rng):  # no dtype parameter: judged in the float64 it returns
    return rng.standard_normal(shape) * math.sqrt(2.0 / shape[0])


def grad_tensor(shape, rng):  # a torch tensor that requires grad
    import torch

    return torch.nn.Parameter(torch.from_numpy(he(shape, rng)))


def explodes(shape, rng):  # not an input error: a fault in the code under test
    raise SystemError("internal failure")
"""


def _run_in(directory, *args):
    return run_cli(*args, cwd=directory)


def test_import_paths_resolve_from_the_current_directory(tmp_path):
    (tmp_path / "myinit.py").write_text(MY_INIT)
    r = _run_in(tmp_path, "verify", "myinit:he", "--expect", "he_normal", "--shape", "256,128")
    assert r.returncode == 0, r.stderr
    assert "myinit:he" in r.stdout and "dtype float64" in r.stdout
    pytest.importorskip("torch")
    r = _run_in(
        tmp_path, "verify", "myinit:grad_tensor", "--expect", "he_normal", "--shape", "256,128"
    )
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "args, code, message",
    [
        (("verify", "myinit:he"), 2, "carries no spec: say what it claims with --expect NAME"),
        (
            ("verify", "a:b:c", "--expect", "he_normal"),
            2,
            "has 2 colons: an import path is package.module:attr",
        ),
        (
            ("verify", "myinit:he", "--expect", "he_normal", "--dtype", "float16"),
            2,
            "takes no dtype",
        ),
        (
            ("verify", "myinit:explodes", "--expect", "he_normal", "--framework", "numpy"),
            2,
            "raised SystemError",
        ),
    ],
)
def test_cli_inputs_name_the_fix(tmp_path, args, code, message):
    (tmp_path / "myinit.py").write_text(MY_INIT)
    r = _run_in(tmp_path, *args)
    assert r.returncode == code, (r.returncode, r.stderr)
    assert message in r.stderr and "Traceback" not in r.stderr, r.stderr


@pytest.mark.parametrize("args, message", [
    (("verify", "he_normal", "--plot", "p.png"), "add --activation"),
    (("verify", "he_normal", "--activation", "relu", "--plot", "missing/p.png"), "does not exist"),
    (("simulate", "--profile", "missing/p.png"), "does not exist"),
])
def test_plot_targets_are_checked_before_the_run(args, message):
    if message == "add --activation":  # else a missing matplotlib is said first
        pytest.importorskip("matplotlib")
    r = run(*args)
    assert r.returncode == 2 and message in r.stderr, r.stderr
    no_traceback(r)


def test_no_timings_json_diffs_clean_across_runs():
    a = run("verify", "he_normal", "--shape", "64,64", "--json", "-", "--no-timings")
    b = run("verify", "he_normal", "--shape", "64,64", "--json", "-", "--no-timings")
    assert a.returncode == b.returncode == 0 and a.stdout == b.stdout
    assert '"seconds"' not in a.stdout and '"draw_seconds"' not in a.stdout
    jsonschema.validate(json.loads(a.stdout), REPORT)


@pytest.mark.parametrize(
    "args",
    [
        ("list",),
        ("verify", "he_normal", "--shape", "64,64"),
        ("verify", "xavier_uniform", "--expect", "he_normal", "--shape", "64,64"),
        ("simulate", "--depth", "3"),
        ("gain", "tanh"),
    ],
)
def test_text_output_fits_100_columns(args):
    r = run(*args)
    assert r.returncode in (0, 1), r.stderr
    assert max(len(line) for line in r.stdout.splitlines()) <= 100, r.stdout


NETS = '''
import math


def capped_he(shape, rng):  # the fan capped at 2048: wrong only on wider layers
    fan = min(shape[1] * math.prod(shape[2:]), 2048)
    return rng.standard_normal(shape) * math.sqrt(2 / fan)


def mlp(width=32, depth=6):
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(*[torch.nn.Sequential(torch.nn.Linear(width, width),
                                                     torch.nn.Tanh()) for _ in range(depth)])
'''

#: One run of every command that writes JSON (a test below keeps it so), some twice: a pass
#: and a failure, a model trace and a width sweep.
JSON_COMMANDS = [
    ("verify", "he_normal", "--shape", "128,64"),
    ("verify", "xavier_normal", "--expect", "he_normal", "--shape", "256,128"),
    ("audit", "builtin", "--no-propagation"),
    ("identify", "he_normal", "--shape", "128,64"),
    ("explore", "he_normal", "--max-examples", "5"),
    ("explore", "nets:capped_he", "--expect", "he_normal", "--layout", "torch"),
    ("model", "torch.nn:Linear", "--kwarg", "in_features=64", "--kwarg", "out_features=32",
     "--policy", "torch"),
    ("describe", "nets:mlp"),
    ("diff", "nets:mlp", "nets:mlp"),
    ("trace", "nets:mlp", "--input-shape", "16,32"),
    ("trace", "nets:mlp", "--widths", "16,32,64", "--input-shape", "8,W"),
    ("simulate", "xavier_normal", "--depth", "3", "--width", "32", "--batch", "64"),
    ("gain", "tanh"),
]


def test_every_command_that_writes_json_is_validated_below():
    assert {args[0] for args in JSON_COMMANDS} == cli_commands("--json")


@pytest.mark.parametrize("args", JSON_COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_commands_json_on_stdout_is_valid_against_its_schema(args, tmp_path):
    """``--json -`` replaces the table with one document, valid against the schema its
    ``schema`` key names (initcheck.schema.SCHEMAS), whatever the verdict."""
    import os

    from initcheck.core.schema import SCHEMAS

    if args[0] in ("model", "trace", "describe", "diff"):
        pytest.importorskip("torch")
    (tmp_path / "nets.py").write_text(NETS)
    r = run_cli(*args, "--json", "-", cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert r.returncode in (0, 1), r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMAS[doc["schema"]])


def test_verify_a_framework_initializer_by_the_claim_it_states():
    """A torch.nn.init function is verified against the spec its own arguments declare; one
    whose law no spec states, or a plain function, is told to pass --expect (exit 2)."""
    pytest.importorskip("torch")
    ok = run_cli("verify", "torch.nn.init:xavier_normal_", "--shape", "256,128")
    assert ok.returncode == 0 and "verdict: PASS" in ok.stdout, ok.stdout + ok.stderr
    eye = run_cli("verify", "torch.nn.init:eye_")
    assert eye.returncode == 2 and "eye_ draws no law a spec states" in eye.stderr
    assert "Pass --expect NAME" in eye.stderr and "ic.spec" not in eye.stderr
    plain = run_cli("verify", "numpy.random:normal")
    assert plain.returncode == 2 and "carries no spec" in plain.stderr


def test_explore_exits_by_its_verdict_and_names_the_smallest_failing_layer(tmp_path):
    """``initcheck explore`` exits 0 when no layer fails, 1 with the shrunk layer and a
    reproduce line when one does (the fan capped at 2048: verify's defaults never reach
    it), 2 on bad input."""
    import os

    (tmp_path / "nets.py").write_text(NETS)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    ok = run_cli("explore", "xavier_normal", "--max-examples", "10", cwd=tmp_path, env=env)
    assert ok.returncode == 0 and "verdict: PASS" in ok.stdout, ok.stderr
    verify = run_cli("verify", "nets:capped_he", "--expect", "he_normal", "--layout", "torch",
                     cwd=tmp_path, env=env)
    assert verify.returncode == 0, verify.stdout
    bad = run_cli("explore", "nets:capped_he", "--expect", "he_normal", "--layout", "torch",
                  cwd=tmp_path, env=env)
    assert bad.returncode == 1, bad.stderr
    assert "smallest failing layer" in bad.stdout and "reproduce: initcheck.verify(" in bad.stdout
    assert max(len(line) for line in bad.stdout.splitlines()) <= 100
    usage = run_cli("explore", "he_normal", "--max-examples", "0", cwd=tmp_path, env=env)
    assert usage.returncode == 2 and "--max-examples" in usage.stderr
    no_traceback(usage)
