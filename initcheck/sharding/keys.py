"""Exact integer keys of a tensor's slices (``slice_keys``): equal slices have equal keys,
and a piece of a tensor adds its part of every key, so the keys of a sharded tensor are the
sum of its shards' (``stats.shards``). They find copied units without comparing every pair."""

from __future__ import annotations

import math

import numpy as np

#: Elements keyed at a time by ``slice_keys`` (its integer working copies: about 6 MiB).
KEY_CHUNK = 2**18


def _mix(p: np.ndarray) -> np.ndarray:
    """splitmix64 of each position: a fixed pseudo-random 64-bit word per position."""
    z = p.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _flat_index(starts: tuple[int, ...], sizes: tuple[int, ...], whole: tuple[int, ...],
                lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Flat indices into ``whole`` of positions ``lo:hi`` (C order) of the box at
    ``starts`` of ``sizes``: computed for those positions only (no grid of the box)."""
    local = np.arange(lo, math.prod(sizes) if hi is None else hi, dtype=np.int64)
    if not sizes or (sizes == whole and not any(starts)):
        return local
    coords = np.unravel_index(local, sizes)
    return np.ravel_multi_index(tuple(c + s for c, s in zip(coords, starts)), whole)


def slice_keys(x: np.ndarray, axis: int, *, offset: tuple[int, ...] | None = None,
               whole: tuple[int, ...] | None = None) -> np.ndarray:
    """An exact integer key of each slice along ``axis``: its elements' bits times odd
    multipliers fixed by each element's position in the slice, summed with wrap-around (one
    integer einsum), so equal slices have equal keys. The multipliers depend on the
    position in the ``whole`` tensor only, so a piece at ``offset`` adds its part of every
    key (sharded tensors). Keyed a chunk of positions at a time: no copy of the tensor."""
    x = np.ascontiguousarray(x)
    whole = tuple(x.shape) if whole is None else tuple(whole)
    offset = (0,) * x.ndim if offset is None else tuple(offset)
    length = x.shape[axis]
    pre, post = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1:])
    word = np.uint64 if x.dtype.itemsize == 8 else np.uint32
    u = x.view(np.dtype(f"u{x.dtype.itemsize}")).reshape(pre, length, post)

    def flat(axes: range, lo: int = 0, hi: int | None = None) -> np.ndarray:
        """Global flat index (over ``axes``) of the piece's positions lo:hi along them."""
        return _flat_index(tuple(offset[a] for a in axes), tuple(x.shape[a] for a in axes),
                           tuple(whole[a] for a in axes), lo, hi)

    g_post = flat(range(axis + 1, x.ndim))
    post_whole = math.prod(whole[axis + 1:])
    keys = np.zeros(length, word)
    step = max(1, KEY_CHUNK // max(1, length * post))
    with np.errstate(over="ignore"):
        for p in range(0, pre, step):
            g_pre = flat(range(axis), p, min(pre, p + step))
            positions = g_pre[:, None] * post_whole + g_post[None, :]
            mults = _mix(positions).astype(word) | word(1)
            block = u[p:p + step]
            if block.dtype != word:
                block = block.astype(word)  # 2-byte floats: 16-bit keys would collide too often
            # one pass of products summed with wrap-around (einsum: no per-row matmul calls)
            keys += np.einsum("pjq,pq->j", block, mults)
    return keys


__all__ = ["KEY_CHUNK", "slice_keys"]
