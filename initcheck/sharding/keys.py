"""Exact integer keys of a tensor's slices (``slice_keys``): equal slices have equal keys,
and a piece of a tensor adds its part of every key, so the keys of a sharded tensor are the
sum of its shards' (``stats.shards``). They find copied units without comparing every pair."""

from __future__ import annotations

import math

import numpy as np

#: Elements keyed at a time by ``slice_keys`` (its integer working copy).
KEY_CHUNK = 2**20


def _mix(p: np.ndarray) -> np.ndarray:
    """splitmix64 of each position: a fixed pseudo-random 64-bit word per position."""
    z = p.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def slice_keys(x: np.ndarray, axis: int, *, offset: tuple[int, ...] | None = None,
               whole: tuple[int, ...] | None = None) -> np.ndarray:
    """An exact integer key of each slice along ``axis``: its elements' bits times odd
    multipliers fixed by each element's position in the slice, summed with wrap-around (a
    batched integer matmul), so equal slices have equal keys. The multipliers depend on the
    position in the ``whole`` tensor only, so a piece at ``offset`` adds its part of every
    key (sharded tensors). Keyed a chunk of positions at a time: no copy of the tensor."""
    x = np.ascontiguousarray(x)
    whole = tuple(x.shape) if whole is None else tuple(whole)
    offset = (0,) * x.ndim if offset is None else tuple(offset)
    length = x.shape[axis]
    pre, post = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    word = np.uint64 if x.dtype.itemsize == 8 else np.uint32
    u = x.view(np.dtype(f"u{x.dtype.itemsize}")).reshape(pre, length, post)

    def flat(axes: range) -> np.ndarray:  # global flat index of the piece's coordinates
        if not axes:
            return np.zeros(1, np.int64)
        grids = np.meshgrid(
            *[np.arange(offset[a], offset[a] + x.shape[a]) for a in axes], indexing="ij"
        )
        return np.ravel_multi_index(tuple(grids), tuple(whole[a] for a in axes)).ravel()

    g_pre, g_post = flat(range(axis)), flat(range(axis + 1, x.ndim))
    post_whole = math.prod(whole[axis + 1:])
    keys = np.zeros(length, word)
    step = max(1, KEY_CHUNK // max(1, length * post))
    with np.errstate(over="ignore"):
        for p in range(0, pre, step):
            positions = g_pre[p:p + step, None] * post_whole + g_post[None, :]
            mults = (_mix(positions).astype(word) | word(1))[:, :, None]
            block = u[p:p + step]
            if block.dtype != word:
                block = block.astype(word)  # 2-byte floats: 16-bit keys would collide too often
            if post == 1:  # one (positions) @ (positions, slices) product, not many tiny ones
                keys += mults[:, 0, 0] @ block[:, :, 0]
            else:
                keys += np.matmul(block, mults).sum(0, dtype=word)[:, 0]
    return keys


__all__ = ["KEY_CHUNK", "slice_keys"]
