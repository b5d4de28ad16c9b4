"""PyTorch: ``torch.nn.init`` functions fill a tensor in place, ``fn(tensor, **kw)``; the
torch layout is (out, in, *k). Seeds go through ``generator=`` when the function takes it,
else through a forked global generator seeded for the call (the caller's state is restored).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from initcheck.core.contract import Adapter, InitializerError, from_torch, qualified_name
from initcheck.core.fans import Layout, get_layout
from initcheck.core.seeding import int_seed
from initcheck.frameworks import require


def _torch_dtype(torch: Any, dt: np.dtype) -> Any:
    names = {"float16": torch.float16, "float32": torch.float32, "float64": torch.float64,
             "bfloat16": torch.bfloat16}
    if dt.name not in names:
        raise ValueError(f"torch has no dtype for {dt}; use float16, bfloat16, float32 or float64.")
    return names[dt.name]


def adapter(fn: Callable[..., Any], *, layout: str | Layout | None = None,
            name: str | None = None) -> Adapter:
    torch = require("torch")
    seeded_by_generator = takes_generator(fn)
    label = name or qualified_name(fn)

    def draw(shape: tuple[int, ...], seed: np.random.SeedSequence, dt: np.dtype) -> np.ndarray:
        s = int_seed(int(seed.generate_state(1)[0]), "torch")
        tensor = torch.full(shape, float("nan"), dtype=_torch_dtype(torch, dt))
        if seeded_by_generator:
            out = fn(tensor, generator=torch.Generator().manual_seed(s))
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(s)
                out = fn(tensor)
        if out is not None and out is not tensor and bool(torch.isnan(tensor).all()):
            raise InitializerError(
                f"{label} returned a new tensor and left its argument untouched: torch.nn.init"
                " functions fill the tensor they are given in place. Fill it (tensor.copy_(...))"
                " or wrap the function so it does.")
        return from_torch(tensor)

    return Adapter("torch", label, get_layout("torch" if layout is None else layout), draw)


def fills_in_place(fn: Callable[..., Any], shape: tuple[int, ...]) -> bool:
    """Whether ``fn`` behaves as a torch init function: called on a NaN tensor of ``shape``
    (the global generator forked, so the caller's stream is untouched), it fills it."""
    torch = require("torch")
    tensor = torch.full(shape, float("nan"))
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            fn(tensor)
    except Exception:  # not torch's convention
        return False
    return not bool(torch.isnan(tensor).any())


def takes_generator(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` takes ``generator=`` (torch >= 2.1's init functions do)."""
    try:
        return "generator" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
