"""The command line, run as a user runs it: a subprocess, its output and exit code."""

import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "initcheck", *args], capture_output=True,
                          text=True, timeout=120)


def test_list_shows_every_builtin_at_the_article_shape():
    r = run("list")
    assert r.returncode == 0, r.stderr
    assert "fan_in=100, fan_out=100" in r.stdout
    for name in ("small_normal", "large_normal", "xavier_normal", "he_uniform", "orthogonal"):
        assert name in r.stdout
    assert "he_normal         N(0, 2/fan_in)" in r.stdout


def test_list_torch_conv_shape():
    r = run("list", "--shape", "64,32,3,3", "--layout", "torch")
    assert r.returncode == 0 and "fan_in=288, fan_out=576, receptive_field=9" in r.stdout


def test_bad_shape_is_exit_2_with_a_message_not_a_traceback():
    r = run("list", "--shape", "3x3x0x4")
    assert r.returncode == 2
    assert "dimension 2 is 0" in r.stderr and "Traceback" not in r.stderr
    r = run("list", "--shape", "three")
    assert r.returncode == 2 and "integers separated by commas" in r.stderr


def test_no_command_prints_help_and_exits_2():
    r = run()
    assert r.returncode == 2 and "usage" in r.stdout
