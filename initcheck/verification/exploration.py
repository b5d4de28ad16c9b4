"""``explore``: Hypothesis searches layer shapes for one on which an initializer draws the
wrong law, and shrinks it to the simplest such layer. ``verify`` tests nine fixed shapes; a
defect that lives only on some layers (grouped, transposed, 3-d kernels, in > out, fans past a
threshold) passes it when none of the nine is such a layer.

Each example is one ``verify`` on one layer's weight shape, drawn from seeds derived from
(seed, shape) as always, so a verdict is a fixed function of the layer and shrinking is
sound. The family-wise ``alpha`` is split (Bonferroni) over every verify the search may run,
its examples and its shrink steps (``budget``); once the budget is spent no further layer is
drawn, so the whole search never spends more than ``alpha``. Hypothesis is imported on the
first call only (``verify`` never imports it).
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any

from initcheck import stats
from initcheck.claims.initializers import Initializer
from initcheck.core import _validate
from initcheck.core.contract import InitializerError, InitializerLike
from initcheck.core.defaults import DEFAULT_ALPHA
from initcheck.core.fans import Layer, Layout
from initcheck.core.results import Report
from initcheck.verification.exploration_report import ExploreResult
from initcheck.verification.pipeline import verify
from initcheck.verification.resolve import Plan, resolve

#: Layers verified while shrinking a failure, at most, per example asked for (with at least
#: ``MIN_SHRINKS``): the budget alpha is split over is examples + shrinks.
SHRINKS_PER_EXAMPLE = 1
MIN_SHRINKS = 50
#: The default layers: at least this many elements (the std test then detects a 20% error
#: at each example's alpha) ...
MIN_LAYER_ELEMENTS = 2**10
#: ... at most this many (a verify of about 8 ms), channels up to MAX_CHANNELS (fans past
#: 4000 through 3x3 and 3x3x3 kernels), kernels up to 5 a side, and where the initializer
#: can be told its layer (initcheck's own), up to MAX_GROUPS groups and transposed layers.
MAX_LAYER_ELEMENTS = 2**18
MAX_CHANNELS = 512
MAX_KERNEL = 5
MAX_GROUPS = 4


def explore(
    initializer: InitializerLike,
    expect: Any = None,
    *,
    layers: Any = None,
    max_examples: int | None = 100,
    seed: int = 0,
    alpha: float = DEFAULT_ALPHA,
    framework: str = "auto",
    layout: str | Layout | None = None,
    dtype: Any = None,
) -> ExploreResult:
    """Search layer shapes for one where ``initializer`` does not draw what it claims, and
    shrink the first found to the smallest failing layer (Hypothesis).

    Args:
        initializer: what ``verify`` takes: a built-in's name, an ``Initializer``, a NumPy
            ``fn(shape, rng)`` or a framework's initializer.
        expect: the claim, as ``verify`` takes it (default: the one the initializer carries
            or declares).
        layers: a Hypothesis strategy of ``Layer``s or of weight shapes (default: dense and
            conv 1-3d layers of 1k-262k elements that fit the layout; grouped and transposed
            ones too where the initializer can be told its layer, initcheck's own).
        max_examples: layers Hypothesis generates before shrinking; None takes the loaded
            Hypothesis profile's (``settings.default.max_examples``).
        seed: the seed of the search and of every draw: the same seed, the same result.
        alpha: the family-wise false-alarm rate of the whole search, in (0, 1).
        framework: how the initializer is called, as in ``verify``.
        layout: the layout shapes are read in (default: the framework's); each layer adds
            its groups and transposition to it.
        dtype: asked of an initializer that takes one (default float32).

    Returns:
        An ``ExploreResult``: ``passed``, the shrunk ``counterexample`` and its ``shape``,
        verify's ``report`` there, the alpha per example and each example's std MDE.

    Raises:
        ValueError: bad input (named, with the fix), as ``verify`` raises it; a strategy
            that draws something other than layers or shapes.

    Example:
        >>> import initcheck as ic
        >>> ic.explore("he_normal", max_examples=5).passed
        True
        >>> def capped_he(shape, rng):  # torch layout; fans past 2048 read as 2048
        ...     fan = min(ic.compute_fans(shape, layout="torch").fan_in, 2048)
        ...     return rng.standard_normal(shape) * (2 / fan) ** 0.5
        >>> ic.verify(capped_he, expect="he_normal", layout="torch").passed  # fans <= 1024
        True
        >>> found = ic.explore(capped_he, "he_normal", layout="torch")
        >>> found.passed, ic.compute_fans(found.shape, layout="torch").fan_in > 2048
        (False, True)
    """
    start = time.perf_counter()
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample
    from hypothesis.strategies import SearchStrategy

    alpha = stats.check_alpha(alpha)
    seed = _validate.integer("seed", seed, minimum=0)
    profile = settings.default
    assert profile is not None  # Hypothesis always has a loaded profile
    if max_examples is None:
        max_examples = profile.max_examples
    max_examples = _validate.integer("max_examples", max_examples, minimum=1)
    if layers is not None and not isinstance(layers, SearchStrategy):
        raise ValueError(f"layers={layers!r} is not a Hypothesis strategy: pass one that draws"
                         " Layers (initcheck.strategies.layers(...)) or shapes"
                         " (initcheck.strategies.shapes(...)), or None for the default.")
    plan = resolve(initializer, expect=expect, framework=framework, layout=layout, shapes=None,
                   samples=None, dtype=dtype, convention=None, name=None, propagation=None)
    base = plan.sampler.layout
    budget = max_examples + max(MIN_SHRINKS, SHRINKS_PER_EXAMPLE * max_examples)
    search = _Search(plan, base, expect, framework, seed, alpha / budget, dtype, budget)
    phases = tuple(p for p in profile.phases if p in (Phase.generate, Phase.target, Phase.shrink))
    run = settings(profile, max_examples=max_examples, database=None, deadline=None,
                   phases=phases or (Phase.generate,), suppress_health_check=list(HealthCheck))
    strategy = layers if layers is not None else default_layers(plan, base)
    try:  # a strategy that draws nothing usable stops the search with its own error
        found = find(strategy, search.fails, settings=run, random=random.Random(seed))
    except NoSuchExample:
        found = None
    except _BadLayer as exc:
        raise ValueError(str(exc)) from None
    outcome = search.outcome(found) if found is not None else None
    return ExploreResult(
        initializer=(plan.initializer.name if isinstance(plan.initializer, Initializer)
                     else plan.sampler.name),
        spec=repr(plan.claim), framework=plan.sampler.framework,
        layout=base.name, seed=seed, alpha=alpha, alpha_each=alpha / budget, budget=budget,
        examples=len(search.done), max_examples=max_examples, mdes=tuple(search.mdes),
        layer=found if isinstance(found, Layer) else None,
        shape=outcome.shape if outcome is not None else None, found_at=search.first,
        report=outcome.report if outcome is not None else None,
        error=outcome.error if outcome is not None else None,
        exhausted=search.exhausted, seconds=time.perf_counter() - start)


def default_layers(plan: Plan, base: Layout) -> Any:
    """The default search space for ``plan`` in ``base``: the layer kinds whose rank fits
    the layout; grouped and transposed layers where the initializer can be told them
    (initcheck's own), else the layout's own groups and transposition."""
    from initcheck import strategies

    rebindable = isinstance(plan.initializer, Initializer)
    fixed = base.groups > 1 or base.transposed
    kinds = []
    for kind, rank in (("dense", 0), ("conv1d", 1), ("conv2d", 2), ("conv3d", 3)):
        if fixed and not rebindable and not rank:  # a grouped layout has no dense layers
            continue
        try:
            Layer(1, 1, (1,) * rank).weight_shape(replace(base, groups=1, transposed=False))
        except ValueError:
            continue
        kinds.append(kind)
    if not kinds:
        raise ValueError(f"layout {base.name!r} fits no dense or conv layer: pass layers= (a"
                         " strategy of shapes in this layout).")
    groups = (1, MAX_GROUPS) if rebindable else (base.groups, base.groups)
    return strategies.layers(
        kinds=tuple(kinds), min_channels=max(1, base.groups), max_channels=MAX_CHANNELS,
        max_kernel=MAX_KERNEL, min_groups=groups[0], max_groups=groups[1],
        transposed=None if rebindable else base.transposed,
        min_elements=MIN_LAYER_ELEMENTS, max_elements=MAX_LAYER_ELEMENTS)


class _BadLayer(Exception):
    """A drawn value that is no layer or shape, or one the claim cannot be read on."""


@dataclass(frozen=True)
class _Outcome:
    shape: tuple[int, ...]
    failed: bool
    report: Report | None
    error: str | None


@dataclass
class _Search:
    """The verifies of one search: each (layout, shape) drawn once, within the budget."""

    plan: Plan
    base: Layout
    expect: Any
    framework: str
    seed: int
    alpha_each: float
    dtype: Any
    budget: int
    done: dict[tuple[Layout, tuple[int, ...]], _Outcome] = field(default_factory=dict)
    mdes: list[float] = field(default_factory=list)
    exhausted: bool = False
    first: tuple[int, ...] | None = None

    def fails(self, item: Any) -> bool:
        outcome = self.outcome(item)
        return outcome is not None and outcome.failed

    def outcome(self, item: Any) -> _Outcome | None:
        """The verdict at ``item`` (None once the budget is spent on other layers)."""
        lay, shape = self._where(item)
        key = (lay, shape)
        if key in self.done:
            return self.done[key]
        if len(self.done) >= self.budget:
            self.exhausted = True
            return None
        try:
            report = verify(self.plan.initializer, expect=self.expect, framework=self.framework,
                            layout=lay, shapes=[shape], seed=self.seed, alpha=self.alpha_each,
                            dtype=self.dtype)
        except InitializerError as exc:  # the initializer breaks on this layer: a finding
            found = _Outcome(shape, True, None, str(exc))
        except ValueError as exc:
            raise _BadLayer(f"{_describe(item)}: {exc}") from None
        else:
            std = next((c for c in report.checks if c.name == "std"), None)
            self.mdes.append(std.mde if std is not None else math.nan)
            found = _Outcome(shape, not report.passed, report, None)
        self.done[key] = found
        if found.failed and self.first is None:
            self.first = shape
        return found

    def _where(self, item: Any) -> tuple[Layout, tuple[int, ...]]:
        """The layout and weight shape an item stands for."""
        if isinstance(item, Layer):
            lay = replace(self.base, groups=item.groups, transposed=item.transposed)
            try:
                return lay, item.weight_shape(lay)
            except ValueError as exc:
                raise _BadLayer(f"{_describe(item)} does not fit layout {self.base.name!r}:"
                                f" {exc}") from None
        if isinstance(item, tuple) and item and all(
                isinstance(d, int) and not isinstance(d, bool) for d in item):
            return self.base, item
        raise _BadLayer(f"the layers strategy drew {item!r}, neither a Layer nor a shape (a"
                        " tuple of ints): draw initcheck.Layer(...) or weight shapes.")


def _describe(item: Any) -> str:
    return f"layer {item!r}" if isinstance(item, Layer) else f"shape {item!r}"


__all__ = ["ExploreResult", "default_layers", "explore"]
