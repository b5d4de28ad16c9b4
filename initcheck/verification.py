"""``verify``: does an initializer draw what it claims? Resolves the claim and the shapes,
draws every sample from a seed derived from (seed, shape, purpose), so a verdict, and a false
alarm, reproduce exactly, and runs the checks of ``initcheck.checks`` under one family-wise
false-alarm budget (Bonferroni; docs/statistics.md).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from initcheck import _validate, checks, conventions, memory, stats
from initcheck.activations import Activation
from initcheck.contexts import Samples
from initcheck.identification import looks_like
from initcheck.adapters import InitializerError, adapter
from initcheck.contract import InitializerLike
from initcheck.defaults import DEFAULT_ALPHA
from initcheck.fans import CONVENTIONS, LAYOUTS, Layout, get_layout
from initcheck.initializers import Initializer, get as get_initializer
from initcheck.propagation import PropagationOptions
from initcheck.shapes import DEFAULT_LAYERS, default_shapes
from initcheck.results import Report
from initcheck.specs import Spec, spec as make_spec

#: The dtype asked of an initializer that takes one, where verify is given none.
DEFAULT_DTYPE = np.float32


def _resolve_spec(initializer: Any, expect: Any) -> Spec:
    if expect is not None:
        if isinstance(expect, (str, Spec)):
            with _validate.about("expect"):
                return make_spec(expect)
        raise ValueError(
            f"expect={expect!r} is not a spec. Pass a name ('he_normal'), initcheck.spec(name,"
            " **params) or a Spec.")
    if isinstance(initializer, Initializer):
        return initializer.spec
    raise ValueError(
        f"{getattr(initializer, '__qualname__', initializer)!r} carries no spec: say what it"
        " claims with expect='he_normal' or expect=initcheck.spec('he_normal', mode='fan_out').")


def _expression(initializer: Any, name: str) -> str:
    """Python that names ``initializer`` again: initcheck's own rebuilt from its spec and
    layout, anything else by its module and qualified name."""
    if isinstance(initializer, Initializer):
        lay = initializer.layout
        layout = repr(lay.name) if lay in LAYOUTS.values() else f"initcheck.{lay!r}"
        extra = "" if initializer.convention == "logical" else f", convention={initializer.convention!r}"
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


def _propagation(activation: str | Activation | None,
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
    out = []
    for i, s in enumerate(shapes):
        with _validate.about(f"shapes[{i}]"):
            out.append(_validate.shape(s))
    return out


def verify(
    initializer: InitializerLike,
    *,
    expect: str | Spec | None = None,
    framework: str = "auto",
    layout: str | Layout | None = None,
    shapes: Sequence[tuple[int, ...]] | None = None,
    samples: int | None = None,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    dtype: Any = None,
    convention: str | None = None,
    name: str | None = None,
    activation: str | Activation | None = None,
    propagation: PropagationOptions | None = None,
) -> Report:
    """Check that ``initializer`` samples the distribution it claims, on every shape.

    ``initializer`` is an initcheck ``Initializer`` or a built-in's name (they carry their
    spec), or a callable ``fn(shape, rng[, dtype])`` or framework initializer with ``expect``
    naming the spec. ``dtype`` (default float32) is asked of an initializer that takes one;
    one that takes none is judged in the dtype it returns, rounding included. ``shapes`` are the shapes to test (default: nine dense and conv
    layers, about 870k elements, which ``samples`` rescales: the sigma MDE scales as
    1/sqrt). ``alpha`` is the family-wise false-alarm budget of the whole call.

    With ``activation`` (or ``propagation=PropagationOptions(activation, depth=...)``), the
    ``propagation`` property is checked too: through a deep net, forward and backward
    variance neither vanish nor explode (see ``initcheck.propagation``).

    Returns a ``Report``; bad input raises ValueError, an initializer that breaks its
    contract raises ``InitializerError``.

    >>> import initcheck as ic
    >>> ic.verify("he_normal", shapes=[(256, 128), (3, 3, 16, 32)]).passed
    True
    >>> def half_he(shape, rng):  # He normal with half the std
    ...     return rng.standard_normal(shape) * (0.5 / ic.compute_fans(shape).fan_in) ** 0.5
    >>> ic.verify(half_he, expect="he_normal", shapes=[(256, 128)]).check("std").passed
    False
    """
    alpha = stats.check_alpha(alpha)
    seed = _validate.integer("seed", seed, minimum=0)
    dt = _validate.float_dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if convention is not None:  # checked here: a claim with no fans would never read it
        _validate.choice("convention", convention, CONVENTIONS)
    if isinstance(initializer, str):
        initializer = _builtin(initializer)
    claim = _resolve_spec(initializer, expect)
    if layout is not None and not isinstance(layout, Layout):
        _validate.choice("layout", layout, LAYOUTS)
    if isinstance(initializer, Initializer) and layout is not None:
        # a built-in draws in the layout it was made with: re-bind it to the layout asked,
        # so that its draws and its claim read every shape the same way. A layout's name
        # says where the axes are; the layer's groups and transposition stay the built-in's.
        wanted = layout if isinstance(layout, Layout) else get_layout(
            layout, groups=initializer.layout.groups, transposed=initializer.layout.transposed)
        if wanted != initializer.layout:
            initializer = Initializer(initializer.spec, layout=wanted,
                                      convention=initializer.convention, vectors=initializer.vectors)
        layout = wanted  # and the claim reads shapes in it too
    options = _propagation(activation, propagation)
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

    start = time.perf_counter()
    ctx = Samples(sampler, claim, laws, seed, dt, options)
    drawn = time.perf_counter() - start
    returned = sorted({str(x.dtype) for x in ctx.tensors.values()})
    report = Report(sampler.name, sampler.framework, sampler.layout.name, repr(claim), seed, alpha,
                    str(dt) if sampler.takes_dtype else "/".join(returned), list(shape_list))
    report.meta["dtype_asked"] = sampler.takes_dtype
    report.meta["call"] = _expression(initializer, sampler.name)
    report.meta["layout_call"] = (repr(sampler.layout.name) if sampler.layout in LAYOUTS.values()
                                  else f"initcheck.{sampler.layout!r}")
    report.checks = checks.run(ctx, alpha)
    if not report.passed:
        if claim.family in ("normal", "truncated_normal"):
            report.meta["matches"] = [str(s) for s in conventions.matches(claim, ctx, conv, alpha)]
        report.meta["looks_like"] = looks_like(ctx, claim, alpha)
    if ctx.trace is not None:
        report.meta["trace"] = ctx.trace
    report.meta["draw_seconds"] = drawn + ctx.extra_draw_seconds
    report.meta["elements"] = ctx.elements
    return report


__all__ = ["DEFAULT_ALPHA", "DEFAULT_LAYERS", "InitializerError", "InitializerLike",
           "PropagationOptions", "default_shapes", "verify"]
