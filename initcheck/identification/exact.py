"""The candidates ``identify`` reads exactly rather than fits: a constant tensor (every
value equal) and gain x an orthogonal matrix (units orthonormal within the dtype's
rounding)."""

from __future__ import annotations

import math

import numpy as np

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Tensors
from initcheck.claims.specs import spec as make_spec
from initcheck.identification.claim_space import GAINS
from initcheck.identification.report import Candidate
from initcheck.stats.orthogonal import tolerance as orthonormal_tolerance


def constant(ctx: Tensors) -> Candidate | None:
    """Every value equal: zeros, ones, or a constant."""
    values = {float(np.asarray(x).ravel()[0]) for x in ctx.tensors.values()}
    if len(values) == 1 and all(
        np.all(np.asarray(x) == next(iter(values))) for x in ctx.tensors.values()
    ):
        v = values.pop()
        s = (
            make_spec("zeros")
            if v == 0
            else make_spec("ones")
            if v == 1
            else make_spec("constant", value=v)
        )
        return Candidate(claim=repr(s), spec=s, convention="logical", layout=ctx.layout.name,
                         family="constant", gain=0.0, named=True, std_ratio=math.nan,
                         std_ratio_se=math.nan, pvalue=1.0, loglik=math.nan,
                         explanation=f"every value is {v:g}")
    return None


def orthogonal(ctx: Tensors) -> Candidate | None:
    """gain * Haar-orthogonal, if every tensor's units are orthonormal up to one gain."""
    gains = []
    for x in ctx.tensors.values():
        if x.ndim < 2:
            return None
        m = stats.unit_matrix(np.asarray(x, dtype=np.float64), ctx.layout.unit_axes(x.ndim))
        if min(m.shape) < 2:  # one vector is trivially orthonormal: nothing to tell
            return None
        # the diagonal of the Gram matrix first (O(size)): orthonormal vectors on the
        # smaller side all have one norm, within the tolerance the whole check allows
        norms = np.sum(m * m, axis=1 if m.shape[0] <= m.shape[1] else 0)
        g2 = float(np.mean(norms))
        if g2 == 0 or np.max(np.abs(norms / g2 - 1)) > 2 * orthonormal_tolerance(
                x.dtype, max(m.shape)):
            return None
        gains.append(math.sqrt(g2))
    g = float(np.median(gains))
    named = next((n for n, v in GAINS.items() if abs(v / g - 1) < 1e-4), None)
    # a named gain, the fit rounded to 6 digits (an orthonormality within the dtype's
    # rounding pins the gain far finer), or the fit itself: the first that holds
    tries = ([GAINS[named]] if named else []) + [float(f"{g:.6g}"), g]
    for gain in tries:
        s = make_spec("orthogonal", gain=gain)
        laws = {k: s.law(ctx.shape(k), ctx.layout) for k in ctx.laws}
        if checks.orthonormal(ctx.relabelled(laws)).passed:
            break
    else:
        return None
    named = named if named and gain == GAINS[named] else None
    return Candidate(claim=repr(s), spec=s, convention="logical", layout=ctx.layout.name,
                     family="orthogonal", gain=gain, named=named is not None, std_ratio=1.0,
                     std_ratio_se=0.0, pvalue=1.0, loglik=math.nan,
                     explanation=f"orthonormal units, gain {named or f'{gain:.4g}'}")


__all__ = ["constant", "orthogonal"]
