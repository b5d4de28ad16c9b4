"""Speed and memory of ``simulate``. Run by hand: ``python benchmarks/simulate.py``.

1. Forward and backward through depth 50, width 1024, batch 1024 against a bare NumPy loop
   doing the same work: draw each weight, matmul, activation and its derivative forward,
   matmul and multiply backward. Target: at most 1.3x. Both run side by side, median of
   ``--repeat`` runs.
2. Forward-only peak memory (tracemalloc, which sees NumPy's allocations) at depth 10 and
   200: independent of depth (target: within 10%).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np

import initcheck as ic
from initcheck.theory.activations import get as get_activation


def bare_loop(activation: str, depth: int, width: int, batch: int, seed: int) -> float:
    act = get_activation(activation)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    weights, derivs = [], []
    std = np.sqrt(2.0 / width)
    for _ in range(depth):
        w = rng.standard_normal((width, width)) * std
        h = x @ w
        x = act.phi(h)
        weights.append(w)
        derivs.append(act.dphi(h))
    g = rng.standard_normal((batch, width))
    for _ in range(depth):
        delta = derivs.pop() * g
        g = delta @ weights.pop().T
    return float(g[0, 0])


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_forward(depth: int, width: int, batch: int) -> int:
    tracemalloc.start()
    ic.simulate("he_normal", "relu", depth=depth, width=width, batch=batch, backward=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=50)
    args = parser.parse_args()
    for activation in ("relu", "tanh"):
        init = "he_normal" if activation == "relu" else "xavier_normal"
        ic.simulate(init, activation, depth=args.depth, width=64, batch=8)  # warm theory caches
        sim = timed(lambda: ic.simulate(init, activation, depth=args.depth, width=args.width,
                                        batch=args.batch), args.repeat)
        bare = timed(
            lambda: bare_loop(activation, args.depth, args.width, args.batch, 0), args.repeat
        )
        print(f"{activation:5} fwd+bwd depth {args.depth}, width {args.width}, batch {args.batch}:"
              f" simulate {sim:.2f}s, bare loop {bare:.2f}s, ratio {sim / bare:.2f}x")
    shallow, deep = peak_forward(10, 512, 512), peak_forward(200, 512, 512)
    print(f"forward-only peak memory, width 512, batch 512: depth 10 {shallow / 2**20:.1f} MiB,"
          f" depth 200 {deep / 2**20:.1f} MiB, ratio {deep / shallow:.3f}")


if __name__ == "__main__":
    main()
