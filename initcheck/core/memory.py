"""Memory bounds: what a run will need, estimated before it starts, and refused up front with
the numbers and the fix when it will not fit in the memory this machine has available."""

from __future__ import annotations

import os

#: Peak bytes per element ``verify`` holds at once (the float32 draw, a second draw, one
#: transient float64 standardized copy; summaries and the cosine of two draws accumulate in
#: chunks): 19 measured with tracemalloc on 4-8M-element float32 tensors
#: (``python benchmarks/memory.py``), rounded up.
VERIFY_BYTES_PER_ELEMENT = 24
#: Orthogonal initializers add their QR's float64 copies: 61-65 measured, rounded up.
ORTHOGONAL_BYTES_PER_ELEMENT = 80
#: Share of the available memory a run may plan to use: the rest is headroom for the
#: interpreter, the frameworks and the estimate's error.
USABLE_SHARE = 0.8


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux MemAvailable), else the physical
    memory, else None where the OS does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def require(needed: float, what: str, fix: str) -> None:
    """Raise ValueError if ``needed`` bytes will not fit (``what`` names the run, ``fix``
    how to make it smaller)."""
    available = available_bytes()
    if available is not None and needed > USABLE_SHARE * available:
        raise ValueError(
            f"{what} needs about {_gib(needed)}, more than the {_gib(USABLE_SHARE * available)}"
            f" it may use of the {_gib(available)} available. {fix}"
        )


def verify_bytes(elements: int, family: str) -> int:
    """The peak ``verify`` reaches for ``elements`` drawn under a claim of ``family``."""
    per = ORTHOGONAL_BYTES_PER_ELEMENT if family == "orthogonal" else VERIFY_BYTES_PER_ELEMENT
    return elements * per


def simulate_bytes(widths: list[int], batch: int, backward: bool) -> int:
    """The peak of a simulated net in float64: a few batch x width activations at a time
    forward; backward also keeps every layer's weights and phi'(h)."""
    widest = batch * max(widths)
    weights = [a * b for a, b in zip(widths[:-1], widths[1:])]
    if backward:
        return 8 * (sum(weights) + widest * (len(weights) + 4))
    return 8 * (max(weights) + 4 * widest)
