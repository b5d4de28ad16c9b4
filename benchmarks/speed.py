"""Speed of ``verify`` at defaults against the floor: drawing the same number of float32
normal samples with NumPy. Run by hand: ``python benchmarks/speed.py [--repeat N]``.

Prints, per built-in initializer: median verify time, the initializer's own drawing time,
the NumPy floor for the same element count, the ratio verify / floor, and the three most
expensive checks; then each check's cost per element drawn (docs/statistics.md quotes it).
Ratios are measured side by side in one run (the machines are shared).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import initcheck as ic
import initcheck.claims.specs


def floor_seconds(elements: int, repeat: int) -> float:
    rng = np.random.default_rng(0)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        rng.standard_normal(elements, dtype=np.float32)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--names", nargs="*", default=[n for n in ic.claims.specs.SPECS
                                                       if ic.spec(n).family != "constant"])
    args = parser.parse_args()
    print(f"{'initializer':18} {'verify':>8} {'draws':>8} {'floor':>8} {'ratio':>6}  top checks")
    ratios = []
    per_check: dict[str, list[float]] = {}
    mdes: dict[str, list[float]] = {}
    for name in args.names:
        init = ic.initializers.get(name)
        ic.verify(init)  # warm caches
        times, report = [], None
        for k in range(args.repeat):
            start = time.perf_counter()
            report = ic.verify(init, seed=k)
            times.append(time.perf_counter() - start)
        elements = report.meta["elements"]
        floor = floor_seconds(elements, args.repeat)
        t = statistics.median(times)
        ratios.append(t / floor)
        for c in report.checks:
            if "seconds" in c.extra:
                per_check.setdefault(c.name, []).append(1e9 * c.extra["seconds"] / elements)
            if math.isfinite(c.mde):
                mdes.setdefault(c.name, []).append(c.mde)
        top = sorted(report.checks, key=lambda c: -c.extra.get("seconds", 0))[:3]
        tops = ", ".join(f"{c.name} {1000 * c.extra['seconds']:.0f}ms" for c in top)
        print(f"{name:18} {1000 * t:7.1f}ms {1000 * report.meta['draw_seconds']:7.1f}ms"
              f" {1000 * floor:7.1f}ms {t / floor:6.1f}  {tops}")
    print(f"elements per verify: {elements:,}; median ratio {statistics.median(ratios):.1f}x,"
          f" max {max(ratios):.1f}x")
    print("each check's cost per element (ns) and MDE at power 0.99 in its own unit (medians"
          " over the initializers that run it; - : a hard check, no MDE):")
    for check, costs in sorted(per_check.items(), key=lambda kv: -statistics.median(kv[1])):
        mde = f"{statistics.median(mdes[check]):.3g}" if check in mdes else "-"
        print(f"  {check:18} {statistics.median(costs):6.2f}  {mde:>9}")


if __name__ == "__main__":
    main()
