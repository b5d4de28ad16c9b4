"""Memory: verify's peak per element stays under the bound initcheck.core.memory states (and the
README prints), and runs that will not fit are refused up front with the numbers and the fix
(in the CLI: exit 2, no traceback)."""

import math
import tracemalloc

import pytest
from helpers import run_cli

import initcheck as ic
from initcheck.core import memory


@pytest.mark.parametrize("name", ["he_normal", "truncated_normal", "orthogonal"])
def test_verify_peak_is_under_the_stated_bound(name):
    shape = (2048, 1024)
    ic.verify(name, shapes=[(64, 32)])  # imports and caches first: they are not per element
    tracemalloc.start()
    try:
        ic.verify(name, shapes=[shape])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak <= memory.verify_bytes(math.prod(shape), ic.spec(name).family), peak / math.prod(
        shape
    )


def test_too_large_is_refused_before_anything_is_drawn(monkeypatch):
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    with pytest.raises(
        ValueError, match=r"needs about 1\.5 GiB, more than the 0\.8 GiB.*smaller shapes"
    ):
        ic.verify("he_normal", shapes=[(2**13, 2**13)])
    with pytest.raises(ValueError, match="Lower the width or the batch"):
        ic.simulate("he_normal", "relu", width=4096, batch=4096)
    ic.verify("he_normal", shapes=[(256, 256)])  # what fits still runs


@pytest.mark.parametrize("args", [["verify", "he_normal", "--shape", "32768,32768"],
                                  ["simulate", "--width", "30000", "--batch", "30000"]])
def test_cli_refuses_with_exit_2_and_no_traceback(args):
    r = run_cli(*args)
    assert r.returncode == 2 and "needs about" in r.stderr and "Traceback" not in r.stderr, r.stderr
