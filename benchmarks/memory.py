"""Peak memory of ``verify`` per element drawn (tracemalloc: NumPy's allocations), the
figure ``initcheck.core.memory`` bounds runs with; then the peak extra memory of
``check_model`` against the model's largest tensor (torch models: the model's own tensors
are torch's, so everything tracemalloc sees is the check's). Run by hand:
``python benchmarks/memory.py``."""

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


def model_peak(name: str) -> tuple[float, int]:
    """check_model's peak NumPy allocation over the largest tensor's bytes, and those bytes."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import load

    build, policy = load.MODELS[name]()
    model = build()
    if policy is None:
        policy = ic.describe_model(model).policy
    ic.check_model(model, policy)  # caches first
    largest = max(p.numel() * p.element_size() for p in model.state_dict().values())
    tracemalloc.start()
    ic.check_model(model, policy)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / largest, largest


def main() -> None:
    print(f"{'initializer':18} {'shape':>12} {'bytes/element':>14}  bound")
    for name in ("he_normal", "he_uniform", "truncated_normal", "orthogonal"):
        for shape in ((2048, 2048), (4096, 2048)):
            bound = memory.verify_bytes(1, ic.spec(name).family)
            print(
                f"{name:18} {'x'.join(map(str, shape)):>12}"
                f" {peak_per_element(name, shape):14.1f}  {bound}"
            )
    print(f"{'model':8} {'largest tensor':>15} {'check peak / largest':>21}")
    for name in ("gpt2", "bert", "t5", "cnn"):
        ratio, largest = model_peak(name)
        print(f"{name:8} {largest / 2**20:12.1f} MiB {ratio:20.2f}x")


if __name__ == "__main__":
    main()
