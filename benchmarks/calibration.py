"""Calibration of verify's checks: empirical false-alarm rate against each check's alpha,
and empirical power against the stated minimum detectable effect (MDE).

Run by hand: ``python benchmarks/calibration.py [--seeds N] [--budget A]``.

False alarms: correct built-ins are verified on N seeds with a large family-wise budget
(default 0.2, so each check's alpha is a few percent and measurable); each check's rejection
rate is printed beside its alpha with a 99% Clopper-Pearson interval. Power: a He-normal
sampler whose sigma is off by exactly the stated MDE of the std check (and one shifted by
the mean check's MDE) is verified at the default alpha on N seeds; the design says >= 0.99.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

import numpy as np
from scipy import stats

import initcheck as ic

NAMES = ["he_normal", "xavier_uniform", "truncated_normal", "orthogonal", "variance_scaling",
         "normal"]


def interval(k: int, n: int, level: float = 0.99) -> tuple[float, float]:
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return ci.low, ci.high


def false_alarms(seeds: int, budget: float) -> None:
    print(f"false alarms: {seeds} seeds per initializer, family-wise budget {budget}")
    print(f"  {'initializer':18} {'check':18} {'alpha':>8} {'rate':>8}  99% interval")
    for index, name in enumerate(NAMES):
        counts, alphas = defaultdict(int), {}
        for seed in range(seeds):
            # disjoint seed ranges: initializers sharing a sampler family see fresh draws
            report = ic.verify(ic.initializers.get(name), seed=10_000 * (index + 1) + seed,
                               alpha=budget)
            for c in report.checks:
                if c.alpha > 0:
                    alphas[c.name] = c.alpha
                    counts[c.name] += not c.passed
                elif not c.passed:
                    counts[c.name] += 1  # a deterministic check must never fail
                    alphas[c.name] = 0.0
        for check, a in alphas.items():
            lo, hi = interval(counts[check], seeds)
            flag = "" if lo <= a or a == 0 and counts[check] == 0 else "  <-- above alpha"
            print(f"  {name:18} {check:18} {a:8.4f} {counts[check] / seeds:8.4f}  [{lo:.4f},"
                  f" {hi:.4f}]{flag}")


def _he(factor: float, shift: float):
    def fn(shape, rng, dtype=np.float32):
        std = math.sqrt(2.0 / ic.compute_fans(shape).fan_in)
        return ((rng.standard_normal(shape) * factor + shift) * std).astype(dtype)
    return fn


def power(seeds: int) -> None:
    base = ic.verify(ic.initializers.he_normal(), seed=0)
    for check, factor, shift in (("std", 1 + base.check("std").mde, 0.0),
                                 ("mean", 1.0, base.check("mean").mde)):
        mde = base.check(check).mde
        hits = sum(not ic.verify(_he(factor, shift), expect="he_normal", seed=s).check(check).passed
                   for s in range(seeds))
        lo, hi = interval(hits, seeds)
        print(f"power of {check!r} at its stated MDE {mde:.4f} (alpha {base.check(check).alpha:.2g}):"
              f" {hits}/{seeds} = {hits / seeds:.3f} [{lo:.3f}, {hi:.3f}]; design >= 0.99")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--budget", type=float, default=0.2)
    args = parser.parse_args()
    false_alarms(args.seeds, args.budget)
    power(args.seeds)


if __name__ == "__main__":
    main()
