"""torch.nn.init's public initializers with the specs torch documents (fans by torch's own
convention), and the default initialization of ``nn.Linear`` and ``nn.Conv*`` as it really
is. Each entry imports torch only when the audit makes it."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from initcheck.audit.entry import Entry
from initcheck.core.fans import Layout, get_layout
from initcheck.frameworks import require
from initcheck.frameworks.torch_adapter import takes_generator


def module_default(kind: str, param: str = "weight") -> Callable[..., Any]:
    """The default initialization of a torch module's parameter as it really is: build the
    module (seeded, sized from the caller's tensor's shape) and copy the parameter.

    ``kind``: ``linear`` and ``conv`` (weight (out, in, *k)), ``embedding`` (num, dim),
    ``layernorm`` and ``batchnorm`` (a vector), ``attention`` (in_proj_weight (3E, E))."""
    torch = require("torch")
    nn = torch.nn

    def build(shape: tuple[int, ...], dtype: Any) -> Any:
        if kind == "linear" and len(shape) == 2:
            return nn.Linear(shape[1], shape[0], dtype=dtype)
        if kind == "conv" and 3 <= len(shape) <= 5:
            conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[len(shape) - 2]
            return conv(shape[1], shape[0], tuple(shape[2:]), dtype=dtype)
        if kind == "embedding" and len(shape) == 2:
            return nn.Embedding(shape[0], shape[1], dtype=dtype)
        if kind in ("layernorm", "batchnorm") and len(shape) == 1:
            return (nn.LayerNorm if kind == "layernorm" else nn.BatchNorm1d)(shape[0], dtype=dtype)
        if kind == "attention" and len(shape) == 2 and shape[0] == 3 * shape[1]:
            return nn.MultiheadAttention(shape[1], num_heads=1, dtype=dtype)
        raise ValueError(f"a {kind} module has no {param} of shape {shape}")

    def init(tensor: Any, generator: Any = None) -> Any:
        with torch.random.fork_rng(devices=[]):
            if generator is not None:
                torch.manual_seed(int(generator.initial_seed()))
            module = build(tuple(tensor.shape), tensor.dtype)
        with torch.no_grad():
            tensor.copy_(getattr(module, param))
        return tensor

    init.__name__ = f"nn.{kind}.{param} default"
    init.__qualname__ = init.__name__
    return init


def catalogue() -> list[Entry]:
    """torch.nn.init's public initializers with the specs torch documents (fans by torch's
    own convention), and the modules' default init."""
    from initcheck.claims.specs import spec

    torch = require("torch")
    init = torch.nn.init

    def e(label: str, fn: Callable[..., Any], expect: Any, activation: str | None = None,
          note: str = "", **kw: Any) -> Entry:
        def call() -> Callable[..., Any]:
            def fill(t: Any, generator: Any = None) -> Any:
                if takes_generator(fn):
                    return fn(t, **kw, generator=generator)
                return fn(t, **kw)
            return fill

        return Entry(label, call, expect, activation, "torch", "torch", note)

    sqrt5 = math.sqrt(5.0)
    return [
        e("uniform_", init.uniform_, spec("uniform", low=0.0, high=1.0)),
        e("normal_", init.normal_, spec("normal", mean=0.0, std=1.0)),
        e(
            "trunc_normal_",
            init.trunc_normal_,
            spec("truncated_normal", std=1.0, mean=0.0, a=-2.0, b=2.0),
            note="absolute bounds [a, b] and the parent normal's std"
            " (jax/keras: std units, corrected)",
        ),
        e(
            "trunc_normal_(std=0.02)",
            init.trunc_normal_,
            spec("truncated_normal", std=0.02, mean=0.0, a=-2.0, b=2.0),
            std=0.02,
            note="the common ViT call: bounds stay at +-2 absolute, i.e. +-100 std: no truncation",
        ),
        Entry(
            "trunc_normal_ (bfloat16)",
            lambda: init.trunc_normal_,
            spec("truncated_normal", std=1.0, mean=0.0, a=-2.0, b=2.0),
            None,
            "torch",
            "torch",
            "sampled in bfloat16: clamping after the inverse CDF piles mass on the bounds",
            dtype="bfloat16",
        ),
        Entry(
            "trunc_normal_ (float16)",
            lambda: init.trunc_normal_,
            spec("truncated_normal", std=1.0, mean=0.0, a=-2.0, b=2.0),
            None,
            "torch",
            "torch",
            "sampled in float16",
            dtype="float16",
        ),
        e("zeros_", init.zeros_, spec("zeros")),
        e("ones_", init.ones_, spec("ones")),
        e("constant_(0.3)", init.constant_, spec("constant", value=0.3), val=0.3),
        e("xavier_uniform_", init.xavier_uniform_, spec("xavier_uniform"), "tanh"),
        e("xavier_normal_", init.xavier_normal_, spec("xavier_normal"), "tanh"),
        e(
            "kaiming_uniform_",
            init.kaiming_uniform_,
            spec("he_uniform"),
            "relu",
            note="default nonlinearity leaky_relu with a=0: gain sqrt(2)",
        ),
        e("kaiming_normal_", init.kaiming_normal_, spec("he_normal"), "relu"),
        e(
            "kaiming_normal_(fan_out)",
            init.kaiming_normal_,
            spec("he_normal", mode="fan_out"),
            "relu",
            mode="fan_out",
            nonlinearity="relu",
        ),
        e(
            "kaiming_uniform_(tanh)",
            init.kaiming_uniform_,
            spec("he_uniform", nonlinearity="tanh"),
            "tanh",
            nonlinearity="tanh",
            note="torch's tanh gain 5/3 is chaotic: chi_1 = 1.21",
        ),
        e("orthogonal_", init.orthogonal_, spec("orthogonal"), "linear"),
        Entry(
            "nn.Linear default",
            lambda: module_default("linear"),
            spec("he_uniform", nonlinearity="leaky_relu", a=sqrt5),
            "relu",
            "torch",
            "torch",
            "kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), 0.41x He std",
            ((512, 1024), (1000, 256), (24, 16), (3, 7)),
        ),
        Entry(
            "nn.Conv2d default",
            lambda: module_default("conv"),
            spec("he_uniform", nonlinearity="leaky_relu", a=sqrt5),
            None,
            "torch",
            "torch",
            "the same rule as nn.Linear, on (out, in, kh, kw)",
            ((128, 64, 3, 3), (16, 32, 1, 5), (31, 5, 2, 2), (64, 64, 3, 3)),
        ),
        Entry(
            "kaiming_normal_(fan_out), grouped conv",
            lambda: (
                lambda t, generator=None: init.kaiming_normal_(
                    t, mode="fan_out", nonlinearity="relu", generator=generator
                )
            ),
            spec("he_normal", mode="fan_out"),
            None,
            "torch",
            _grouped(4),
            "torch reads fan_out = out_channels x k, ignoring groups; the logical fan_out of a"
            " conv with 4 groups is 4x smaller, so the std is 0.5x the logical He std",
            ((128, 16, 3, 3), (64, 8, 1, 5), (32, 4, 3, 3)),
        ),
        Entry(
            "nn.Embedding default",
            lambda: module_default("embedding"),
            spec("normal", mean=0.0, std=1.0),
            None,
            "torch",
            "torch",
            "N(0, 1) whatever the dimension: row norms grow as sqrt(dim)",
            ((1000, 64), (50, 16), (8, 256)),
        ),
        Entry(
            "nn.LayerNorm default weight",
            lambda: module_default("layernorm"),
            spec("ones"),
            None,
            "torch",
            "torch",
            "",
            ((64,), (768,)),
        ),
        Entry(
            "nn.LayerNorm default bias",
            lambda: module_default("layernorm", "bias"),
            spec("zeros"),
            None,
            "torch",
            "torch",
            "",
            ((64,), (768,)),
        ),
        Entry(
            "nn.BatchNorm1d default weight",
            lambda: module_default("batchnorm"),
            spec("ones"),
            None,
            "torch",
            "torch",
            "",
            ((64,), (256,)),
        ),
        Entry(
            "nn.MultiheadAttention in_proj_weight",
            lambda: module_default("attention", "in_proj_weight"),
            spec("xavier_uniform"),
            None,
            "torch",
            "torch",
            "xavier_uniform_ on the packed (3E, E) Q/K/V matrix: fan_out = 3E, so each"
            " projection's std is 0.707x Xavier's for its own (E, E)",
            ((192, 64), (96, 32), (768, 256)),
        ),
    ]


def _grouped(groups: int) -> Layout:
    return replace(get_layout("torch"), name=f"torch, groups={groups}", groups=groups)
