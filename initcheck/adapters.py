"""Adapters: one calling convention, ``sample(shape, seed, dtype) -> np.ndarray``, for
initializers of any origin, plus the layout their shapes are read in.

NumPy here: initcheck's own ``Initializer`` objects and plain callables ``fn(shape, rng)``
(``dtype=`` passed when the callable takes it). Framework adapters import their framework
lazily and plug in through ``ADAPTERS``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from initcheck import _validate
from initcheck.fans import Layout, get_layout
from initcheck.initializers import Initializer


class InitializerError(ValueError):
    """The initializer under test broke its calling contract (raised, returned a non-array,
    the wrong shape, an integer dtype): no statistic can be computed from it."""


@dataclass
class Adapter:
    """A sampler in initcheck's convention. ``seed`` is a ``SeedSequence``."""

    framework: str
    name: str
    layout: Layout
    draw: Callable[[tuple[int, ...], np.random.SeedSequence, np.dtype], Any]

    def sample(self, shape: tuple[int, ...], seed: np.random.SeedSequence, dtype: Any) -> np.ndarray:
        """Call the initializer and return its output as a NumPy array, checking the contract."""
        dt = _validate.float_dtype(dtype)
        try:
            out = self.draw(shape, seed, dt)
        except Exception as exc:  # the initializer's own failure, reported with the shape
            raise InitializerError(
                f"{self.name} raised {type(exc).__name__} for shape {shape} (dtype {dt}): {exc}."
                " Fix the initializer, or verify only shapes it supports (shapes=[...])."
            ) from exc
        return to_array(out, self.name, shape)


def to_array(out: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The output as an ndarray of the requested shape, or an ``InitializerError`` saying why not."""
    if out is None:
        raise InitializerError(
            f"{name} returned None for shape {shape}. An initializer must return the array"
            " (an in-place function needs the framework adapter, e.g. framework='torch')."
        )
    if not isinstance(out, np.ndarray):
        if hasattr(out, "__array__") and not isinstance(out, (list, tuple)):
            out = np.asarray(out)
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
    return out


def _numpy_callable(fn: Callable[..., Any]) -> Callable[..., Any]:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        params = {}
    takes_dtype = "dtype" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dtype: np.dtype) -> Any:
        rng = np.random.default_rng(seed)
        return fn(shape, rng, dtype=dtype) if takes_dtype else fn(shape, rng)

    return draw


def numpy_adapter(fn: Any, *, layout: str | Layout | None = None, name: str | None = None) -> Adapter:
    """Adapter for an initcheck ``Initializer`` or a NumPy callable ``fn(shape, rng[, dtype])``."""
    if isinstance(fn, Initializer):
        lay = fn.layout if layout is None else get_layout(layout)

        def draw(shape, seed, dtype):
            return fn(shape, rng=np.random.default_rng(seed), dtype=dtype)

        return Adapter("numpy", name or repr(fn), lay, draw)
    if not callable(fn):
        raise ValueError(
            f"{fn!r} is not callable. Pass an initializer: a function fn(shape, rng) returning"
            " an array, or an initcheck Initializer."
        )
    label = name or getattr(fn, "__qualname__", None) or repr(fn)
    return Adapter("numpy", label, get_layout("keras" if layout is None else layout),
                   _numpy_callable(fn))


def _framework_adapter(framework: str) -> Callable[..., Adapter]:
    def make(fn: Any, *, layout: str | Layout | None = None, name: str | None = None) -> Adapter:
        module = importlib.import_module(f"initcheck.frameworks.{framework}_adapter")
        return module.adapter(fn, layout=layout, name=name)
    return make


#: Framework name -> adapter factory (framework modules import lazily).
ADAPTERS: dict[str, Callable[..., Adapter]] = {
    "numpy": numpy_adapter,
    "torch": _framework_adapter("torch"),
    "jax": _framework_adapter("jax"),
    "keras": _framework_adapter("keras"),
}
#: Frameworks initcheck has no adapter for: their objects need a NumPy wrapper.
UNSUPPORTED = ("tensorflow", "flax", "mxnet", "paddle", "mindspore", "oneflow")


def detect_framework(fn: Any) -> str:
    """The framework an initializer object belongs to, from its type and module."""
    if isinstance(fn, Initializer):
        return "numpy"
    if not callable(fn):
        raise ValueError(
            f"{fn!r} is not callable. Pass an initializer: a function fn(shape, rng) returning"
            " an array, an initcheck Initializer, or a framework initializer.")
    for module in (getattr(fn, "__module__", None), type(fn).__module__,
                   getattr(getattr(fn, "func", None), "__module__", None)):
        top = (module or "").split(".")[0]
        if top in ADAPTERS and top != "numpy":
            return top
        if top in UNSUPPORTED:
            raise ValueError(
                f"{fn!r} comes from {top}, which initcheck has no adapter for. Wrap it as"
                " fn(shape, rng, dtype) returning a NumPy array and pass framework='numpy'.")
    return "numpy"


def adapter(fn: Any, *, framework: str = "auto", layout: str | Layout | None = None,
            name: str | None = None) -> Adapter:
    """The adapter for ``fn`` in ``framework`` ('auto' detects it)."""
    if isinstance(fn, Adapter):
        return fn
    fw = detect_framework(fn) if framework == "auto" else _validate.choice(
        "framework", framework, [*ADAPTERS, "auto"])
    return ADAPTERS[fw](fn, layout=layout, name=name)
