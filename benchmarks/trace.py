"""Cost of ``trace_model`` against one plain forward + backward pass of the same model on the
same inputs, side by side in one run (median of ``--runs``): a 20-block pre-norm residual MLP
and a GPT-2 built from a config (12 layers, width 256; no download). Run by hand:
``python benchmarks/trace.py [--runs 7]``; the README quotes its output."""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import transformers
from torch import nn

import initcheck as ic

transformers.logging.set_verbosity_error()


class Block(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.norm, self.fc = nn.LayerNorm(width), nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + torch.relu(self.fc(self.norm(x)))


def plain(model: nn.Module, inputs: object) -> None:
    out = model(**inputs) if isinstance(inputs, dict) else model(inputs)
    out = getattr(out, "logits", out)
    (out * torch.randn_like(out)).sum().backward()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    torch.manual_seed(0)
    cases = {
        "residual MLP (20 blocks, 512 wide, batch 1024)": (
            nn.Sequential(*[Block(512) for _ in range(20)]),
            torch.randn(1024, 512),
        ),
        "GPT-2 (12 layers, 256 wide, 8 x 128 tokens)": (
            transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=12, n_embd=256, n_head=4)),
            {"input_ids": torch.randint(0, 50257, (8, 128))},
        ),
    }
    for name, (model, inputs) in cases.items():
        plain(model, inputs)  # warm up both paths
        ic.trace_model(model, inputs)
        a, b = [], []
        for _ in range(runs):
            model.zero_grad(set_to_none=True)
            start = time.perf_counter()
            plain(model, inputs)
            a.append(time.perf_counter() - start)
            model.zero_grad(set_to_none=True)
            start = time.perf_counter()
            ic.trace_model(model, inputs)
            b.append(time.perf_counter() - start)
        p, t = statistics.median(a), statistics.median(b)
        print(f"{name}: forward+backward {p * 1000:.0f} ms, trace_model {t * 1000:.0f} ms,"
              f" ratio {t / p:.2f}")


if __name__ == "__main__":
    main()
