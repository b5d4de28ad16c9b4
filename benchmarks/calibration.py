"""Calibration of verify's checks: empirical false-alarm rate against each check's alpha,
and empirical power against the stated minimum detectable effect (MDE).

Run by hand: ``python benchmarks/calibration.py [--seeds N] [--budget A]``.

False alarms: correct built-ins are verified on N seeds with a large family-wise budget
(default 0.2, so each check's alpha is a few percent and measurable); each check's rejection
rate is printed beside its alpha with a 99% Clopper-Pearson interval. Power: a He-normal
sampler whose sigma is off by exactly the stated MDE of the std check (and one shifted by
the mean check's MDE) is verified at the default alpha on N seeds; the design says >= 0.99;
likewise each check added for defects whose marginal looks right (fourth moment, unit
scales and means, unit dependence, resolution), each at its own stated MDE. Efficiency:
the MDE of the scale and location tests against the most powerful test for that
alternative.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict

import numpy as np
from scipy import stats

import initcheck as ic
import initcheck.core.results

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


def _he_std(shape):
    return math.sqrt(2.0 / ic.compute_fans(shape).fan_in)


def _student_t(excess: float):
    """He normal's std with Student-t tails of the given excess kurtosis (6 / (nu - 4))."""
    nu = 4 + 6 / excess

    def fn(shape, rng, dtype=np.float32):
        return (rng.standard_t(nu, size=shape) * math.sqrt((nu - 2) / nu) * _he_std(shape)).astype(
            dtype
        )

    return fn


def _units(spread: float, what: str):
    """He normal whose output units (last axis) differ: log-scales or means (in sigmas)
    with the given spread, the tensor's variance kept."""
    def fn(shape, rng, dtype=np.float32):
        x = rng.standard_normal(shape)
        if len(shape) >= 2:
            if what == "scales":
                f = np.exp(rng.normal(0.0, spread, shape[-1]))
                x = x * f / math.sqrt(float(np.mean(f * f)))
            else:
                x = (x + rng.normal(0.0, spread, shape[-1])) / math.sqrt(1 + spread**2)
        return (x * _he_std(shape)).astype(dtype)
    return fn


def _dependent(rho: float):
    """He normal whose units (last axis) all share one component: every pair correlates
    rho, so the root-mean-square correlation is rho."""
    def fn(shape, rng, dtype=np.float32):
        x = rng.standard_normal(shape)
        if len(shape) >= 2:
            x = math.sqrt(1 - rho) * x + math.sqrt(rho) * rng.standard_normal((*shape[:-1], 1))
        return (x * _he_std(shape)).astype(dtype)
    return fn


def _coarse(bits: float):
    """He normal in float32 with ``bits`` fewer mantissa bits (values rounded to the grid):
    repeats grow by 2^bits."""
    def fn(shape, rng, dtype=np.float32):
        x = (rng.standard_normal(shape) * _he_std(shape)).astype(np.float32)
        m, e = np.frexp(x)
        step = 2.0 ** (24 - bits)  # float32 mantissas hold 24 bits
        return np.ldexp(np.round(m * step) / step, e).astype(np.float32)
    return fn


def power(seeds: int) -> None:
    base = ic.verify(ic.initializers.he_normal(), seed=0)
    mde = {c.name: c.mde for c in base.checks}
    samplers = {
        "std": _he(1 + mde["std"], 0.0), "mean": _he(1.0, mde["mean"]),
        "fourth_moment": _student_t(mde["fourth_moment"]),
        "unit_scales": _units(mde["unit_scales"], "scales"),
        "unit_means": _units(mde["unit_means"], "means"),
        "unit_dependence": _dependent(mde["unit_dependence"]),
        "resolution": _coarse(mde["resolution"]),
    }
    for check, fn in samplers.items():
        hits = sum(not ic.verify(fn, expect="he_normal", seed=s).check(check).passed
                   for s in range(seeds))
        lo, hi = interval(hits, seeds)
        print(f"power of {check!r} at its stated MDE {mde[check]:.4g} (alpha"
              f" {base.check(check).alpha:.2g}): {hits}/{seeds} = {hits / seeds:.3f}"
              f" [{lo:.3f}, {hi:.3f}]; design >= 0.99")


def _chi2_mde(n: int, alpha: float) -> float:
    """Exact MDE of the two-sided chi-square test of a normal's sigma (known mean), the
    uniformly most powerful unbiased test: the smallest d with power POWER against
    sigma (1 + d) or sigma (1 - d), whichever is harder."""
    lo, hi = stats.chi2.ppf(alpha / 2, n), stats.chi2.isf(alpha / 2, n)

    def power(d: float) -> float:
        up = stats.chi2.sf(hi / (1 + d) ** 2, n) + stats.chi2.cdf(lo / (1 + d) ** 2, n)
        down = stats.chi2.sf(hi / (1 - d) ** 2, n) + stats.chi2.cdf(lo / (1 - d) ** 2, n)
        return min(up, down)

    a, b = 0.0, 0.5
    for _ in range(60):
        m = (a + b) / 2
        a, b = (m, b) if power(m) < ic.core.results.POWER else (a, m)
    return b


def efficiency() -> None:
    """MDE of verify's scale and location tests against the most powerful test for the same
    alternative, at the default shapes' n and each check's own alpha (ratio target <= 1.1).
    For bounded families the optimum uses the extremes (the likelihood-ratio test of a
    uniform's scale is a test on max |x|): verify's support and edge checks are those
    extremes tests; the std check's moment test is reported beside them."""
    he, hu = ic.verify("he_normal"), ic.verify("he_uniform")
    n = he.meta["elements"]
    a_std, a_mean = he.check("std").alpha, he.check("mean").alpha
    # normal: the chi-square and z tests are the optimal ones; MDEs by formula vs exact
    exact = _chi2_mde(n, a_std)
    print(f"efficiency at n = {n:,} (each check's own alpha):")
    print(f"  normal  std : stated MDE {he.check('std').mde:.5f}, exact UMPU chi-square"
          f" {exact:.5f}, ratio {he.check('std').mde / exact:.3f}")
    zb = stats.norm.ppf(ic.core.results.POWER)
    z_opt = (stats.norm.isf(a_mean / 2) + zb) / math.sqrt(n)
    print(f"  normal  mean: stated MDE {he.check('mean').mde:.5f}, z test (optimal)"
          f" {z_opt:.5f}, ratio {he.check('mean').mde / z_opt:.3f}")
    # uniform scale: the LRT rejects max|x| > r (too wide) or max|x| < r (alpha/2)^(1/n)
    a_edge = hu.check("edge").alpha
    narrow_opt = -math.expm1(math.log(a_edge / 2) / n)
    wide = math.expm1(-math.log(1 - ic.core.results.POWER) / n)  # support: some |x| > r
    narrow = -math.expm1(math.log(a_edge) / n)  # edge: closest approach, both ends pooled
    moment = hu.check("std").mde
    print(f"  uniform std : moment test MDE {moment:.5f}; extremes (support + edge) MDE"
          f" {max(wide, narrow):.2e}, likelihood-ratio optimum {max(wide, narrow_opt):.2e},"
          f" ratio {max(wide, narrow) / max(wide, narrow_opt):.3f} (moment test alone:"
          f" {moment / max(wide, narrow_opt):.0f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--budget", type=float, default=0.2)
    args = parser.parse_args()
    efficiency()
    false_alarms(args.seeds, args.budget)
    power(args.seeds)


if __name__ == "__main__":
    main()
