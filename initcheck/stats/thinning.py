"""The evenly spaced thinning every check shares: a fixed subset of a tensor's elements, of
its slices along an axis (and of each slice's coordinates), or of its (units, fan) matrix.
Elements are i.i.d. under a claim, so any fixed subset is a sample; fixed, so a verdict
reproduces and a sharded tensor gives the same subset as a whole one."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from initcheck.sharding.array import ShardedArray, as_sharded

#: At most this many slices per axis enter a Gram matrix (evenly spaced, deterministic).
MAX_SLICES = 128
#: ... and of each slice at most this many coordinates (evenly spaced, the same ones of
#: every slice of a length): a conv kernel's tap axis has a few slices each as long as the
#: tensor. The cosine null is exact on any fixed subset; its critical |cos| at this length
#: (about 0.06) is below that of a typical conv unit (fan 4608: 0.08).
MAX_SLICE_LENGTH = 8192

def spaced(n: int, most: int) -> np.ndarray:
    """At most ``most`` evenly spaced indices into ``range(n)`` (deterministic thinning:
    elements are iid under the claim, so any fixed subset is a sample)."""
    if n <= most:
        return np.arange(n)
    return np.linspace(0, n - 1, most).round().astype(np.int64)


def thin(x: np.ndarray, most: int) -> np.ndarray:
    """At most ``most`` evenly spaced elements of a flat array."""
    return x if x.size <= most else x[spaced(x.size, most)]


def slices(x: np.ndarray | ShardedArray, axis: int, max_slices: int | None = None,
           to: int | None = None, *, max_length: int | None = None,
           index: Sequence[int] | None = None) -> np.ndarray | None:
    """The tensor cut along ``axis``: one row per index, flattened (a unit along the out
    axis, an input along the in axis, a kernel tap along a spatial axis), at most
    ``max_slices`` rows (evenly spaced; or the slices ``index`` names) of at most
    ``max_length`` evenly spaced coordinates. The slices and coordinates are picked first,
    so only they are copied (or, sharded, read: on every rank, or on rank ``to`` only, the
    others getting None)."""
    a = as_sharded(x)
    n = a.shape[axis]
    if index is not None:
        picked = np.asarray(index, np.int64)
    else:
        picked = np.arange(n) if max_slices is None or n <= max_slices else spaced(n, max_slices)
    rest = tuple(d for i, d in enumerate(a.shape) if i != axis)
    length = math.prod(rest)
    cols = None if max_length is None or length <= max_length else spaced(length, max_length)
    y: np.ndarray | None
    if a.single is not None and cols is not None:  # gather the picked coordinates only
        others: list[np.ndarray] = list(np.unravel_index(cols, rest))
        grid = [ix[None, :] for ix in others]
        grid.insert(axis, picked[:, None])
        return np.asarray(a.single[tuple(grid)])
    if a.single is not None and picked.size == n:
        y = a.single
    else:
        y = a.take(axis, picked, to)
    if y is None:
        return None
    rows = np.moveaxis(y, axis, 0).reshape(y.shape[axis], -1)
    return rows if cols is None else rows[:, cols]


def unit_submatrix(x: np.ndarray | ShardedArray, unit_axes: tuple[int, ...], most: int,
                   to: int | None = None) -> np.ndarray | None:
    """``submatrix(unit_matrix(x, unit_axes), most)`` of a tensor whole or sharded: only the
    chosen columns (or rows) are read (sharded: on every rank, or on rank ``to`` only)."""
    a = as_sharded(x)
    if a.single is not None:
        return submatrix(unit_matrix(a.single, unit_axes), most)
    units = math.prod(a.shape[u % a.ndim] for u in unit_axes)
    fan = a.size // units
    if a.size <= most:
        return a.unit_block(unit_axes, None, None, to)
    if fan >= units:
        return a.unit_block(unit_axes, None, spaced(fan, max(2, most // units)), to)
    return a.unit_block(unit_axes, spaced(units, max(2, most // fan)), None, to)


def submatrix(m: np.ndarray, most: int) -> np.ndarray:
    """``m`` itself if it has at most ``most`` elements, else evenly spaced columns (or rows,
    whichever side is longer) of it: a submatrix of independent entries is one too."""
    if m.size <= most:
        return m
    axis = 1 if m.shape[1] >= m.shape[0] else 0
    keep = max(2, most // m.shape[1 - axis])
    return np.take(m, spaced(m.shape[axis], keep), axis)


def unit_matrix(x: np.ndarray, unit_axes: int | tuple[int, ...]) -> np.ndarray:
    """The (units, fan) matrix of a weight: units along ``unit_axes`` (one axis, or several
    flattened together), as orthogonal initializers flatten them."""
    x = np.asarray(x)
    axes = tuple(a % x.ndim for a in ((unit_axes,) if isinstance(unit_axes, int) else unit_axes))
    units = int(np.prod([x.shape[a] for a in axes]))
    return np.moveaxis(x, axes, tuple(range(len(axes)))).reshape(units, -1)


__all__ = ["MAX_SLICES", "MAX_SLICE_LENGTH", "slices", "spaced", "submatrix", "thin",
           "unit_matrix", "unit_submatrix"]
