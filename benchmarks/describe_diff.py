"""describe_model and compare_models beside check_model on the same models, measured side by
side in one process (best of three, so a busy moment does not decide): GPT-2 from a config
(6 layers, width 384, vocabulary 8000), BERT from a config (4 layers, width 256), and a
resnet-style torch CNN; with ``--calibrate N``, compare_models' false-alarm rate over N seed
pairs. Run by hand: ``python benchmarks/describe_diff.py --calibrate 500``."""

from __future__ import annotations

import time

import torch
import transformers
from torch import nn

import initcheck as ic


def gpt2(seed: int):
    torch.manual_seed(seed)
    return transformers.GPT2LMHeadModel(transformers.GPT2Config(
        n_layer=6, n_embd=384, n_head=6, n_positions=512, vocab_size=8000, bos_token_id=0,
        eos_token_id=0))


def bert(seed: int):
    torch.manual_seed(seed)
    return transformers.BertModel(transformers.BertConfig(
        num_hidden_layers=4, hidden_size=256, num_attention_heads=4, intermediate_size=1024,
        vocab_size=8000))


def cnn(seed: int):
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 7, stride=2)]
    width = 64
    for out in (64, 128, 256, 512):
        for _ in range(2):
            layers += [nn.Conv2d(width, out, 3, padding=1, bias=False), nn.BatchNorm2d(out)]
            width = out
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 1000))
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return model


def best(f, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def calibrate(pairs: int, alpha: float) -> None:
    """compare_models' false-alarm rate: seed pairs of one config (BERT, 2 layers), at alpha."""
    from scipy import stats as sps

    def small(seed: int):
        torch.manual_seed(seed)
        return transformers.BertModel(transformers.BertConfig(
            num_hidden_layers=2, hidden_size=64, num_attention_heads=4, intermediate_size=128,
            vocab_size=500))

    hits = sum(not ic.compare_models(small(2 * k), small(2 * k + 1), alpha=alpha).passed
               for k in range(pairs))
    lo, hi = sps.binomtest(hits, pairs).proportion_ci(0.99, method="exact")
    print(f"compare_models, {pairs} seed pairs at alpha {alpha}: {hits} flagged ="
          f" {hits / pairs:.4f} [{lo:.4f}, {hi:.4f}] (99%)")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", type=int, default=0, metavar="PAIRS",
                        help="also measure compare_models' false-alarm rate on PAIRS seed pairs")
    parser.add_argument("--alpha", type=float, default=0.05)
    args = parser.parse_args()
    if args.calibrate:
        calibrate(args.calibrate, args.alpha)
    print(f"{'model':6} {'check':>8} {'describe':>9} {'ratio':>6} {'diff':>8} {'ratio':>6}  rules")
    for name, make, preset in (("gpt2", gpt2, "transformers"), ("bert", bert, "transformers"),
                               ("cnn", cnn, "torch")):
        a, b = make(0), make(1)
        described = ic.describe_model(a)
        policy = described.policy
        check = best(lambda: ic.check_model(a, policy))
        describe = best(lambda: ic.describe_model(a), repeat=2)
        diff = best(lambda: ic.compare_models(a, b))
        print(f"{name:6} {check:8.2f} {describe:9.2f} {describe / check:6.2f} {diff:8.2f}"
              f" {diff / check:6.2f}  {len(described.rules)} (preset {preset}:"
              f" {'pass' if ic.check_model(a, preset).passed else 'FAIL'})")


if __name__ == "__main__":
    main()
