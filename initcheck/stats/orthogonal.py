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
#: float32's epsilon: the precision an orthogonal matrix is computed in at the least (no
#: framework runs QR in half precision: torch and jax refuse it) before it is rounded.
FLOAT32_EPS = 2.0**-23


def tolerance(dtype: np.dtype, long_side: int) -> float:
    """The largest max |Q Q^T / g^2 - I| an orthogonal Q in ``dtype`` can show: QR's error at
    the precision it ran in (``ORTHONORMAL_ULPS`` eps sqrt(n)), plus, for a dtype coarser than
    float32 (float16, bfloat16), its rounding to that dtype: each entry moves by at most eps/2
    relative, so each Gram entry by at most eps (Cauchy-Schwarz over the unit rows). Any matrix
    further from orthogonal fails: a Gaussian N(0, 1/n) lies about sqrt(8 log n / n) away
    (0.2 at n = 256), 25x bfloat16's 0.0078."""
    eps = _validate.eps(dtype)
    if eps <= FLOAT32_EPS:
        return ORTHONORMAL_ULPS * eps * math.sqrt(long_side)
    return eps + ORTHONORMAL_ULPS * FLOAT32_EPS * math.sqrt(long_side)


def orthonormality(
    tensors: list[tuple[str, np.ndarray, float]], *, name: str = "orthogonal"
) -> CheckResult:
    """Hard check Q Q^T = g^2 I on the smaller side of each (units, fan) matrix, within what
    its computation and its dtype's rounding allow (``tolerance``)."""
    worst, worst_label, n, ok = 0.0, "", 0, True
    failed: list[str] = []  # the tensors that are not orthogonal, so a report can name them
    for label, q, gain in tensors:
        m = np.asarray(q, dtype=np.float64) / gain
        gram = m @ m.T if m.shape[0] <= m.shape[1] else m.T @ m
        err = float(np.max(np.abs(gram - np.eye(gram.shape[0]))))
        tol = tolerance(q.dtype, max(m.shape))
        n += q.size
        ok &= err <= tol
        if err > tol:
            failed.append(label)
        if err / tol >= worst:
            worst, worst_label = (
                err / tol,
                f"{label}: max |Q Q^T / g^2 - I| = {err:.3g}, tolerance {tol:.3g}",
            )
    return CheckResult.hard(name, ok, n=n, statistic=worst, threshold=1.0, detail=worst_label,
                            observed=worst, expected=0.0,
                            extra={"failed": failed, "where": failed[0]} if failed else {})


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
