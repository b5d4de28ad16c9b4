"""The initializer contract: what initcheck calls (``InitializerFunction``), the one calling
convention every adapter reduces an initializer to (``Adapter``), and the error raised when
an initializer breaks the contract (``InitializerError``).

This module sits below the adapters: the framework adapters (``initcheck.frameworks``)
import it, and ``initcheck.frameworks.dispatch`` dispatches to them, so the imports run one way.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from initcheck.core import _validate
from initcheck.core.fans import Layout


@runtime_checkable
class InitializerFunction(Protocol):
    """A NumPy initializer as initcheck calls it: ``fn(shape, rng) -> array``, with ``rng`` a
    ``numpy.random.Generator`` (the only source of randomness it may use). It may also take
    ``dtype=``; initcheck passes it when the signature has it. initcheck's own
    ``Initializer`` objects satisfy this protocol, as ``jax.nn.initializers.Initializer``
    describes jax's ``init(key, shape, dtype)``."""

    def __call__(self, shape: tuple[int, ...], rng: np.random.Generator, /) -> Any: ...


#: What the verifying and simulating functions accept as an initializer: a NumPy
#: initializer (initcheck's own ``Initializer`` included), a built-in's name, or a framework
#: initializer (a torch in-place function, a jax or keras initializer) through its adapter.
InitializerLike = InitializerFunction | str | Callable[..., Any]


class InitializerError(ValueError):
    """The initializer under test broke its calling contract (raised, returned a non-array,
    the wrong shape, an integer dtype): no statistic can be computed from it."""


#: ``draw(shape, seed, dtype)``: one call of the initializer, seeded by a SeedSequence.
DrawFunction = Callable[[tuple[int, ...], np.random.SeedSequence, np.dtype], Any]


@dataclass
class Adapter:
    """A sampler in initcheck's convention: ``sample(shape, seed, dtype)`` with ``seed`` a
    ``SeedSequence``, and the layout its shapes are read in. ``dtype`` reaches the
    initializer only where it takes one (``takes_dtype``)."""

    framework: str
    name: str
    layout: Layout
    draw: DrawFunction
    #: False where the initializer takes no dtype: it is then judged in the dtype it returns.
    takes_dtype: bool = True

    def sample(
        self, shape: tuple[int, ...], seed: np.random.SeedSequence, dtype: Any
    ) -> np.ndarray:
        """Call the initializer and return its output as a NumPy array, checking the contract."""
        dt = _validate.float_dtype(dtype)
        try:
            out = self.draw(shape, seed, dt)
        except Exception as exc:  # the initializer's own failure, reported with the shape
            raise InitializerError(
                f"{self.name} raised {type(exc).__name__} at {raised_at(exc)} for shape"
                f" {shape} (dtype {dt}):"
                f" {str(exc).rstrip('.')}."
                " Fix the initializer, or verify only shapes it supports (shapes=[...])."
                + (" If it is not a NumPy fn(shape, rng), pass framework='torch', 'jax' or"
                   " 'keras'." if self.framework == "numpy" else "")
            ) from exc
        return to_array(out, self.name, shape)


def from_torch(tensor: Any) -> np.ndarray:
    """A torch tensor as NumPy, whatever its device, autograd state or dtype (bfloat16
    through float32, which holds it exactly, into ml_dtypes' bfloat16)."""
    t = tensor.detach().cpu()
    if str(t.dtype) == "torch.bfloat16":
        return np.asarray(t.float().numpy().astype(_validate.float_dtype("bfloat16")))
    return np.asarray(t.numpy())


def as_numpy(x: Any, what: str = "x") -> np.ndarray:
    """A NumPy array (a view where possible) of a NumPy array, a torch tensor (any device,
    grad or dtype, bfloat16 included) or a jax array; anything else is a ValueError."""
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "detach") and hasattr(x, "dtype"):  # torch
        return from_torch(x)
    if hasattr(x, "__array__") and hasattr(x, "shape") and hasattr(x, "dtype"):  # jax, keras
        return np.asarray(x)
    raise ValueError(f"{what} is a {type(x).__name__}, not a tensor. Pass a NumPy array, a torch"
                     " tensor or a jax array (np.asarray(...) for a list).")


#: initcheck's own source folder: frames under it are initcheck's, not the user's.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _ours(filename: str) -> bool:
    return os.path.abspath(filename).startswith(PACKAGE_DIR + os.sep)


def raised_inside_initcheck(exc: BaseException) -> bool:
    """Whether the innermost frame of ``exc``'s traceback is initcheck's own code (its fault,
    even where the user's code was running around it)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and _ours(frames[-1].filename)


#: Folders installed packages live in (pip's, and Debian's Python), wherever they are.
SITE_DIRS = ("site-packages", "dist-packages")


def raised_at(exc: BaseException) -> str:
    """Where ``exc`` was raised in the caller's code, as ``file:line``: the innermost frame
    outside initcheck and outside installed code (the Python installation, and every
    site-packages on ``sys.path``: ``pip install --user`` puts torch in the home folder), so
    a framework raising for the user's code points to the user's line; else the innermost
    outside initcheck."""
    installed = {os.path.abspath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    installed |= {os.path.abspath(p) for p in sys.path
                  if p and os.path.basename(os.path.normpath(p)) in SITE_DIRS}
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _ours(f.filename)]
    own = [f for f in frames if not f.filename.startswith("<")
           and not any(os.path.abspath(f.filename).startswith(p + os.sep) for p in installed)]
    found = own or frames
    return f"{found[-1].filename}:{found[-1].lineno}" if found else "an unknown place"


def qualified_name(fn: Any) -> str:
    """``module.qualname`` of a function, of a partial's function, or of an object's class:
    the name reports give an initializer."""
    target = fn if hasattr(fn, "__qualname__") else getattr(fn, "func", None) or type(fn)
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or repr(fn)
    return f"{module}.{name}" if module and module != "builtins" else name


def to_array(out: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The output as an ndarray of the requested shape, or an ``InitializerError`` saying why
    not."""
    if out is None:
        raise InitializerError(
            f"{name} returned None for shape {shape}. An initializer must return the array"
            " (an in-place function needs the framework adapter, e.g. framework='torch')."
        )
    if not isinstance(out, np.ndarray):
        if hasattr(out, "detach") and hasattr(out, "dtype"):  # a torch tensor
            out = from_torch(out)
        elif hasattr(out, "__array__") and not isinstance(out, (list, tuple)):
            try:
                out = np.asarray(out)
            except Exception as exc:  # an array-like that will not convert
                raise InitializerError(
                    f"{name} returned a {type(out).__name__} for shape {shape} that NumPy cannot"
                    f" read ({type(exc).__name__}: {exc}). Return a numpy array.") from exc
        else:
            raise InitializerError(
                f"{name} returned {type(out).__name__}, not an array, for shape {shape}."
                " Return a numpy array (or a framework tensor through its adapter)."
            )
    if out.shape != tuple(shape):
        raise InitializerError(
            f"{name} returned shape {out.shape} for requested shape {tuple(shape)}."
            " It must return exactly the shape it is asked for."
        )
    if out.dtype.kind not in "f" and out.dtype.name not in _validate.ML_FLOATS:
        raise InitializerError(
            f"{name} returned dtype {out.dtype} for shape {shape}: weights must be floating"
            " point (integer or boolean weights cannot follow a continuous spec)."
        )
    return np.asarray(out)
