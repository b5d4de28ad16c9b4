"""``verify``: does an initializer draw what it claims? In four steps: validate and resolve
the arguments (the claim, the sampler, the shapes and their laws), draw every sample from a
seed derived from (seed, shape, purpose), run the checks of ``initcheck.checks.battery`` under
one family-wise false-alarm budget (Bonferroni; docs/statistics.md), and assemble the report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Samples
from initcheck.checks.shapes import DEFAULT_LAYERS, default_shapes
from initcheck.claims.initializers import Initializer
from initcheck.claims.initializers import get as get_initializer
from initcheck.claims.laws import Law
from initcheck.claims.specs import Spec
from initcheck.claims.specs import spec as make_spec
from initcheck.core import _validate, memory
from initcheck.core.contract import Adapter, InitializerLike
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import CONVENTIONS, LAYOUTS, Layout, get_layout
from initcheck.core.results import CheckResult, Report
from initcheck.frameworks.dispatch import InitializerError, adapter
from initcheck.identification.diagnosis import diagnose
from initcheck.propagation.property import PropagationOptions
from initcheck.theory.activations import Activation

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


@dataclass(frozen=True)
class _Plan:
    """A verify call resolved: what to draw, in which layout and dtype, and what each shape's
    values must follow."""

    initializer: InitializerLike
    sampler: Adapter
    claim: Spec
    convention: str
    laws: dict[tuple[int, ...], Law]
    dtype: np.dtype
    propagation: PropagationOptions | None


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

    Each shape is drawn from a seed derived from (``seed``, shape, purpose), so a verdict and
    a false alarm reproduce exactly; the checks that fit the claimed family (moments,
    distribution, tails, edges, symmetry breaking, unit structure, reproducibility) share the
    family-wise ``alpha`` (Bonferroni; docs/statistics.md).

    Args:
        initializer: an initcheck ``Initializer`` or a built-in's name (they carry their
            spec); a callable ``fn(shape, rng[, dtype])``; or a framework's initializer
            (``torch.nn.init``, ``jax.nn.initializers``, keras, haiku), with ``expect``.
        expect: the spec it claims: a name (``"he_normal"``) or ``initcheck.spec(...)``.
        framework: ``"auto"`` (detected), ``"numpy"``, ``"torch"``, ``"jax"``, ``"keras"``
            or ``"haiku"``: how the initializer is called.
        layout: the axes shapes are read in (``"torch"``: (out, in, *k); ``"keras"``,
            ``"jax"``, ``"flax"``: (*k, in, out)) or a ``Layout``; default: the framework's.
        shapes: the shapes to draw (default: nine dense and conv layers, about 870k elements).
        samples: rescale the default shapes to about this many elements (power: the sigma
            MDE scales as 1/sqrt(samples)); not with ``shapes``.
        seed: the seed every draw derives from.
        alpha: the family-wise false-alarm rate of the whole call, in (0, 1).
        dtype: asked of an initializer that takes one (default float32); one that takes
            none is judged in the dtype it returns, rounding included.
        convention: ``"logical"`` fans (default), or ``"torch"``, ``"keras"``, ``"jax"``:
            the frameworks' own literal fan rules.
        name: the initializer's name in the report (default: its qualified name).
        activation: also check the propagation property under this activation: through a
            deep net, forward and backward variance neither vanish nor explode.
        propagation: the same with the net's size given, ``PropagationOptions(...)``.

    Returns:
        A ``Report``: every check with its numbers and MDE, ``passed``, and on a failure a
        diagnosis (the conventions and named laws the samples follow instead).

    Raises:
        ValueError: bad input (the message names the argument and the fix), or a run that
            will not fit in memory.
        InitializerError: the initializer breaks its contract (wrong shape, dtype, NaN
            handling, global state).

    Example:
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
    plan = _resolve(initializer, expect=expect, framework=framework, layout=layout,
                    shapes=shapes, samples=samples, dtype=dtype, convention=convention,
                    name=name, propagation=_propagation(activation, propagation))
    start = time.perf_counter()
    ctx = Samples(plan.sampler, plan.claim, plan.laws, seed, plan.dtype, plan.propagation)
    drawn = time.perf_counter() - start
    return _assemble(plan, ctx, tuple(checks.run(ctx, alpha)), seed=seed, alpha=alpha,
                     draw_seconds=drawn + ctx.extra_draw_seconds)


def _resolve(initializer: InitializerLike, *, expect: str | Spec | None, framework: str,
             layout: str | Layout | None, shapes: Sequence[tuple[int, ...]] | None,
             samples: int | None, dtype: Any, convention: str | None, name: str | None,
             propagation: PropagationOptions | None) -> _Plan:
    """Validate verify's arguments and resolve them: the claim, the sampler, the layout both
    read shapes in, the shapes and their laws; a run that will not fit is refused here."""
    dt = _validate.float_dtype(DEFAULT_DTYPE if dtype is None else dtype)
    if convention is not None:  # checked here: a claim with no fans would never read it
        _validate.choice("convention", convention, CONVENTIONS)
    if isinstance(initializer, str):
        initializer = _builtin(initializer)
    claim = _resolve_spec(initializer, expect)
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
    return _Plan(initializer, sampler, claim, conv, laws, dt, propagation)


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


def _assemble(plan: _Plan, ctx: Samples, found: tuple[CheckResult, ...], *, seed: int,
              alpha: float, draw_seconds: float) -> Report:
    """The report of a run: its checks, the calls that name it again, and on a failure what
    the samples follow instead."""
    sampler = plan.sampler
    returned = sorted({str(x.dtype) for x in ctx.tensors.values()})
    passed = all(c.passed for c in found)
    return Report(
        initializer=sampler.name, framework=sampler.framework, layout=sampler.layout.name,
        spec=repr(plan.claim), seed=seed, alpha=alpha,
        dtype=str(plan.dtype) if sampler.takes_dtype else "/".join(returned),
        shapes=tuple(plan.laws), checks=found, call=_expression(plan.initializer, sampler.name),
        layout_call=(repr(sampler.layout.name) if sampler.layout in LAYOUTS.values()
                     else f"initcheck.{sampler.layout!r}"),
        dtype_asked=sampler.takes_dtype,
        diagnosis=None if passed else diagnose(ctx, plan.claim, alpha, convention=plan.convention),
        trace=ctx.trace, draw_seconds=draw_seconds, elements=ctx.elements)


__all__ = ["DEFAULT_ALPHA", "DEFAULT_LAYERS", "InitializerError", "InitializerLike",
           "PropagationOptions", "default_shapes", "verify"]
