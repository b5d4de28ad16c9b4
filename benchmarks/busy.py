"""The load the benchmarks measure under: ``busy(n)`` keeps ``n`` processes spinning on the
CPU for the length of a ``with`` block (a shared CI machine, reproduced on purpose), so one
run can time the same work idle and loaded side by side."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def busy(processes: int, settle: float = 1.0) -> Iterator[None]:
    """``processes`` spinning Python processes, started ``settle`` seconds before the block
    runs and killed after it, whatever happens inside."""
    spin = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(processes)]
    try:
        time.sleep(settle)
        yield
    finally:
        for p in spin:
            p.kill()
