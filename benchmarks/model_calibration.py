"""The model-level false-alarm rate of ``check_model``: freshly built models, drawn by the
frameworks' own samplers (torch's CPU generator, jax's through flax nnx, keras 3 on jax),
checked against their framework's preset at a measurable family-wise alpha. Every check a
model report runs counts (each group's statistics, the exact-value counts, ``distinct_tensors``,
``near_copies``): a model fails if any does. The rejection rate is printed beside alpha with
a 99% Clopper-Pearson interval, per framework and overall; at the default alpha (1e-6) no
model may fail. Run by hand:

    python benchmarks/model_calibration.py --models 1000 --alpha 0.05

Each model is built from a fresh seed (its index); sizes are those of a small real network
(a conv stem, a residual-free MLP head, norms, an embedding where the framework has one), so
uniform and normal claims, exact constants, biases from a sibling's fan and many tensors
share one budget."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from scipy import stats as sps

import initcheck as ic

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from small_models import BUILDERS  # noqa: E402  (the suite's small real networks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000, help="models in all")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--frameworks", nargs="+", choices=sorted(BUILDERS),
                        default=list(BUILDERS), help="the frameworks the models come from")
    args = parser.parse_args()
    chosen = args.frameworks
    per = {fw: args.models // len(chosen) + (i < args.models % len(chosen))
           for i, fw in enumerate(chosen)}
    total_hits = total = default_hits = 0
    print(f"check_model false alarms at alpha {args.alpha} (and at 1e-6), fresh models")
    for fw, n in per.items():
        hits, which, start = 0, {}, time.perf_counter()
        for seed in range(n):
            model = BUILDERS[fw](seed)
            report = ic.check_model(model, fw, alpha=args.alpha)
            if not report.passed:
                hits += 1
                for row in report.failures:
                    for check in row.failed:
                        which[check] = which.get(check, 0) + 1
                default_hits += not ic.check_model(model, fw).passed
        lo, hi = sps.binomtest(hits, n).proportion_ci(0.99, method="exact")
        print(f"  {fw:6} {hits}/{n} = {hits / n:.4f} [{lo:.4f}, {hi:.4f}] vs alpha {args.alpha};"
              f" failed checks {dict(sorted(which.items())) or '-'};"
              f" {time.perf_counter() - start:.0f} s")
        total_hits += hits
        total += n
    lo, hi = sps.binomtest(total_hits, total).proportion_ci(0.99, method="exact")
    print(f"  all    {total_hits}/{total} = {total_hits / total:.4f} [{lo:.4f}, {hi:.4f}];"
          f" at alpha 1e-6: {default_hits} of the rejected models fail")


if __name__ == "__main__":
    main()
