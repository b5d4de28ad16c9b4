"""Sharded parameters read where they live (docs/sharded.md): a jax array through its
``addressable_shards``, a torch ``DTensor`` through its local shard and that shard's global
offset. Each becomes a ``stats.shards.ShardedArray`` of the blocks this process holds; the
statistics the checks read are computed block by block and merged across ranks by an
``Exchange`` (torch.distributed, or jax.distributed's processes). No parameter is gathered whole.
"""

from __future__ import annotations

import datetime
import functools
import pickle
import threading
from typing import Any

import numpy as np

from initcheck.core.contract import as_numpy
from initcheck.sharding.array import LOCAL, Exchange, Shard, ShardedArray

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
    """A jax array's blocks on this process's devices, each copied to the host alone. A
    block held by several devices (replicated) counts once: on the device, of all that
    hold it in any process, with the lowest (process, id). An array that spans processes
    (``jax.distributed``) merges over them with a ``JaxExchange``."""
    index = {d: _key(i) for d, i in x.sharding.devices_indices_map(tuple(x.shape)).items()}
    first: dict[tuple[tuple[int, int], ...], Any] = {}
    for d in sorted(index, key=lambda d: (d.process_index, d.id)):
        first.setdefault(index[d], d)
    shards = [Shard(tuple(s.index), as_numpy(s.data)) for s in x.addressable_shards
              if first[_key(s.index)] == s.device]
    exchange = LOCAL if x.is_fully_addressable else JaxExchange()
    return ShardedArray(tuple(x.shape), np.dtype(x.dtype), shards, exchange)


def _key(index: tuple[slice, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((s.start or 0, -1 if s.stop is None else s.stop) for s in index)


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
    return ShardedArray(
        tuple(t.shape),
        data.dtype,
        shards,
        TorchExchange(mesh.get_group() if mesh.ndim == 1 else None),
    )


class TorchExchange(Exchange):
    """Merges over a torch.distributed process group (default: the world), each collective
    bounded by COLLECTIVE_TIMEOUT. Integer keys are summed as int64 with wrap-around, which
    is the unsigned sum modulo 2^64 (and, reduced, modulo 2^32)."""

    def __init__(self, group: Any = None) -> None:
        import torch.distributed as dist

        self.group = group
        self.rank, self.size = dist.get_rank(group), dist.get_world_size(group)

    def __eq__(self, other: object) -> bool:  # one group, one exchange: merges can be batched
        return isinstance(other, TorchExchange) and other.group is self.group

    def __hash__(self) -> int:
        return hash((TorchExchange, id(self.group)))

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
        if self.size == 1:
            return arr
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

    def gather(self, value: Any, to: int | None = None) -> list[Any] | None:
        import torch
        import torch.distributed as dist

        if self.size == 1:
            return [value]
        payload = np.frombuffer(pickle.dumps(value), dtype=np.uint8)
        size = torch.tensor([payload.size], dtype=torch.int64)
        sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(self.size)]
        self._wait(
            dist.all_gather(sizes, size, group=self.group, async_op=True), "all_gather sizes"
        )
        top = int(max(s.item() for s in sizes))
        mine = torch.zeros(top, dtype=torch.uint8)
        mine[:payload.size] = torch.from_numpy(payload.copy())
        parts: list[Any] | None
        if to is None:
            parts = [torch.zeros(top, dtype=torch.uint8) for _ in range(self.size)]
            self._wait(dist.all_gather(parts, mine, group=self.group, async_op=True),
                       "all_gather values")
        else:  # only rank ``to`` receives: the others neither hold nor unpickle the pieces
            parts = [torch.zeros(top, dtype=torch.uint8) for _ in range(self.size)] \
                if self.rank == to else None
            dst = to if self.group is None else dist.get_global_rank(self.group, to)
            self._wait(dist.gather(mine, parts, dst=dst, group=self.group, async_op=True),
                       "gather values")
            if parts is None:
                return None
        return [pickle.loads(p[:int(s.item())].numpy().tobytes()) for p, s in zip(parts, sizes)]

class JaxExchange(Exchange):
    """Merges over the processes of ``jax.distributed`` (``multihost_utils``): every merge
    is an all-gather of pickled bytes, summed or maxed on the host in float64 / uint64
    (jax's own arrays would be 32-bit without x64). Each gather is bounded by
    COLLECTIVE_TIMEOUT; the process that waits raises a ValueError."""

    def __init__(self) -> None:
        import jax

        self.rank, self.size = jax.process_index(), jax.process_count()

    def __eq__(self, other: object) -> bool:  # one set of processes
        return isinstance(other, JaxExchange)

    def __hash__(self) -> int:
        return hash(JaxExchange)

    def _all(self, value: Any) -> list[Any]:
        from jax.experimental import multihost_utils

        payload = np.frombuffer(pickle.dumps(value), dtype=np.uint8)

        got: list[Any] = []

        def both() -> None:  # a daemon thread: a process that never joins cannot hold us
            sizes = np.asarray(
                multihost_utils.process_allgather(np.array([payload.size], np.int32))
            )
            padded = np.zeros(int(sizes.max()), np.uint8)
            padded[:payload.size] = payload
            got.extend([sizes.reshape(-1), np.asarray(multihost_utils.process_allgather(padded))])

        worker = threading.Thread(target=both, daemon=True)
        worker.start()
        worker.join(COLLECTIVE_TIMEOUT)
        if worker.is_alive() or len(got) != 2:
            raise ValueError(f"initcheck: an all-gather over the jax processes failed or timed out"
                             f" after {COLLECTIVE_TIMEOUT:g} s: a process did not join. Call the"
                             " check in every process.")
        sizes, parts = got
        return [pickle.loads(p[:n].tobytes()) for p, n in zip(parts.reshape(self.size, -1), sizes)]

    def sum(self, value: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # integer keys wrap around: the modular sum
            return functools.reduce(np.add, self._all(np.asarray(value)))

    def max(self, value: np.ndarray) -> np.ndarray:
        return functools.reduce(np.maximum, self._all(np.asarray(value)))

    def gather(self, value: Any, to: int | None = None) -> list[Any] | None:
        parts = self._all(value)  # every process receives; only ``to`` keeps them
        return parts if to is None or to == self.rank else None


__all__ = [
    "COLLECTIVE_TIMEOUT",
    "JaxExchange",
    "LOCAL",
    "TorchExchange",
    "as_checkable",
    "from_dtensor",
    "from_jax",
    "is_sharded",
]
