"""Run by tests/test_sharded.py in fresh processes (jax must see 8 host devices before it is
imported; torch ranks are started by torch.distributed.run). Writes the verdicts of
check_tensor on sharded tensors, and on the same values whole, as JSON lines."""

from __future__ import annotations

import json
import os
import sys

import numpy as np

CASES = [  # (name, spec, shape, layout, scale of the broken shard)
    ("he", "he_normal", (256, 96), "torch", 1.0),
    ("xavier_uniform", "xavier_uniform", (128, 64), "torch", 1.0),
    ("broken", "he_normal", (1024, 512), "torch", 1.05),
]


def verdicts(report) -> dict:
    return {c.name: [bool(c.passed), float(c.pvalue)] for c in report.checks}


def weights(spec: str, shape: tuple[int, ...], layout: str, scale: float, seed: int) -> np.ndarray:
    import initcheck as ic

    w = ic.initializers.get(spec, layout=layout)(shape, rng=seed, dtype=np.float32)
    w[: shape[0] // 4] *= scale  # the first of four row blocks: one shard of 4 (or of 2)
    return w


def jax_main(out: str) -> None:
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import initcheck as ic
    from initcheck.frameworks.sharding import from_jax

    assert len(jax.devices()) == 8, jax.devices()
    mesh = Mesh(np.array(jax.devices()).reshape(4, 2), ("rows", "cols"))
    lines = []
    for name, spec, shape, layout, scale in CASES:
        w = weights(spec, shape, layout, scale, seed=3)
        whole = ic.check_tensor(w, spec, layout=layout)
        for how in [P("rows", None), P(None, "cols"), P("rows", "cols"), P(None, None)]:
            x = jax.device_put(w, NamedSharding(mesh, how))
            r = ic.check_tensor(x, spec, layout=layout)
            blocks = len(from_jax(x).shards)  # distinct blocks (replicas once)
            lines.append({"case": name, "sharding": str(how), "shards": blocks,
                          "sharded": verdicts(r), "whole": verdicts(whole), "passed": r.passed})
    with open(out, "w") as f:
        f.write("\n".join(json.dumps(line) for line in lines))


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
    dist.destroy_process_group()


if __name__ == "__main__":
    kind, out = sys.argv[1], sys.argv[2]
    os.environ.setdefault("KERAS_BACKEND", "jax")
    (jax_main if kind == "jax" else torch_main)(out)
