"""Argument checks shared by every factory: one place for the wording of bad-input errors.

Every check raises ``ValueError`` naming the argument, the value it got, and the fix
(allowed values, close matches for a misspelled name).
"""

from __future__ import annotations

import contextlib
import difflib
import math
import numbers
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import numpy as np

#: Largest tensor a sampler or check will allocate (elements); beyond it is almost surely a
#: unit mistake (a shape of pixels instead of channels) and would exhaust memory.
MAX_ELEMENTS = 2**30


def choice(argument: str, value: object, allowed: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; else raise naming the allowed values."""
    allowed = list(allowed)
    if isinstance(value, str) and value in allowed:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, allowed, n=3, cutoff=0.6)
        if close:
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?"
    raise ValueError(
        f"{argument}={value!r} is not supported.{hint} Allowed values: "
        f"{', '.join(repr(a) for a in allowed)}."
    )


def real(argument: str, value: object, *, positive: bool = False, finite: bool = True) -> float:
    """Return ``value`` as a float; it must be a real number (and > 0 when ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(
            f"{argument} must be a real number, got {value!r} ({type(value).__name__})."
        )
    x = float(value)
    if finite and not math.isfinite(x):
        raise ValueError(f"{argument} must be finite, got {x}.")
    if positive and not x > 0:
        raise ValueError(f"{argument} must be > 0, got {x}. Pass a positive {argument}.")
    return x


def integer(argument: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an int >= ``minimum``; floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(
            f"{argument} must be an integer, got {value!r} ({type(value).__name__})."
            f" Pass an int (for example {argument}={max(minimum, 1)})."
        )
    n = int(value)
    if n < minimum:
        raise ValueError(f"{argument} must be >= {minimum}, got {n}.")
    return n


def shape(value: object, *, max_elements: int = MAX_ELEMENTS) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints, refusing anything else with the fix."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | np.ndarray):
        raise ValueError(
            f"shape must be a tuple of positive ints such as (784, 256), got {value!r}."
        )
    dims = []
    for i, d in enumerate(value):
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise ValueError(
                f"shape {tuple(value)!r}: dimension {i} is {d!r} ({type(d).__name__}),"
                " not an integer. Pass whole numbers, e.g. int(d)."
            )
        if d <= 0:
            raise ValueError(
                f"shape {tuple(value)!r}: dimension {i} is {int(d)}; every dimension must be"
                " >= 1 (a tensor with no elements has no distribution to initialize or check)."
            )
        dims.append(int(d))
    size = math.prod(dims)
    if size > max_elements:
        raise ValueError(
            f"shape {tuple(dims)!r} has {size:,} elements, more than the limit of"
            f" {max_elements:,}. Check the shape (channels, not pixels?) or test a smaller"
            " tensor: the statistics do not need it."
        )
    return tuple(dims)


#: Low-precision float dtypes NumPy knows only through ml_dtypes (installed with jax).
ML_FLOATS = ("bfloat16",)


def float_dtype(value: object) -> np.dtype:
    """Return ``value`` as a floating dtype: NumPy's float16/32/64, or bfloat16 through
    ml_dtypes; integer and complex dtypes are refused."""
    if isinstance(value, str) and value in ML_FLOATS:
        try:
            import ml_dtypes
        except ImportError:
            raise ValueError(
                f"dtype={value!r} needs ml_dtypes: pip install ml_dtypes (jax brings it)."
            ) from None
        return np.dtype(getattr(ml_dtypes, value))
    try:
        dt = np.dtype(cast(Any, value))
    except TypeError as exc:
        raise ValueError(f"dtype={value!r} is not a NumPy dtype. Pass e.g. np.float32.") from exc
    if dt.name in ML_FLOATS:
        return dt
    if dt.kind != "f":
        raise ValueError(
            f"dtype={dt} is not a floating dtype: weights must be float16, float32 or"
            " float64 (an integer dtype would round every weight to 0 or +-1)."
        )
    return dt


def finfo(dt: np.dtype) -> Any:
    """``np.finfo`` of a float dtype, bfloat16 included (numpy's does not know ml_dtypes')."""
    if np.dtype(dt).name in ML_FLOATS:
        import ml_dtypes

        return ml_dtypes.finfo(dt)
    return np.finfo(dt)


def eps(dt: np.dtype) -> float:
    """Machine epsilon of a float dtype, bfloat16 included."""
    return float(finfo(dt).eps)


def rng(value: object) -> np.random.Generator:
    """Return a Generator from a Generator, an int seed, a SeedSequence or None (fresh entropy)."""
    if isinstance(value, np.random.Generator):
        return value
    if value is None or isinstance(value, np.random.SeedSequence):
        return np.random.default_rng(value)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"rng seed must be >= 0, got {value}.")
        return np.random.default_rng(int(value))
    raise ValueError(
        f"rng must be a numpy.random.Generator, an int seed, a SeedSequence or None,"
        f" got {value!r}. Pass np.random.default_rng(seed)."
    )


def keywords(where: str, given: Iterable[str], accepted: Sequence[str]) -> None:
    """Raise for keyword arguments ``where`` does not take, listing the ones it does."""
    unknown = [k for k in given if k not in accepted]
    if not unknown:
        return
    hints = []
    for k in unknown:
        close = difflib.get_close_matches(k, accepted, n=1, cutoff=0.6)
        hints.append(f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    listed = ", ".join(accepted) if accepted else "none"
    raise ValueError(f"{where} got unknown parameter {', '.join(hints)}. It takes: {listed}.")


@contextlib.contextmanager
def about(argument: str) -> Iterator[None]:
    """Name ``argument`` in a ValueError raised while reading it, where the message does not
    already: ``shapes[2]: dimension 0 is 0 ...`` rather than a bare ``shape (0, 3) ...``."""
    try:
        yield
    except ValueError as exc:
        if re.search(rf"(?<![A-Za-z_]){re.escape(argument)}(?![A-Za-z_])", str(exc)):
            raise
        raise type(exc)(f"{argument}: {exc}") from None
