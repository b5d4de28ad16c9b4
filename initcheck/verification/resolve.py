"""verify's first step: validate its arguments and resolve them into a ``Plan``: the claim,
the sampler that calls the initializer, the layout both read shapes in, the shapes and the
law each shape's values must follow. A run that will not fit in memory is refused here,
before anything is drawn."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initcheck.checks.shapes import default_shapes
from initcheck.claims.initializers import Initializer, get as get_initializer
from initcheck.claims.laws import Law
from initcheck.claims.specs import Spec, spec as make_spec
from initcheck.core import _validate, memory
from initcheck.core.contract import Adapter, InitializerLike
from initcheck.core.fans import CONVENTIONS, LAYOUTS, Layout, get_layout
from initcheck.frameworks.declared import declared
from initcheck.frameworks.dispatch import adapter
from initcheck.propagation.property import PropagationOptions
from initcheck.theory.activations import Activation

#: The dtype asked of an initializer that takes one, where verify is given none.
DEFAULT_DTYPE = np.float32


def _resolve_spec(initializer: Any, expect: Any) -> tuple[Spec, str | None]:
    """The claim and the fan convention it comes with (None: the caller's default). A
    framework initializer, given as ``expect`` or verified without one, declares its own
    (``initcheck.frameworks.declared``)."""
    if expect is not None:
        if isinstance(expect, (str, Spec)):
            with _validate.about("expect"):
                return make_spec(expect), None
        with _validate.about("expect"):
            found = declared(expect)
        if found is not None:
            return found.spec, found.convention
        raise ValueError(
            f"expect={expect!r} is not a spec. Pass a name ('he_normal'), initcheck.spec(name,"
            " **params), a Spec, or a torch, jax or keras initializer.")
    if isinstance(initializer, Initializer):
        return initializer.spec, None
    with _validate.about("initializer"):
        found = declared(initializer)
    if found is not None:  # a framework's own: what its arguments say it draws
        return found.spec, found.convention
    raise ValueError(
        f"{getattr(initializer, '__qualname__', initializer)!r} carries no spec: say what it"
        " claims with expect='he_normal' or expect=initcheck.spec('he_normal', mode='fan_out').")


def expression(initializer: Any, name: str) -> str:
    """Python that names ``initializer`` again: initcheck's own rebuilt from its spec and
    layout, anything else by its module and qualified name."""
    if isinstance(initializer, Initializer):
        lay = initializer.layout
        layout = repr(lay.name) if lay in LAYOUTS.values() else f"initcheck.{lay!r}"
        extra = (
            ""
            if initializer.convention == "logical"
            else f", convention={initializer.convention!r}"
        )
        if initializer.vectors is not None:
            extra += f", vectors={initializer.vectors!r}"
        return f"initcheck.Initializer(initcheck.{initializer.spec!r}, layout={layout}{extra})"
    return name


def _builtin(name: str) -> Initializer:
    """A built-in initializer by name, or an error that says a string must name one."""
    try:
        return get_initializer(name)
    except ValueError as exc:
        raise ValueError(f"initializer {name!r} is not callable and not a built-in initializer's"
                         f" name: {exc} Or pass an initializer: fn(shape, rng) -> array.") from None


def propagation_options(activation: str | Activation | None,
                 options: PropagationOptions | None) -> PropagationOptions | None:
    if options is None:
        return None if activation is None else PropagationOptions(activation)
    if not isinstance(options, PropagationOptions):
        raise ValueError(f"propagation={options!r}: pass initcheck.PropagationOptions(activation,"
                         " depth=..., width=..., batch=..., bias=...).")
    if activation is not None:
        raise ValueError("pass the activation either as activation= or inside propagation=,"
                         " not both.")
    return options


def _shape_list(shapes: Sequence[tuple[int, ...]] | None, samples: int | None, claim: Spec,
                layout: Layout, vectors: str | None) -> list[tuple[int, ...]]:
    if shapes is None:
        return default_shapes(claim, layout, vectors=vectors, samples=samples)
    if samples is not None:
        raise ValueError("pass either shapes or samples: samples rescales the default shapes.")
    if isinstance(shapes, (str, bytes)) or not isinstance(shapes, Sequence) or not shapes:
        raise ValueError(f"shapes={shapes!r}: pass a non-empty list of shapes, e.g. [(784, 256)].")
    if all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shapes):
        raise ValueError(f"shapes={tuple(shapes)!r} is one shape, but shapes is a list of shapes:"
                         f" pass shapes=[{tuple(shapes)!r}].")
    out = []
    for i, s in enumerate(shapes):
        with _validate.about(f"shapes[{i}]"):
            out.append(_validate.shape(s))
    return out


@dataclass(frozen=True)
class Plan:
    """A verify call resolved: what to draw, in which layout and dtype, and what each shape's
    values must follow."""

    initializer: InitializerLike
    sampler: Adapter
    claim: Spec
    convention: str
    laws: dict[tuple[int, ...], Law]
    dtype: np.dtype
    propagation: PropagationOptions | None


def resolve(initializer: InitializerLike, *, expect: object, framework: str,
             layout: str | Layout | None, shapes: Sequence[tuple[int, ...]] | None,
             samples: int | None, dtype: Any, convention: str | None, name: str | None,
             propagation: PropagationOptions | None) -> Plan:
    """Validate verify's arguments and resolve them: the claim, the sampler, the layout both
    read shapes in, the shapes and their laws; a run that will not fit is refused here."""
    if initializer is None:
        raise ValueError("initializer is None: pass an initializer, a built-in's name"
                         " ('he_normal'), an initcheck Initializer, a NumPy fn(shape, rng) or a"
                         " framework's initializer (torch.nn.init.kaiming_normal_, ...).")
    dt = _validate.float_dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if convention is not None:  # checked here: a claim with no fans would never read it
        _validate.choice("convention", convention, CONVENTIONS)
    if isinstance(initializer, str):
        initializer = _builtin(initializer)
    claim, declared_convention = _resolve_spec(initializer, expect)
    convention = convention or declared_convention
    if layout is not None and not isinstance(layout, Layout):
        _validate.choice("layout", layout, LAYOUTS)
    if isinstance(initializer, Initializer) and layout is not None:
        initializer, layout = _rebound(initializer, layout)
    sampler = adapter(initializer, framework=framework, layout=layout, name=name)
    if dtype is not None and not sampler.takes_dtype:
        raise ValueError(f"{sampler.name} takes no dtype, so dtype={dtype!r} cannot be asked of"
                         " it: drop dtype= (it is judged in the dtype it returns), or give the"
                         " initializer a dtype parameter.")
    if isinstance(initializer, Initializer):
        conv, vectors = convention or initializer.convention, initializer.vectors
    else:
        conv, vectors = convention or "logical", None
    shape_list = _shape_list(shapes, samples, claim, sampler.layout, vectors)
    elements = sum(math.prod(s) for s in shape_list)
    memory.require(memory.verify_bytes(elements, claim.family), f"verify of {elements:,} elements",
                   "Test smaller shapes or fewer samples: the statistics do not need them.")
    laws = {}
    for shape in shape_list:
        try:
            laws[shape] = claim.law(shape, sampler.layout, convention=conv, vectors=vectors)
        except ValueError as exc:
            raise ValueError(f"expect={claim!r} does not fit shape {shape}: {exc}") from None
    return Plan(initializer, sampler, claim, conv, laws, dt, propagation)


def _rebound(initializer: Initializer, layout: str | Layout) -> tuple[Initializer, Layout]:
    """A built-in draws in the layout it was made with: re-bound to the layout asked, so that
    its draws and its claim read every shape the same way. A layout's name says where the
    axes are; the layer's groups and transposition stay the built-in's."""
    wanted = layout if isinstance(layout, Layout) else get_layout(
        layout, groups=initializer.layout.groups, transposed=initializer.layout.transposed)
    if wanted != initializer.layout:
        initializer = Initializer(initializer.spec, layout=wanted,
                                  convention=initializer.convention, vectors=initializer.vectors)
    return initializer, wanted



__all__ = ["DEFAULT_DTYPE", "Plan", "expression", "propagation_options", "resolve"]
