"""``check_model`` on GPT-2 small (124M parameters, built from its config): time to check it
against the time to construct it, measured side by side in one run (median of ``--runs``),
and the peak memory the check adds (tracemalloc: NumPy's allocations; torch's own are not
traced, and the check allocates none) against the largest tensor. Run by hand:
``python benchmarks/models.py [--runs 3]``; the README quotes its output."""

from __future__ import annotations

import argparse
import math
import statistics
import time
import tracemalloc

import torch
import transformers

import initcheck as ic

transformers.logging.set_verbosity_error()


def build() -> torch.nn.Module:
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(transformers.GPT2Config())


def policy(cfg: transformers.GPT2Config) -> list[ic.models.Rule]:
    """GPT-2's _init_weights: N(0, 0.02^2), c_proj / sqrt(2 n_layer), zeros and ones."""
    std = cfg.initializer_range
    rule = ic.models.rule
    return [
        rule("*.c_proj.weight", ic.spec("normal", std=std / math.sqrt(2 * cfg.n_layer))),
        rule("*.weight", ic.spec("normal", std=std), module=("Conv1D", "Embedding")),
        rule("*.bias", "zeros", module="Conv1D"),
        rule("*.weight", "ones", module="LayerNorm"),
        rule("*.bias", "zeros", module="LayerNorm"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    builds, checks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        model = build()
        builds.append(time.perf_counter() - start)
        rules = policy(model.config)
        start = time.perf_counter()
        report = ic.check_model(model, rules)
        checks.append(time.perf_counter() - start)
        assert report.passed, report.failure_message()
    largest = max(p.numel() * p.element_size() for p in model.parameters())
    tracemalloc.start()
    ic.check_model(model, rules)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    b, c = statistics.median(builds), statistics.median(checks)
    params = sum(p.numel() for p in model.parameters())
    print(f"GPT-2 small, {params / 1e6:.1f}M parameters, {runs} runs (median)")
    print(f"  construct   {b:6.2f} s")
    print(f"  check_model {c:6.2f} s   ratio check/construct {c / b:.2f}")
    print(f"  peak memory the check adds {peak / 2**20:7.1f} MiB; largest tensor"
          f" {largest / 2**20:.1f} MiB; ratio {peak / largest:.2f}")
    slowest = sorted(((x.extra.get("seconds", 0.0), x.name) for g in report.groups
                      for x in g.checks), reverse=True)[:4]
    print("  slowest checks (one group each): "
          + ", ".join(f"{name} {s:.2f} s" for s, name in slowest))


if __name__ == "__main__":
    main()
