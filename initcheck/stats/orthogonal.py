"""Orthogonal initializers: Q Q^T = g^2 I within rounding (a hard check), and whether Q is
Haar-distributed (the trace test that catches QR without the sign fix)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from initcheck.core import _validate
from initcheck.core.results import POWER, CheckResult
from initcheck.stats.moments import check_alpha, z_two_sided

#: Tolerance of Q Q^T = I in units of the dtype's epsilon, times sqrt of the long side:
#: Householder QR's backward error grows like sqrt(n) eps; 30 leaves room for the gain
#: multiply and the cast to the sample's dtype.
ORTHONORMAL_ULPS = 30


def orthonormality(
    tensors: list[tuple[str, np.ndarray, float]], *, name: str = "orthogonal"
) -> CheckResult:
    """Hard check Q Q^T = g^2 I on the smaller side of each (units, fan) matrix, within the
    rounding of its dtype (ORTHONORMAL_ULPS ulps times sqrt of the long side)."""
    worst, worst_label, n, ok = 0.0, "", 0, True
    for label, q, gain in tensors:
        eps = _validate.eps(q.dtype)
        m = np.asarray(q, dtype=np.float64) / gain
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        err = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
        tol = ORTHONORMAL_ULPS * eps * math.sqrt(max(m.shape))
        n += q.size
        ok &= err <= tol
        if err / tol >= worst:
            worst, worst_label = (
                err / tol,
                f"{label}: max |Q Q^T / g^2 - I| = {err:.3g}, tolerance {tol:.3g}",
            )
    return CheckResult.hard(name, ok, n=n, statistic=worst, threshold=1.0, detail=worst_label,
                            observed=worst, expected=0.0)


def haar_test(
    matrices: list[np.ndarray], gain: float, alpha: float, *, name: str = "haar"
) -> CheckResult:
    """Is Q Haar? The diagonal of a Haar (units, fan) matrix sums to a variable with mean 0
    and variance min/max (entries of a uniform unit vector are uncorrelated). QR without the
    sign fix biases every Q_ii to one sign: the sum over several draws drifts by about
    0.8 sqrt(min) per draw."""
    alpha = check_alpha(alpha)
    total, var, n = 0.0, 0.0, 0
    for q in matrices:
        m = np.asarray(q, dtype=np.float64) / gain
        k, big = min(m.shape), max(m.shape)
        total += float(np.trace(m[:k, :k]))
        var += k / big
        n += m.size
    z = total / math.sqrt(var)
    crit = z_two_sided(alpha)
    return CheckResult(name=name, passed=abs(z) <= crit, statistic=z, threshold=crit,
                       pvalue=float(2 * special.ndtr(-abs(z))), alpha=alpha, n=n,
                       mde=(crit + float(special.ndtri(POWER))) * math.sqrt(var),
                       detail=f"sum of diagonals over {len(matrices)} draws = {total:.3f},"
                              f" z = {z:.2f}, |z| <= {crit:.2f} under Haar",
                       observed=total, expected=0.0)
