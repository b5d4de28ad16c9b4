"""``check_tensor``: does one given tensor hold what its claim says? The checks of ``verify``
that apply to one fixed draw (finite, support, mean, std, distribution, edge, atoms, tails,
distinct units, unit correlation, spectrum, orthonormality), none that needs a second draw,
each with its minimum detectable effect at the tensor's size; one alpha for the call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Tensors
from initcheck.claims.specs import Spec, spec as make_spec
from initcheck.core import _validate
from initcheck.core.contract import as_numpy
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import DEFAULT_LAYOUT, Layout, get_layout
from initcheck.core.results import Report
from initcheck.core.threads import one_blas_thread
from initcheck.frameworks.sharding import as_checkable
from initcheck.identification.diagnosis import diagnose
from initcheck.sharding.array import ShardedArray


def is_float(x: np.ndarray | ShardedArray) -> bool:
    return x.dtype.kind == "f" or x.dtype.name in _validate.ML_FLOATS


def prepared(x: np.ndarray | ShardedArray, claim: Spec, what: str) -> np.ndarray | ShardedArray:
    """``x`` ready for the checks: float as it is; an integer or boolean tensor (a buffer)
    as float64 when the claim is an exact value; else a ValueError naming the tensor."""
    if is_float(x):
        return x
    if claim.family == "constant" and x.dtype.kind in "biu":
        return x.astype(np.float64)
    raise ValueError(f"{what} has dtype {x.dtype}: a {claim.name} claim is about floating-point"
                     " weights. Claim an exact value (zeros, ones, constant) or skip it.")


@one_blas_thread
def check_tensor(
    x: Any,
    expect: str | Spec,
    *,
    layout: str | Layout | None = None,
    alpha: float = DEFAULT_ALPHA,
    name: str | None = None,
    convention: str = "logical",
) -> Report:
    """Check that one given tensor holds a draw of what it claims.

    The checks of ``verify`` that fit one fixed draw (moments, distribution, tails, edges,
    structure), under one family-wise false-alarm budget.

    Args:
        x: the tensor: a NumPy, torch or jax array (sharded ones where they live).
        expect: its claim: a spec's name (``"he_normal"``) or ``initcheck.spec(...)``.
        layout: how fans are read from its shape (default: ``"torch"`` for a torch tensor,
            else keras's ``(*k, in, out)``), or a ``Layout``.
        alpha: the family-wise false-alarm rate of the call, in (0, 1).
        name: the tensor's name in the report.
        convention: ``"logical"`` fans, or a framework's literal ones (``"torch"``, ...).

    Returns:
        A ``Report``, as ``verify``'s, with the call that reproduces it.

    Raises:
        ValueError: bad input (named): an empty or complex tensor, a claim that does not fit
            its shape, or one its dtype cannot hold.

    Example:
        >>> import numpy as np, initcheck as ic
        >>> w = np.random.default_rng(0).normal(0, 0.02, (512, 256))
        >>> ic.check_tensor(w, ic.spec("normal", std=0.02)).passed
        True
        >>> ic.check_tensor(w * 1.05, ic.spec("normal", std=0.02)).check("std").passed
        False
    """
    alpha = stats.check_alpha(alpha)
    label = "tensor" if name is None else str(name)
    with _validate.about("expect"):
        claim = make_spec(expect) if isinstance(expect, (str, Spec)) else None
    if claim is None:
        raise ValueError(f"expect={expect!r} is not a spec. Pass a name ('he_normal') or"
                         " initcheck.spec(name, **params).")
    torch = hasattr(x, "detach") and hasattr(x, "dtype")
    lay = get_layout(layout if layout is not None else ("torch" if torch else DEFAULT_LAYOUT))
    with _validate.about("x"):
        array = prepared(as_checkable(x), claim, label)
        if array.size == 0:
            raise ValueError(f"{label} has shape {array.shape}: no elements to check.")
    try:
        law = claim.law(array.shape, lay, convention=convention)
    except ValueError as exc:
        raise ValueError(f"expect={claim!r} does not fit {label} of shape {array.shape}: {exc}"
                         ) from None
    ctx = Tensors(claim, {label: array}, {label: law}, lay)
    found = tuple(checks.run(ctx, alpha))
    passed = all(c.passed for c in found)
    layout_arg = (
        repr(lay.name) if layout is None or isinstance(layout, str) else f"initcheck.{lay!r}"
    )
    return Report(
        initializer=label, framework="torch" if torch else type(x).__module__.split(".")[0],
        layout=lay.name, spec=repr(claim), seed=0, alpha=alpha,
        dtype=str(getattr(x, "dtype", array.dtype)).replace("torch.", ""),
        shapes=(tuple(array.shape),), checks=found,
        diagnosis=None if passed else diagnose(ctx, claim, alpha, convention=convention),
        reproduce_call=(f"initcheck.check_tensor({label if name else 'x'},"
                        f" initcheck.{claim!r}, layout={layout_arg}, alpha={alpha!r})"),
        elements=int(array.size))


__all__ = ["as_numpy", "check_tensor", "is_float", "prepared"]
