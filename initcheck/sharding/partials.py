"""The partial statistics a tensor's blocks add up to exactly, so a sharded tensor is merged
by summing them across ranks: the moment ``Summary`` (sums of z, z^2, z^4 and max |z|) and the
per-unit ``UnitSums``, both in claimed sigmas z = (x - mean) / std. The tests that read them
live in ``initcheck.stats``."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from initcheck.claims.specs import Law


@dataclass(frozen=True)
class Summary:
    """Sufficient statistics of one tensor for the moment tests, in claimed sigmas:
    z = (x - mean) / std, with n, sum z, sum z^2, max |z| and the law's kurtosis. Computed
    once per tensor; pooled tests add them up."""

    n: int
    total: float
    squares: float
    max_abs: float
    kurtosis: float
    #: sum of z^4 (the fourth-moment test)
    fourth: float = math.nan


#: Elements standardized at a time by ``summarize``: its float64 working copies stay at
#: 2 MiB each whatever the tensor's size (a small model's check must not need more than its
#: largest tensor; larger chunks are no faster).
SUMMARY_CHUNK = 2**18


def summarize(x: np.ndarray, law: Law) -> Summary:
    """The ``Summary`` of ``x`` under ``law``, standardized in float64 chunks of
    ``SUMMARY_CHUNK`` elements (so the working memory does not grow with the tensor)."""
    flat = np.asarray(x).ravel()
    total = squares = fourth = 0.0
    max_abs = 0.0
    for start in range(0, flat.size, SUMMARY_CHUNK):
        z = flat[start:start + SUMMARY_CHUNK].astype(np.float64)
        if law.mean != 0 or law.std != 1:
            z -= law.mean
            z /= law.std
        total += float(z.sum())
        squares += float(z @ z)
        max_abs = max(max_abs, float(z.max()), float(-z.min()))
        z *= z  # in place: z is this chunk's own copy
        fourth += float(z @ z)
    return Summary(flat.size, total, squares, max_abs, law.kurtosis, fourth)


@dataclass(frozen=True)
class UnitSums:
    """Per-unit sums of z and z^2 over units of ``length`` elements, and the law's kurtosis."""

    total: np.ndarray
    squares: np.ndarray
    length: int
    kurtosis: float


def unit_sums(x: np.ndarray, unit_axes: tuple[int, ...], law: Law) -> UnitSums:
    """Per-unit sums of z = (x - mean) / std; units index ``unit_axes``. The raw sums of x and
    x^2 accumulate in float64 inside numpy's reductions (buffered: no float64 copy of the
    tensor) and are then standardized."""
    x = np.asarray(x)
    if x.dtype.kind != "f" or x.dtype.itemsize < 4:
        x = x.astype(np.float32)  # half and ml_dtypes floats: einsum needs a native float
    axes = tuple(sorted(a % x.ndim for a in unit_axes))
    letters = "abcdefghijklmnopqrstuvwxyz"[:x.ndim]
    out = "".join(letters[a] for a in axes)
    other = tuple(a for a in range(x.ndim) if a not in axes)
    s1 = x.sum(axis=other, dtype=np.float64).reshape(-1)
    s2 = np.einsum(f"{letters},{letters}->{out}", x, x, dtype=np.float64).reshape(-1)
    length = x.size // s1.size
    mu, sd = law.mean, law.std
    return UnitSums((s1 - length * mu) / sd, (s2 - 2 * mu * s1 + length * mu * mu) / sd**2,
                    length, law.kurtosis)
