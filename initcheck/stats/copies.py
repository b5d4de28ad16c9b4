"""Near copies across tensors: a tensor that is another one's copy up to sign, row order,
transposition, a subset of its slices, or small noise (a deep-copied layer, experts
upcycled from one with noise, a port that transposes). Exact whole-tensor copies are
``duplicates``' business; these are not bit-equal, so only their directions give them away.

Every tensor is read as slices along each axis (at most ``MAX_SLICES`` evenly spaced ones,
centred and scaled by its claim). Slices of equal length from different tensors are
compared: for independent tensors with i.i.d. entries, the cosine of two slices of length
d has cos^2 ~ Beta(1/2, (d - 1)/2) (exact for a Gaussian, near it otherwise). Rather than
every pair's exact cosine, a random sketch (``SKETCH`` Gaussian directions) picks, for each
pair of tensors, the pair of slices whose directions agree most, and only that pair's exact
cosine is computed; the test is Bonferroni over every pair of slices compared, which the
picked one is among, so the level holds whatever the sketch picks. A copied slice, with any
sign and any noise well below its scale, has a cosine near 1 and is always the one picked.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from initcheck.core.results import CheckResult
from initcheck.core.seeding import generator
from initcheck.stats.moments import check_alpha
from initcheck.stats.structure import MIN_COSINE_LENGTH, spaced

#: Directions the slices are sketched on before the pair to test is picked.
SKETCH = 64
#: Coordinates of a slice the sketch reads (evenly spaced), at most.
SKETCH_COORDS = 2048


@dataclass(frozen=True)
class Slices:
    """One tensor's slices along one axis: its label (one per tensor: slices of one tensor
    are never compared with each other), the axis, and the (k, d) matrix of standardized
    slices."""

    tensor: str
    axis: int
    rows: np.ndarray


def near_copy_test(parts: Sequence[Slices], alpha: float, *,
                   name: str = "near_copies") -> CheckResult:
    """Largest |cosine| between slices of equal length of different tensors, against its
    null, Bonferroni over every pair of slices compared.

    Args:
        parts: each tensor's slices along each of its axes.
        alpha: the false-alarm rate of the whole test.
        name: the check's name.

    Returns:
        A ``CheckResult``: failed when some pair of tensors shares a direction no chance
        explains; ``extra`` names the pair (``where``, ``copy_of``) and the slices.
    """
    alpha = check_alpha(alpha)
    by_length: dict[int, list[Slices]] = {}
    for p in parts:
        m = np.asarray(p.rows, dtype=np.float64)
        norms = np.linalg.norm(m, axis=1)
        keep = norms > 0
        if m.shape[1] >= MIN_COSINE_LENGTH and keep.sum() >= 1:
            by_length.setdefault(m.shape[1], []).append(
                Slices(p.tensor, p.axis, m[keep] / norms[keep, None]))
    pairs, worst = 0, (1.0, 0.0, "", "", 0)
    n = sum(p.rows.size for p in parts)
    for d, group in by_length.items():
        if len({g.tensor for g in group}) < 2:
            continue
        # the sketch reads at most SKETCH_COORDS coordinates, the same ones of every slice
        # (a copy agrees on any of them); only the picked pair's cosine reads them all
        coords = spaced(d, SKETCH_COORDS) if d > SKETCH_COORDS else slice(None)
        width = min(d, SKETCH_COORDS)
        g = generator(0, "near_copies", d).standard_normal((width, SKETCH)).astype(np.float32)
        sketches = [_unit(part.rows[:, coords].astype(np.float32) @ g) for part in group]
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                a, b = group[i], group[j]
                if a.tensor == b.tensor:
                    continue
                pairs += a.rows.shape[0] * b.rows.shape[0]
                close = np.abs(sketches[i] @ sketches[j].T)
                r, c = np.unravel_index(int(np.argmax(close)), close.shape)
                cos = abs(float(a.rows[r] @ b.rows[c]))
                pv = float(special.betaincc(0.5, (d - 1) / 2, min(cos, 1.0) ** 2))
                if pv < worst[0] or (pv == worst[0] and cos > worst[1]):
                    worst = (pv, cos, f"{b.tensor} axis {b.axis}", f"{a.tensor} axis {a.axis}", d)
    if pairs == 0:
        return CheckResult.skipped(name, alpha, "no two tensors with slices of equal length")
    p_value = min(1.0, worst[0] * pairs)
    passed = p_value >= alpha
    # the |cos| that fails at this level: a copy with noise of relative size r has
    # |cos| = 1 / sqrt(1 + r^2), so noise up to sqrt(1/c^2 - 1) of the scale is caught
    needed = math.sqrt(float(special.betainccinv(0.5, (worst[4] - 1) / 2, alpha / pairs)))
    detail = (f"{worst[2]} and {worst[3]}: largest |cos| {worst[1]:.4f} over slices of"
              f" length {worst[4]}, |cos| >= {needed:.4f} fails ({pairs:,} pairs compared)")
    if not passed:
        detail += ": one is a near copy of the other (up to sign, order, transposition, noise)"
    return CheckResult(name=name, passed=passed, statistic=worst[1], threshold=needed,
                       pvalue=p_value, alpha=alpha, n=n, mde=math.nan, observed=worst[1],
                       expected=0.0, detail=detail,
                       extra={"where": worst[2].rsplit(" axis", 1)[0],
                              "copy_of": worst[3].rsplit(" axis", 1)[0]} if not passed else {})


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1.0)


__all__ = ["SKETCH", "Slices", "near_copy_test"]
