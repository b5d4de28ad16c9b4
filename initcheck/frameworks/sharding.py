"""Sharded parameters read where they live (docs/sharded.md): a jax array through its
``addressable_shards``, a torch ``DTensor`` through its local shard and that shard's global
offset. Each becomes a ``stats.shards.ShardedArray`` of the blocks this process holds; the
statistics the checks read are computed block by block and merged, by a torch.distributed
``Exchange`` across ranks. No parameter is gathered whole.
"""

from __future__ import annotations

import datetime
import pickle
from typing import Any

import numpy as np

from initcheck.contract import as_numpy
from initcheck.stats.shards import LOCAL, Exchange, Shard, ShardedArray

#: Seconds a collective may wait for the other ranks before initcheck gives up with an error
#: (a rank that never joins must not hang the check).
COLLECTIVE_TIMEOUT = 300.0


def _is_dtensor(x: Any) -> bool:  # a DTensor, or FSDP2's nn.Parameter holding one
    return hasattr(x, "to_local") and hasattr(x, "placements") and hasattr(x, "device_mesh")


def is_sharded(x: Any) -> bool:
    """A jax array spread over several devices, or a torch DTensor."""
    if _is_dtensor(x):
        return True
    sharding = getattr(x, "sharding", None)
    return hasattr(x, "addressable_shards") and sharding is not None and (
        not getattr(x, "is_fully_addressable", True) or len(sharding.device_set) > 1)


def as_checkable(x: Any, what: str = "x") -> np.ndarray | ShardedArray:
    """``x`` as the checks read it: a ``ShardedArray`` of its blocks if it is sharded, else
    a NumPy array (``contract.as_numpy``)."""
    if _is_dtensor(x):
        return from_dtensor(x)
    if is_sharded(x):
        return from_jax(x)
    return as_numpy(x, what)


def from_jax(x: Any) -> ShardedArray:
    """A jax array's blocks on this process's devices, each copied to the host alone."""
    if not x.is_fully_addressable:
        raise ValueError(
            "this jax array spans several processes (jax.distributed): initcheck reads the"
            " blocks of one process only so far. Check it from a single process (all devices"
            " addressable), or check each process's parameters with the torch path.")
    shards = [Shard(tuple(s.index), as_numpy(s.data)) for s in x.addressable_shards]
    return ShardedArray(tuple(x.shape), shards[0].data.dtype, shards)


def from_dtensor(t: Any) -> ShardedArray:
    """A DTensor's local block at its global offset. Where a mesh dimension replicates it,
    only the rank at coordinate 0 of that dimension contributes, so sums count it once."""
    import torch.distributed as dist
    from torch.distributed.tensor import Replicate
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset

    if not dist.is_available() or not dist.is_initialized():
        raise ValueError("this DTensor's process group is not initialized: call"
                         " torch.distributed.init_process_group first, on every rank.")
    mesh, placements = t.device_mesh, t.placements
    local_shape, offset = compute_local_shape_and_global_offset(t.shape, mesh, placements)
    coords = mesh.get_coordinate() or [0] * mesh.ndim
    owner = all(c == 0 for c, p in zip(coords, placements) if isinstance(p, Replicate))
    data = as_numpy(t.to_local().detach())
    shards = [Shard(tuple(slice(o, o + n) for o, n in zip(offset, local_shape)), data)] \
        if owner and data.size else []
    return ShardedArray(tuple(t.shape), data.dtype, shards, TorchExchange(mesh.get_group()
                                                                         if mesh.ndim == 1 else None))


class TorchExchange(Exchange):
    """Merges over a torch.distributed process group (default: the world), each collective
    bounded by COLLECTIVE_TIMEOUT. Integer keys are summed as int64 with wrap-around, which
    is the unsigned sum modulo 2^64 (and, reduced, modulo 2^32)."""

    def __init__(self, group: Any = None) -> None:
        self.group = group

    def _wait(self, work: Any, what: str) -> None:
        try:  # gloo raises on a timeout, other backends return False
            done = work.wait(timeout=datetime.timedelta(seconds=COLLECTIVE_TIMEOUT))
        except RuntimeError as exc:
            raise ValueError(f"initcheck: {what} failed or timed out after {COLLECTIVE_TIMEOUT:g} s"
                             f" ({exc}): a rank did not join. Call the check on every rank of"
                             " the group.") from exc
        if done is False:
            raise ValueError(f"initcheck: {what} timed out after {COLLECTIVE_TIMEOUT:g} s: a rank"
                             " did not join. Call the check on every rank of the group.")

    def _reduce(self, value: np.ndarray, op: str) -> np.ndarray:
        import torch
        import torch.distributed as dist

        arr = np.ascontiguousarray(value)
        if arr.dtype.kind == "u":
            wide = arr.astype(np.uint64).view(np.int64)
        elif arr.dtype.kind in "bi":
            wide = arr.astype(np.int64)
        else:
            wide = arr.astype(np.float64)
        t = torch.from_numpy(wide.copy())
        red = dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX
        self._wait(dist.all_reduce(t, op=red, group=self.group, async_op=True), f"all_reduce {op}")
        out = t.numpy()
        if arr.dtype.kind == "u":
            return out.view(np.uint64).astype(arr.dtype)  # modulo 2^(bits): the key's own sum
        return out.astype(arr.dtype) if arr.dtype.kind in "bi" else out

    def sum(self, value: np.ndarray) -> np.ndarray:
        return self._reduce(value, "sum")

    def max(self, value: np.ndarray) -> np.ndarray:
        return self._reduce(value, "max")

    def gather(self, value: Any) -> list[Any]:
        import torch
        import torch.distributed as dist

        payload = np.frombuffer(pickle.dumps(value), dtype=np.uint8)
        world = dist.get_world_size(self.group)
        size = torch.tensor([payload.size], dtype=torch.int64)
        sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(world)]
        self._wait(dist.all_gather(sizes, size, group=self.group, async_op=True), "all_gather sizes")
        top = int(max(s.item() for s in sizes))
        mine = torch.zeros(top, dtype=torch.uint8)
        mine[:payload.size] = torch.from_numpy(payload.copy())
        parts = [torch.zeros(top, dtype=torch.uint8) for _ in range(world)]
        self._wait(dist.all_gather(parts, mine, group=self.group, async_op=True), "all_gather values")
        return [pickle.loads(p[:int(s.item())].numpy().tobytes()) for p, s in zip(parts, sizes)]


__all__ = ["COLLECTIVE_TIMEOUT", "LOCAL", "TorchExchange", "as_checkable", "from_dtensor",
           "from_jax", "is_sharded"]
