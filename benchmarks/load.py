"""``check_model`` against construction, idle and on a busy machine, side by side in one run:
the benchmark starts its own load (``--busy`` processes spinning on the CPU) for the second
half, so both columns come from the same process, the same models and the same minute.
Models: GPT-2 small (124M) and medium (355M, ``--medium``) from their configs against
GPT-2's own policy, BERT (4 layers, vocabulary 8000) against "transformers", a T5 config
(t5-small sizes) and a resnet18-style torch CNN against the policies ``describe_model``
writes for them, and a flax nnx CNN against "flax". Threads: the library defaults (what a
user gets). Median of ``--runs``. Run by hand: ``python benchmarks/load.py --runs 3``."""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from busy import busy

os.environ.setdefault("KERAS_BACKEND", "jax")


def gpt2(medium: bool = False) -> tuple[Callable[[], Any], Any]:
    import torch
    import transformers

    cfg = transformers.GPT2Config(n_layer=24, n_embd=1024, n_head=16) if medium \
        else transformers.GPT2Config()

    def build() -> Any:
        torch.manual_seed(0)
        return transformers.GPT2LMHeadModel(cfg)

    import initcheck as ic

    rule, std = ic.models.rule, cfg.initializer_range
    policy = [rule("*.c_proj.weight", ic.spec("normal", std=std / math.sqrt(2 * cfg.n_layer))),
              rule("*.weight", ic.spec("normal", std=std), module=("Conv1D", "Embedding")),
              rule("*.bias", "zeros", module=("Conv1D", "LayerNorm")),
              rule("*.weight", "ones", module="LayerNorm")]
    return build, policy


def bert() -> tuple[Callable[[], Any], Any]:
    import torch
    import transformers

    def build() -> Any:
        torch.manual_seed(0)
        return transformers.BertModel(transformers.BertConfig(num_hidden_layers=4,
                                                              vocab_size=8000))
    return build, "transformers"


def t5() -> tuple[Callable[[], Any], Any]:
    import torch
    import transformers

    def build() -> Any:
        torch.manual_seed(0)
        return transformers.T5Model(transformers.T5Config(d_model=512, d_ff=2048, num_layers=6,
                                                          num_heads=8))
    return build, None  # described


def cnn() -> tuple[Callable[[], Any], Any]:
    import torch
    from torch import nn

    def block(cin: int, cout: int, stride: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout),
                             nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1, bias=False),
                             nn.BatchNorm2d(cout))

    def build() -> Any:
        torch.manual_seed(0)
        layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64)]
        width = 64
        for out, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [block(width, out, stride), block(out, out, 1)]
            width = out
        model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                              nn.Linear(512, 1000))
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        return model
    return build, None  # described


def flax_cnn() -> tuple[Callable[[], Any], Any]:
    from flax import nnx

    class Net(nnx.Module):
        def __init__(self, rngs: nnx.Rngs) -> None:
            self.convs = nnx.List([nnx.Conv(a, b, (3, 3), rngs=rngs) for a, b in
                                   ((3, 64), (64, 128), (128, 256), (256, 512))])
            self.norms = nnx.List([nnx.BatchNorm(c, rngs=rngs) for c in (64, 128, 256, 512)])
            self.head = nnx.Linear(512, 1000, rngs=rngs)

    return (lambda: Net(nnx.Rngs(0))), "flax"


MODELS = {"gpt2": gpt2, "bert": bert, "t5": t5, "cnn": cnn, "flax": flax_cnn}


def timed(f: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(runs: int, models: dict[str, tuple[Callable[[], Any], Any]]) -> dict[str, tuple]:
    import initcheck as ic

    out = {}
    for name, (build, policy) in models.items():
        model = build()
        report = ic.check_model(model, policy)
        construct = timed(build, runs)
        check = timed(lambda: ic.check_model(model, policy), runs)
        out[name] = (construct, check, len(report.rows), report.passed)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--busy", type=int, default=2, help="spinning processes for the load")
    parser.add_argument("--medium", action="store_true", help="add GPT-2 medium (355M)")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    args = parser.parse_args()
    import initcheck as ic

    models = {name: MODELS[name]() for name in args.only}
    if args.medium:
        models["gpt2-medium"] = gpt2(medium=True)
    for name, (build, policy) in list(models.items()):
        if policy is None:  # the policy describe_model writes for it, once
            models[name] = (build, ic.describe_model(build()).policy)
    idle = measure(args.runs, models)
    with busy(args.busy):
        loaded = measure(args.runs, models)
    print(f"check_model / construction, median of {args.runs}; load: {args.busy} spinning"
          f" processes on {os.cpu_count()} cores")
    print(f"{'model':12} {'tensors':>7} {'build':>7} {'check':>7} {'idle':>6}"
          f" {'build*':>7} {'check*':>7} {'loaded':>6}")
    for name in models:
        b, c, n, ok = idle[name]
        lb, lc, _, _ = loaded[name]
        print(f"{name:12} {n:7d} {b:7.2f} {c:7.2f} {c / b:6.2f}x {lb:7.2f} {lc:7.2f}"
              f" {lc / lb:6.2f}x{'' if ok else '  (the model fails its policy)'}")


if __name__ == "__main__":
    main()
