"""Near copies across tensors: a tensor that is another one's copy up to sign, row order,
transposition, a subset of its slices, or small noise (a deep-copied layer, experts
upcycled from one with noise, a port that transposes). Exact whole-tensor copies are
``duplicates``' business; these are not bit-equal, so only their directions give them away.

Every tensor is read as slices along each axis (at most ``MAX_SLICES`` evenly spaced ones
of at most ``MAX_SLICE_LENGTH`` evenly spaced coordinates, centred and scaled by its claim).
Slices of equal length from different tensors are compared: for independent tensors with
i.i.d. entries, the cosine of two slices of length d has cos^2 ~ Beta(1/2, (d - 1)/2)
(exact for a Gaussian, near it otherwise). Rather than every pair's exact cosine, a random
sketch (``SKETCH`` Gaussian directions) ranks the pairs of tensors by how well their best
slices agree, and for the ``EXACT_PAIRS`` best only the best-agreeing pair of slices gets
an exact cosine; the test is Bonferroni over every pair of slices compared, which the
picked ones are among, so the level holds whatever the sketch picks. A copied slice, with
any sign and any noise well below its scale, has a cosine near 1 and is always picked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import special

from initcheck.core.results import CheckResult
from initcheck.core.seeding import generator
from initcheck.stats.moments import check_alpha
from initcheck.stats.structure import MIN_COSINE_LENGTH
from initcheck.stats.thinning import spaced

#: Directions the slices are sketched on before the pair to test is picked.
SKETCH = 64
#: Coordinates of a slice the sketch reads (evenly spaced), at most.
SKETCH_COORDS = 2048
#: Pairs of tensors (per slice length) whose best-agreeing slices get an exact cosine: those
#: whose sketches agree most. Any subset keeps the level (Bonferroni counts every pair); a
#: copy's sketches agree near 1, far above the ~0.6 that the largest of thousands of
#: independent pairs reaches on 64 directions, so it is always among them.
EXACT_PAIRS = 64
#: Parts whose sketches one product compares with a part's (bounds its working memory).
PART_BLOCK = 64


@dataclass(frozen=True)
class Slices:
    """One tensor's slices along one axis as the test needs them: its label (one per tensor:
    slices of one tensor are never compared with each other), the axis, the slices' length,
    each slice's direction on the sketch and its norm, and ``row(i)``, slice ``i`` itself
    (re-read when its pair is picked, so a model's slices are not all held at once)."""

    tensor: str
    axis: int
    length: int
    sketch: np.ndarray
    norms: np.ndarray
    row: Callable[[int], np.ndarray]


@lru_cache(maxsize=16)
def _directions(width: int, length: int) -> np.ndarray:
    """The sketch's ``SKETCH`` Gaussian directions over ``width`` coordinates (fixed per
    slice length)."""
    g = generator(0, "near_copies", length).standard_normal((width, SKETCH)).astype(np.float32)
    g.flags.writeable = False
    return g


def sketched(tensor: str, axis: int, rows: np.ndarray,
             row: Callable[[int], np.ndarray] | None = None) -> Slices:
    """``Slices`` of a (k, d) matrix of standardized slices: their sketch and norms, and
    ``row`` (default: the rows kept in memory) to read one again.

    Args:
        tensor: the tensor's label.
        axis: the axis the slices are cut along.
        rows: the (k, d) standardized slices.
        row: reads slice ``i`` again, as ``rows[i]`` (default: ``rows[i]`` itself, held).

    Returns:
        The ``Slices`` ``near_copy_test`` compares.
    """
    m = np.asarray(rows)
    d = m.shape[1]
    # the sketch reads at most SKETCH_COORDS coordinates, the same ones of every slice of a
    # length (a copy agrees on any of them); only a picked pair's cosine reads them all
    coords = spaced(d, SKETCH_COORDS) if d > SKETCH_COORDS else slice(None)
    sketch = _unit(m[:, coords].astype(np.float32, copy=False)
                   @ _directions(min(d, SKETCH_COORDS), d))
    norms = np.sqrt(np.einsum("ij,ij->i", m, m, dtype=np.float64))
    return Slices(tensor, axis, d, sketch, norms, row if row is not None else m.__getitem__)


def near_copy_test(parts: Sequence[Slices], alpha: float, *,
                   name: str = "near_copies") -> CheckResult:
    """Largest |cosine| between slices of equal length of different tensors, against its
    null, Bonferroni over every pair of slices compared.

    Args:
        parts: each tensor's slices along each of its axes (``sketched``).
        alpha: the false-alarm rate of the whole test.
        name: the check's name.

    Returns:
        A ``CheckResult``: failed when some pair of tensors shares a direction no chance
        explains; ``extra`` names the pair (``where``, ``copy_of``) and the slices.
    """
    alpha = check_alpha(alpha)
    by_length: dict[int, list[Slices]] = {}
    for p in parts:
        if p.length >= MIN_COSINE_LENGTH and np.any(p.norms > 0):
            by_length.setdefault(p.length, []).append(p)
    pairs = 0
    worst: tuple[float, float, Slices | None, Slices | None, int] = (1.0, 0.0, None, None, 0)
    n = sum(p.length * p.norms.size for p in parts)
    for d, group in by_length.items():
        if len({g.tensor for g in group}) < 2:
            continue
        count, candidates = _closest_pairs(group)
        pairs += count
        for _, i, j in candidates[:EXACT_PAIRS]:  # the best-agreeing pairs of tensors
            a, b = group[i], group[j]
            close = np.abs(a.sketch @ b.sketch.T)
            r, c = np.unravel_index(int(np.argmax(close)), close.shape)
            if a.norms[r] == 0 or b.norms[c] == 0:
                continue  # every sketched direction is zero: nothing shared
            dot = float(np.asarray(a.row(int(r)), np.float64)
                        @ np.asarray(b.row(int(c)), np.float64))
            cos = abs(dot / (a.norms[r] * b.norms[c]))
            pv = float(special.betaincc(0.5, (d - 1) / 2, min(cos, 1.0) ** 2))
            if pv < worst[0] or (pv == worst[0] and cos > worst[1]):
                worst = (pv, cos, b, a, d)
    if pairs == 0:
        return CheckResult.skipped(name, alpha, "no two tensors with slices of equal length")
    p_value = min(1.0, worst[0] * pairs)
    passed = p_value >= alpha
    # the |cos| that fails at this level: a copy with noise of relative size r has
    # |cos| = 1 / sqrt(1 + r^2), so noise up to sqrt(1/c^2 - 1) of the scale is caught
    needed = math.sqrt(float(special.betainccinv(0.5, (worst[4] - 1) / 2, alpha / pairs)))
    where, copy_of = worst[2], worst[3]
    detail = (f"{_named(where)} and {_named(copy_of)}: largest |cos| {worst[1]:.4f} over slices of"
              f" length {worst[4]}, |cos| >= {needed:.4f} fails ({pairs:,} pairs compared)")
    if not passed:
        detail += ": one is a near copy of the other (up to sign, order, transposition, noise)"
    return CheckResult(name=name, passed=passed, statistic=worst[1], threshold=needed,
                       pvalue=p_value, alpha=alpha, n=n, mde=math.nan, observed=worst[1],
                       expected=0.0, detail=detail,
                       extra={"where": where.tensor, "copy_of": copy_of.tensor}
                       if not passed and where is not None and copy_of is not None else {})


def _named(part: Slices | None) -> str:
    return "" if part is None else f"{part.tensor} axis {part.axis}"


def _closest_pairs(group: Sequence[Slices]) -> tuple[int, list[tuple[float, int, int]]]:
    """The number of slice pairs compared within one length's ``group`` (slices of different
    tensors), and each pair of parts with their largest sketched |cos|, best first: one
    product per part against every later part (in column blocks), not one per pair."""
    sizes = np.array([g.norms.size for g in group])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    stacked = np.concatenate([g.sketch for g in group])
    count, found = 0, []
    for i, a in enumerate(group):
        for lo in range(i + 1, len(group), PART_BLOCK):
            hi = min(len(group), lo + PART_BLOCK)
            block = np.abs(a.sketch @ stacked[starts[lo]:starts[hi]].T).max(axis=0)
            best = np.maximum.reduceat(block, starts[lo:hi] - starts[lo])
            for j, value in zip(range(lo, hi), best):
                if group[j].tensor != a.tensor:
                    count += int(sizes[i] * sizes[j])
                    found.append((float(value), i, j))
    found.sort(key=lambda t: -t[0])
    return count, found


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


__all__ = ["SKETCH", "Slices", "near_copy_test", "sketched"]
