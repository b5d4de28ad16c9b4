"""``verify``: does an initializer draw what it claims? In four steps: validate and resolve
the arguments (``initcheck.verification.resolve``), draw every sample from a seed derived
from (seed, shape, purpose), run the checks of ``initcheck.checks.battery`` under one
family-wise false-alarm budget (Bonferroni; docs/statistics.md), and assemble the report.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from initcheck import stats
from initcheck.checks import battery as checks
from initcheck.checks.contexts import Samples
from initcheck.checks.shapes import DEFAULT_LAYERS, default_shapes
from initcheck.claims.specs import Spec
from initcheck.core import _validate
from initcheck.core.contract import InitializerLike
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import LAYOUTS, Layout
from initcheck.core.results import CheckResult, Report
from initcheck.core.threads import one_blas_thread
from initcheck.frameworks.dispatch import InitializerError
from initcheck.identification.diagnosis import diagnose
from initcheck.propagation.property import PropagationOptions
from initcheck.theory.activations import Activation
from initcheck.verification.resolve import Plan, expression, propagation_options, resolve


@one_blas_thread
def verify(
    initializer: InitializerLike,
    *,
    expect: str | Spec | object | None = None,
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
            (``torch.nn.init``, ``jax.nn.initializers``, keras, haiku): torch's, jax's and
            keras's state their own claim (read from their configuration), others need
            ``expect``.
        expect: the spec it claims: a name (``"he_normal"``), ``initcheck.spec(...)``, or a
            torch, jax or keras initializer standing for the spec it declares.
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
    plan = resolve(initializer, expect=expect, framework=framework, layout=layout,
                    shapes=shapes, samples=samples, dtype=dtype, convention=convention,
                    name=name, propagation=propagation_options(activation, propagation))
    start = time.perf_counter()
    ctx = Samples(plan.sampler, plan.claim, plan.laws, seed, plan.dtype, plan.propagation)
    drawn = time.perf_counter() - start
    return _assemble(plan, ctx, tuple(checks.run(ctx, alpha)), seed=seed, alpha=alpha,
                     draw_seconds=drawn + ctx.extra_draw_seconds)


def _assemble(plan: Plan, ctx: Samples, found: tuple[CheckResult, ...], *, seed: int,
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
        shapes=tuple(plan.laws), checks=found, call=expression(plan.initializer, sampler.name),
        layout_call=(repr(sampler.layout.name) if sampler.layout in LAYOUTS.values()
                     else f"initcheck.{sampler.layout!r}"),
        dtype_asked=sampler.takes_dtype,
        diagnosis=None if passed else diagnose(ctx, plan.claim, alpha, convention=plan.convention),
        trace=ctx.trace, draw_seconds=draw_seconds, elements=ctx.elements)


__all__ = ["DEFAULT_ALPHA", "DEFAULT_LAYERS", "InitializerError", "InitializerLike",
           "PropagationOptions", "default_shapes", "verify"]
