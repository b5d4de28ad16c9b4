"""``explore`` measured: its cost at ``max_examples=100`` for NumPy initializers, idle and
beside two spinning processes (one run); the power of each example (its std MDE); the
false-alarm rate of correct initializers over ``--seeds`` seeds at the default alpha and at
a level where a rate is measurable; and the layer-class defects of tests/layer_defects.py:
found or not, where first found, the shrunk layer, whether verify's defaults miss it. Run by
hand: ``python benchmarks/explore.py`` (``--seeds 100``)."""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from busy import busy  # noqa: E402
from layer_defects import DEFECTS, rf  # noqa: E402

import initcheck as ic  # noqa: E402


def he_torch(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A correct hand-written He normal in the torch layout."""
    return (rng.standard_normal(shape) * math.sqrt(2.0 / (shape[1] * rf(shape)))).astype(
        np.float32)


CORRECT = [("he_torch (NumPy)", he_torch, "he_normal", "torch"),
           ("he_normal (built-in)", "he_normal", None, None),
           ("xavier_uniform (built-in)", "xavier_uniform", None, None)]


def cost(runs: int) -> list[tuple[str, float, int, list[float]]]:
    out = []
    for name, init, expect, layout in CORRECT[:2] + [("fan_capped (defect)", *DEFECTS[0][:2],
                                                      "torch")]:
        times, found = [], None
        for _ in range(runs):
            start = time.perf_counter()
            found = ic.explore(init, expect, layout=layout, max_examples=100)
            times.append(time.perf_counter() - start)
        assert found is not None
        out.append((name, statistics.median(times), found.examples, list(found.mdes)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    idle = cost(args.runs)
    with busy(2):
        loaded = cost(args.runs)
    print(f"cost at max_examples=100 (median of {args.runs}; loaded: 2 spinning processes)")
    print(f"  {'initializer':28} {'verifies':>8} {'idle':>8} {'loaded':>8}  std MDE per example")
    for (name, t, n, mdes), (_, lt, _, _) in zip(idle, loaded):
        known = [m for m in mdes if math.isfinite(m)]
        print(f"  {name:28} {n:8d} {t:7.1f}s {lt:7.1f}s  {min(known):.3f} to {max(known):.3f},"
              f" median {statistics.median(known):.3f}")

    print(f"false alarms of correct initializers over {args.seeds} seeds")
    for alpha, examples in ((1e-6, 100), (0.3, 10)):
        for name, init, expect, layout in CORRECT:
            start = time.perf_counter()
            alarms = sum(not ic.explore(init, expect, layout=layout, max_examples=examples,
                                        alpha=alpha, seed=s).passed for s in range(args.seeds))
            print(f"  alpha {alpha:<6g} max_examples {examples:3d}  {name:28} {alarms:3d} of"
                  f" {args.seeds}  ({time.perf_counter() - start:.0f}s)")

    print("layer-class defects (max_examples=100, seed 0)")
    print(f"  {'defect':28} {'found':>5} {'verify':>7}  first found at -> shrunk to")
    for init, expect, layers, wrong, _ in DEFECTS:
        found = ic.explore(init, expect, layers=layers, layout="torch", max_examples=100)
        caught = not ic.verify(init, expect=expect, layout="torch").passed
        where = (f"{list(found.found_at or ())} -> {list(found.shape or ())}"
                 f" ({'in' if found.shape and wrong(found.layer, found.shape) else 'NOT in'}"
                 " its class)")
        print(f"  {init.__name__:28} {'yes' if not found.passed else 'NO':>5}"
              f" {'fails' if caught else 'passes':>7}  {where}; {found.examples} verifies,"
              f" {found.seconds:.1f}s")


if __name__ == "__main__":
    main()
