"""JAX: ``jax.nn.initializers`` are functions ``init(key, shape, dtype)`` made by factories
(``glorot_uniform()``); the layout is keras's (*k, in, out). Each call gets a fresh key."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.core.contract import Adapter, qualified_name
from initcheck.core.fans import Layout, get_layout
from initcheck.core.seeding import int_seed
from initcheck.frameworks import require


def _check_is_initializer(fn: Any, label: str) -> None:
    """Refuse a factory passed where its initializer belongs (``glorot_uniform`` instead of
    ``glorot_uniform()``), which would otherwise fail with a cryptic shape error."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return
    if params and params[0] != "key" and ("in_axis" in params or "stddev" in params
                                          or "scale" in params or "column_axis" in params
                                          or "value" in params):
        raise ValueError(
            f"{label} looks like an initializer factory (its parameters are {params}); pass the"
            f" initializer it makes, e.g. {getattr(fn, '__name__', 'factory')}(), which takes"
            " (key, shape, dtype) (initcheck verify: add --factory).")


def closure_layout(fn: Any) -> Layout | None:
    """The layout a jax initializer was made for, read from its closure: ``variance_scaling``
    (and glorot/he/lecun, made by it) keeps ``in_axis``, ``out_axis`` and ``batch_axis``
    there, each an int or a sequence. None for jax's defaults (-2, -1, ()), or where the
    closure does not say."""
    try:
        names = inspect.getclosurevars(fn).nonlocals
    except (TypeError, ValueError):
        return None
    if "in_axis" not in names or "out_axis" not in names:
        return None
    def axes(v: Any) -> int | tuple[int, ...]:
        return int(v) if isinstance(v, int) else tuple(int(a) for a in v)
    in_axis, out_axis = axes(names["in_axis"]), axes(names["out_axis"])
    batch = axes(names.get("batch_axis", ()))
    batch = (batch,) if isinstance(batch, int) else batch
    if (in_axis, out_axis, batch) == (-2, -1, ()):
        return None
    return Layout(f"jax(in_axis={in_axis}, out_axis={out_axis}, batch_axis={batch})",
                  in_axis, out_axis, batch)


def _takes_dtype(fn: Any) -> bool:
    """jax's convention is init(key, shape, dtype); a user's may stop at (key, shape)."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (len(positional) >= 3 or any(p.name == "dtype" for p in params)
            or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params))


def adapter(fn: Callable[..., Any], *, layout: str | Layout | None = None,
            name: str | None = None) -> Adapter:
    """``fn(key, shape[, dtype])`` with a fresh key per call; the layout is the one given,
    else the one its closure was made for (``closure_layout``), else jax's (*k, in, out)."""
    jax = require("jax")
    label = name or qualified_name(fn)
    _check_is_initializer(fn, label)
    takes_dtype = _takes_dtype(fn)

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        key = jax.random.key(int_seed(int(seed.generate_state(1)[0]), "jax"))
        out = fn(key, shape, jax.numpy.dtype(dt.name)) if takes_dtype else fn(key, shape)
        return np.asarray(out)

    lay = get_layout(layout) if layout is not None else closure_layout(fn) or get_layout("jax")
    return Adapter("jax", label, lay, draw, takes_dtype)
