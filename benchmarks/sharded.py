"""``check_model`` on GPT-2 small wrapped with FSDP2's ``fully_shard`` over 1, 2, ... gloo
ranks on this machine: wall time of the check per world size (median of ``--runs``), beside
the unsharded check of the same model in the same run, and the peak memory the check adds
on each rank (tracemalloc: NumPy's allocations) against that rank's largest local shard.
Run by hand: ``python benchmarks/sharded.py [--worlds 1 2] [--runs 3]``; the README quotes
its output. Ranks beyond the machine's cores share them, so times stop falling there."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent


def worker(out: str, runs: int) -> None:
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    import initcheck as ic

    sys.path.insert(0, str(HERE))
    from models import build, policy  # the unsharded benchmark's model and policy

    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    model = build()
    rules = policy(model.config)
    whole = []
    if rank == 0:
        for _ in range(runs):
            start = time.perf_counter()
            ic.check_model(model, rules)
            whole.append(time.perf_counter() - start)
    mesh = init_device_mesh("cpu", (world,))
    for block in model.transformer.h:
        fully_shard(block, mesh=mesh)
    fully_shard(model, mesh=mesh)
    times = []
    for _ in range(runs):
        dist.barrier()
        start = time.perf_counter()
        report = ic.check_model(model, rules)
        times.append(time.perf_counter() - start)
    assert report.passed, report.failure_message()
    largest = max(p.to_local().numel() * p.element_size() for p in model.parameters())
    tracemalloc.start()
    ic.check_model(model, rules)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with open(f"{out}.{rank}", "w") as f:
        json.dump({"world": world, "rank": rank, "check": statistics.median(times),
                   "whole": statistics.median(whole) if whole else None,
                   "peak": peak, "largest_local": largest}, f)
    dist.destroy_process_group()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"GPT-2 small under fully_shard, gloo on {os.cpu_count()} cores, {args.runs} runs (median)"
    )
    print(
        "  ranks  check (s)  unsharded (s)  ratio   peak added / largest local shard"
        " (MiB, worst rank)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for world in args.worlds:
            out = os.path.join(tmp, f"w{world}")
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "torch.distributed.run",
                    "--standalone",
                    "--nproc-per-node",
                    str(world),
                    __file__,
                    "--worker",
                    out,
                    str(args.runs),
                ],
                check=True,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            ranks = [json.loads(Path(f"{out}.{r}").read_text()) for r in range(world)]
            check = max(r["check"] for r in ranks)
            whole = ranks[0]["whole"]
            worst = max(ranks, key=lambda r: r["peak"] / r["largest_local"])
            print(f"  {world:5d}  {check:9.2f}  {whole:13.2f}  {check / whole:5.2f}   "
                  f"{worst['peak'] / 2**20:7.1f} / {worst['largest_local'] / 2**20:.1f}"
                  f" = {worst['peak'] / worst['largest_local']:.2f}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], int(sys.argv[3]))
    else:
        main()
