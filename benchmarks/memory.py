"""Peak memory of ``verify`` per element drawn (tracemalloc: NumPy's allocations), the
figure ``initcheck.core.memory`` bounds runs with. Run by hand: ``python benchmarks/memory.py``."""

from __future__ import annotations

import math
import tracemalloc

import initcheck as ic
from initcheck.core import memory


def peak_per_element(name: str, shape: tuple[int, ...]) -> float:
    ic.verify(name, shapes=[(64, 32)])  # imports and caches first: they are not per element
    tracemalloc.start()
    ic.verify(name, shapes=[shape])
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / math.prod(shape)


def main() -> None:
    print(f"{'initializer':18} {'shape':>12} {'bytes/element':>14}  bound")
    for name in ("he_normal", "he_uniform", "truncated_normal", "orthogonal"):
        for shape in ((2048, 2048), (4096, 2048)):
            bound = memory.verify_bytes(1, ic.spec(name).family)
            print(
                f"{name:18} {'x'.join(map(str, shape)):>12}"
                f" {peak_per_element(name, shape):14.1f}  {bound}"
            )


if __name__ == "__main__":
    main()
