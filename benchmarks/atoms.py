"""The false-alarm rate of the exact-value counts (the ``atoms`` test) on the generators real
frameworks use: jax's uniform (23 random bits per float32, so flax's and keras's) and torch's
CPU ``uniform_`` (24 bits), on a model-sized tensor (2.36M elements, a ResNet50 3x3 kernel's),
at a measurable alpha. Each draw is fresh; the rejection rate is printed beside alpha with a
99% Clopper-Pearson interval. Run by hand: ``python benchmarks/atoms.py --draws 1000``."""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy import stats as sps

import initcheck as ic
from initcheck import stats

SHAPE = (3, 3, 512, 512)  # a ResNet50 conv5 kernel: 2,359,296 elements


def jax_draws(n: int, law_bound: float):
    import jax

    key = jax.random.PRNGKey(0)
    draw = jax.jit(lambda k: jax.random.uniform(k, SHAPE, minval=-law_bound, maxval=law_bound))
    for k in jax.random.split(key, n):
        yield np.asarray(draw(k))


def torch_draws(n: int, law_bound: float):
    import torch

    g = torch.Generator().manual_seed(0)
    t = torch.empty(SHAPE)
    for _ in range(n):
        t.uniform_(-law_bound, law_bound, generator=g)
        yield t.numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--no-generator-atom", action="store_true",
                        help="the null of 0.2: float32 rounding only, no generator grid")
    args = parser.parse_args()
    if args.no_generator_atom:
        from initcheck.stats import extremes

        extremes.GENERATOR_BITS = 1000
    fans = ic.compute_fans(SHAPE)
    bound = math.sqrt(6.0 / (fans.fan_in + fans.fan_out))
    law = ic.spec("xavier_uniform").law(SHAPE)
    print(f"atoms test at alpha {args.alpha}, {args.draws} draws of {math.prod(SHAPE):,} float32")
    for name, draws in (("jax uniform", jax_draws), ("torch uniform_", torch_draws)):
        hits = on_bound = 0
        for x in draws(args.draws, bound):
            r = stats.atoms_test(x, law, args.alpha)
            hits += not r.passed
            on_bound += int(r.statistic)
        lo, hi = sps.binomtest(hits, args.draws).proportion_ci(0.99, method="exact")
        print(f"  {name:16} rejections {hits}/{args.draws} = {hits / args.draws:.4f}"
              f" [{lo:.4f}, {hi:.4f}] vs alpha {args.alpha}; values on a bound"
              f" {on_bound / args.draws:.3f} per draw")


if __name__ == "__main__":
    main()
