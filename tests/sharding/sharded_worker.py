"""Run by tests/sharding/test_sharded.py in fresh processes (jax must see 8 host devices
before it is imported; torch ranks are started by torch.distributed.run). Writes the verdicts of
check_tensor on sharded tensors, and on the same values whole, as JSON lines."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

CASES = [  # (name, spec, shape, layout, scale of the broken shard)
    ("he", "he_normal", (256, 96), "torch", 1.0),
    ("xavier_uniform", "xavier_uniform", (128, 64), "torch", 1.0),
    ("broken", "he_normal", (1024, 512), "torch", 1.05),
]


def wait_for(path: str, limit: float = 120.0) -> None:
    """Until ``path`` exists (another process's signal that it is done), at most ``limit`` s."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {limit} s")
        time.sleep(0.05)


def verdicts(report) -> dict:
    return {c.name: [bool(c.passed), float(c.pvalue)] for c in report.checks}


def weights(spec: str, shape: tuple[int, ...], layout: str, scale: float, seed: int) -> np.ndarray:
    import initcheck as ic

    w = ic.initializers.get(spec, layout=layout)(shape, rng=seed, dtype=np.float32)
    w[: shape[0] // 4] *= scale  # the first of four row blocks: one shard of 4 (or of 2)
    return w


def jax_mesh():
    """The 8 devices (of one process, or of two) as a 4 x 2 mesh of rows and columns."""
    import jax
    from jax.sharding import Mesh

    assert len(jax.devices()) == 8, jax.devices()
    return Mesh(np.array(jax.devices()).reshape(4, 2), ("rows", "cols"))


def jax_lines(mesh, place, describe) -> list[dict]:
    """check_tensor of every case sharded over ``mesh`` by rows, columns, both and
    replicated (``place(w, sharding)`` makes the array, ``describe(x)`` adds fields), beside
    the unsharded check of the same values."""
    from jax.sharding import NamedSharding, PartitionSpec as P

    import initcheck as ic

    lines = []
    for name, spec, shape, layout, scale in CASES:
        w = weights(spec, shape, layout, scale, seed=3)
        whole = ic.check_tensor(w, spec, layout=layout)
        for how in [P("rows", None), P(None, "cols"), P("rows", "cols"), P(None, None)]:
            x = place(w, NamedSharding(mesh, how))
            r = ic.check_tensor(x, spec, layout=layout)
            lines.append({"case": name, "sharding": str(how), **describe(x),
                          "sharded": verdicts(r), "whole": verdicts(whole), "passed": r.passed})
    return lines


def jax_main(out: str) -> None:
    import jax

    from initcheck.frameworks.sharding import from_jax

    lines = jax_lines(
        jax_mesh(), jax.device_put, lambda x: {"shards": len(from_jax(x).shards)}
    )  # distinct blocks (replicas once)
    with open(out, "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines))


def jaxmp_main(out: str) -> None:
    """Two jax processes (jax.distributed, gloo on the CPU), 4 host devices each: arrays over
    all 8 devices are not fully addressable; each process checks its blocks and merges with
    the other, and gets the unsharded verdicts. Then process 1 never joins a check: process
    0 gives up with a ValueError after the (shortened) timeout."""

    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    pid = int(os.environ["JAX_PROCESS_ID"])
    jax.distributed.initialize(os.environ["JAX_COORDINATOR"], num_processes=2, process_id=pid)
    from jax.sharding import NamedSharding, PartitionSpec as P

    import initcheck as ic
    from initcheck.frameworks import sharding

    assert len(jax.local_devices()) == 4
    mesh = jax_mesh()
    lines = jax_lines(
        mesh, lambda w, where: jax.make_array_from_callback(w.shape, where, lambda i: w[i]),
        lambda x: {"process": pid, "addressable": x.is_fully_addressable,
                   "held": sharding.from_jax(x).held})
    sharding.COLLECTIVE_TIMEOUT = 3.0
    x = jax.make_array_from_callback((64, 32), NamedSharding(mesh, P("rows", None)),
                                     lambda i: weights("he_normal", (64, 32), "torch", 1.0, 0)[i])
    if pid == 0:
        try:
            ic.check_tensor(x, "he_normal", layout="torch")
            lines.append({"alone": "accepted"})
        except ValueError as exc:
            lines.append({"alone": str(exc)})
        Path(f"{out}.gave-up").touch()
    else:
        wait_for(f"{out}.gave-up")
    with open(f"{out}.{pid}.tmp", "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines))
    os.replace(f"{out}.{pid}.tmp", f"{out}.{pid}")
    if pid == 0:
        wait_for(f"{out}.1")  # the leader leaves last
    os._exit(0)  # process 0's abandoned all-gather would hold jax's shutdown


def torch_main(out: str) -> None:
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor

    import initcheck as ic

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    mesh = init_device_mesh("cpu", (dist.get_world_size(),))
    lines = []
    for name, spec, shape, layout, scale in CASES:
        w = weights(spec, shape, layout, scale, seed=3)  # the same on every rank
        whole = ic.check_tensor(w, spec, layout=layout)
        for how in [Shard(0), Shard(1), Replicate()]:
            t = distribute_tensor(torch.from_numpy(w), mesh, [how])
            r = ic.check_tensor(t, spec, layout=layout)
            lines.append({"case": name, "sharding": str(how), "rank": rank,
                          "local": list(t.to_local().shape), "sharded": verdicts(r),
                          "whole": verdicts(whole), "passed": r.passed})
    with open(f"{out}.{rank}", "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines))
    dist.barrier()
    lone_rank(out, mesh, rank)


def lone_rank(out: str, mesh, rank: int) -> None:
    """Rank 1 never joins the check: rank 0's first collective gives up with a ValueError
    after the (shortened) timeout instead of hanging; after the group is destroyed, a DTensor
    is refused with the fix. Rank r writes ``{out}.lone.r``."""
    import time

    import torch
    import torch.distributed as dist
    from torch.distributed.tensor import Shard, distribute_tensor

    import initcheck as ic
    from initcheck.frameworks import sharding

    t = distribute_tensor(
        torch.from_numpy(weights("he_normal", (64, 32), "torch", 1.0, 0)), mesh, [Shard(0)]
    )
    sharding.COLLECTIVE_TIMEOUT = 2.0
    line = {"rank": rank}
    if rank == 0:
        start = time.perf_counter()
        try:
            ic.check_tensor(t, "he_normal", layout="torch")
            line["alone"] = "accepted"
        except ValueError as exc:
            line["alone"] = str(exc)
        line["seconds"] = time.perf_counter() - start
        Path(f"{out}.gave-up").touch()
    else:
        wait_for(f"{out}.gave-up")
    dist.destroy_process_group()
    try:
        ic.check_tensor(t, "he_normal", layout="torch")
        line["destroyed"] = "accepted"
    except ValueError as exc:
        line["destroyed"] = str(exc)
    with open(f"{out}.lone.{rank}", "w") as f:
        json.dump(line, f)


def fsdp_main(out: str) -> None:
    """GPT-2 (4 layers, from a config) wrapped with FSDP2's fully_shard over the ranks: its
    report equals the unsharded model's, on every rank; a twin with one rank's shard of one
    tensor scaled x1.05 fails naming it; ranks that disagree on the policy are refused."""
    import torch
    import torch.distributed as dist
    import transformers
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard

    import initcheck as ic

    dist.init_process_group("gloo")
    rank = dist.get_rank()
    policy = os.path.join(os.path.dirname(__file__), "..", "models", "policies", "gpt2.toml")
    lines = []
    for broken in (False, True):
        torch.manual_seed(0)  # the same weights on every rank
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(
            n_layer=4, n_embd=128, n_head=4, vocab_size=2000, n_positions=64))
        target = model.transformer.h[1].mlp.c_fc.weight
        if broken:
            with torch.no_grad():
                target[: target.shape[0] // 2] *= 1.05  # rank 0's shard of it, once sharded
        whole = ic.check_model(model, policy)
        mesh = init_device_mesh("cpu", (dist.get_world_size(),))
        for block in model.transformer.h:
            fully_shard(block, mesh=mesh)
        fully_shard(model, mesh=mesh)
        local = model.transformer.h[1].mlp.c_fc.weight.to_local().shape
        sharded = ic.check_model(model, policy)
        lines.append({
            "broken": broken, "rank": rank, "local": list(local), "passed": sharded.passed,
            "whole_passed": whole.passed,
            "rows": {r.name: r.verdict for r in sharded.rows},
            "whole_rows": {r.name: r.verdict for r in whole.rows},
            "groups": [[c.name, c.passed, c.pvalue] for g in sharded.groups for c in g.checks],
            "whole_groups": [[c.name, c.passed, c.pvalue] for g in whole.groups for c in g.checks]})
    try:  # rank 1 asks a different alpha: refused on every rank, no hang
        ic.check_model(model, policy, alpha=1e-6 if rank == 0 else 1e-5)
        lines.append({"disagree": "accepted"})
    except ValueError as exc:
        lines.append({"disagree": str(exc)})
    with open(f"{out}.{rank}", "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines))
    dist.barrier()
    dist.destroy_process_group()



if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    os.environ.setdefault("KERAS_BACKEND", "jax")
    {
        "jax": jax_main,
        "jaxmp": jaxmp_main,
        "torch": torch_main,
        "fsdp": fsdp_main,
    }[kind](out)
