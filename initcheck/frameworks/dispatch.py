"""Adapters: any initializer reduced to the calling convention of ``contract.Adapter``,
``sample(shape, seed, dtype) -> np.ndarray``, plus the layout its shapes are read in.

NumPy here: initcheck's own ``Initializer`` objects and plain callables ``fn(shape, rng)``
(``dtype=`` passed when the callable takes it). The framework adapters are leaves in
``initcheck.frameworks``, imported on first use through ``ADAPTERS``; they import only the
contract, never this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.claims.initializers import Initializer
from initcheck.core import _validate
from initcheck.core.contract import (
    Adapter,
    InitializerError,
    InitializerFunction,
    InitializerLike,
    qualified_name,
    to_array,
)
from initcheck.core.fans import DEFAULT_LAYOUT, Layout, get_layout

__all__ = ["ADAPTERS", "Adapter", "InitializerError", "InitializerFunction", "InitializerLike",
           "adapter", "detect_framework", "numpy_adapter", "to_array"]


def takes_keyword(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` accepts the keyword ``name`` (by name or through ``**kwargs``); False
    where its signature cannot be read (a builtin): the keyword is then not passed."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _numpy_callable(fn: Callable[..., Any], takes_dtype: bool) -> Callable[..., Any]:
    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dtype: np.dtype) -> Any:
        rng = np.random.default_rng(seed)
        return fn(shape, rng, dtype=dtype) if takes_dtype else fn(shape, rng)

    return draw


def numpy_adapter(fn: Initializer | InitializerFunction, *, layout: str | Layout | None = None,
                  name: str | None = None) -> Adapter:
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
    label = name or qualified_name(fn)
    takes_dtype = takes_keyword(fn, "dtype")
    return Adapter("numpy", label, get_layout(DEFAULT_LAYOUT if layout is None else layout),
                   _numpy_callable(fn, takes_dtype), takes_dtype)



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
    "haiku": _framework_adapter("haiku"),
}
#: Frameworks initcheck has no adapter for: their objects need a NumPy wrapper. (flax's and
#: equinox's initializers are jax functions: the jax adapter takes them.)
UNSUPPORTED = ("tensorflow", "mxnet", "paddle", "mindspore", "oneflow")


def detect_framework(fn: InitializerLike) -> str:
    """The framework an initializer belongs to: from its type and module, else from how it
    behaves (``_by_behaviour``)."""
    if isinstance(fn, Initializer):
        return "numpy"
    if not callable(fn):
        raise ValueError(
            f"{fn!r} is not callable. Pass an initializer: a function fn(shape, rng) returning"
            " an array, an initcheck Initializer, or a framework initializer.")
    # the object's module, its class's and every base class's (a user's subclass of a
    # framework's Initializer), a partial's function's
    home = _home(fn)
    if home is not None:
        return home
    for module in (getattr(fn, "__module__", None), *(c.__module__ for c in type(fn).__mro__),
                   getattr(getattr(fn, "func", None), "__module__", None)):
        top = (module or "").split(".")[0]
        if top in UNSUPPORTED:
            raise ValueError(
                f"{fn!r} comes from {top}, which initcheck has no adapter for. Wrap it as"
                " fn(shape, rng, dtype) returning a NumPy array and pass framework='numpy'.")
    return _by_behaviour(fn)


#: The shape detection probes an unknown callable with.
_PROBE_SHAPE = (4, 3)


def _by_behaviour(fn: Callable[..., Any]) -> str:
    """The calling convention of a callable from no known framework module, by what it does
    on a small shape: a NumPy initializer returns the array for (shape, rng); a torch-style
    in-place function (timm's trunc_normal_, a model's own init helper) fills the tensor it
    is given; a haiku initializer returns it for (shape, dtype) inside hk.transform (tried
    only once haiku is imported: such a function reaches ``hk.next_rng_key`` through its
    module, and importing jax and haiku for every other callable costs a second). None of
    these: NumPy, whose adapter then reports the failure and names the framework= to pass."""
    try:
        out = _numpy_callable(fn, takes_keyword(fn, "dtype"))(
            _PROBE_SHAPE, np.random.SeedSequence(0), np.dtype(np.float32))
        to_array(out, "probe", _PROBE_SHAPE)
        return "numpy"
    except Exception:  # not a NumPy initializer (or a broken one): try torch's convention
        pass
    if importlib.util.find_spec("torch") is not None:
        torch_adapter = importlib.import_module("initcheck.frameworks.torch_adapter")
        if torch_adapter.fills_in_place(fn, _PROBE_SHAPE):
            return "torch"
    if "haiku" in sys.modules:
        haiku_adapter = importlib.import_module("initcheck.frameworks.haiku_adapter")
        if haiku_adapter.draws_in_transform(fn, _PROBE_SHAPE):
            return "haiku"
    return "numpy"


def adapter(
    fn: InitializerLike | Adapter,
    *,
    framework: str = "auto",
    layout: str | Layout | None = None,
    name: str | None = None,
) -> Adapter:
    """The adapter for ``fn`` in ``framework`` ('auto' detects it)."""
    if isinstance(fn, Adapter):
        return fn
    fw = detect_framework(fn) if framework == "auto" else _validate.choice(
        "framework", framework, [*ADAPTERS, "auto"])
    home = _home(fn)
    if framework != "auto" and home is not None and home != fw:
        raise ValueError(
            f"{getattr(fn, '__qualname__', fn)!r} is a {home} initializer, so"
            f" framework={fw!r} cannot call it ({CALLS[fw]}). Pass framework={home!r} or"
            " framework='auto'.")
    return ADAPTERS[fw](fn, layout=layout, name=name)


#: How each framework's adapter calls an initializer (named when one is called as another's).
CALLS = {"numpy": "fn(shape, rng[, dtype]) returning an array",
         "torch": "fn(tensor) filling a torch tensor in place",
         "jax": "init(key, shape, dtype) with a jax key",
         "keras": "initializer(shape, dtype) on a keras initializer object",
         "haiku": "init(shape, dtype) inside hk.transform"}


def _home(fn: Any) -> str | None:
    """The framework ``fn``'s module says it belongs to (None: no framework's, or initcheck's
    own); haiku's initializers are jax modules' too, so haiku and jax count as one home."""
    if isinstance(fn, Initializer) or not callable(fn):
        return None
    for module in (getattr(fn, "__module__", None), *(c.__module__ for c in type(fn).__mro__),
                   getattr(getattr(fn, "func", None), "__module__", None)):
        top = (module or "").split(".")[0]
        if top in ADAPTERS and top != "numpy":
            return top
    return None
