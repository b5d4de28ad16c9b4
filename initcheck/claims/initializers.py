"""NumPy initializers: one sampler per spec, ``init(shape, rng=None, dtype=np.float32)``.

Each initializer carries the ``spec`` it claims, so ``verify`` needs nothing else. Factories
take the spec's parameters plus where the fans come from (``layout``, ``groups``,
``transposed``, ``convention``, ``vectors``), and validate all of them when called:

>>> init = he_normal(mode="fan_out", layout="torch")
>>> w = init((256, 784), rng=0)
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

from initcheck.claims import specs
from initcheck.claims.specs import Law, Spec
from initcheck.core import _validate, compat
from initcheck.core.fans import CONVENTIONS, DEFAULT_LAYOUT, VECTOR_POLICIES, Layout, get_layout

#: Keyword arguments that say where the fans come from, accepted by every factory.
LAYOUT_KEYWORDS: tuple[str, ...] = ("layout", "groups", "transposed", "convention", "vectors")


class Initializer:
    """A sampler for ``spec``: ``init(shape, rng=None, dtype=np.float32) -> np.ndarray``.

    ``rng`` is a ``numpy.random.Generator``, an int seed, a ``SeedSequence``, or None for
    fresh OS entropy; no global random state is ever read.
    """

    def __init__(
        self,
        spec: Spec,
        *,
        layout: str | Layout = DEFAULT_LAYOUT,
        groups: int | None = None,
        transposed: bool | None = None,
        convention: str = "logical",
        vectors: str | None = None,
    ) -> None:
        if not isinstance(spec, Spec):
            raise ValueError(f"Initializer needs a Spec, got {spec!r}; use initcheck.spec(name).")
        self.spec = spec
        self.layout = get_layout(layout, groups=groups, transposed=transposed)
        self.convention = _validate.choice("convention", convention, CONVENTIONS)
        self.vectors = (
            None if vectors is None else _validate.choice("vectors", vectors, VECTOR_POLICIES)
        )

    @property
    def name(self) -> str:
        return self.spec.name

    def law(self, shape: tuple[int, ...]) -> Law:
        """The element law this initializer claims for ``shape``."""
        return self.spec.law(shape, self.layout, convention=self.convention, vectors=self.vectors)

    def __call__(
        self, shape: tuple[int, ...], rng: Any = None, dtype: Any = np.float32
    ) -> np.ndarray:
        dims = _validate.shape(shape)
        dt = _validate.float_dtype(dtype)
        gen = _validate.rng(rng)
        law = self.law(dims)
        # float16/float32 weights are drawn in float32 (numpy's float32 generators) and
        # rounded; float64 weights in float64.
        work = np.dtype(np.float32) if dt.itemsize <= 4 else np.dtype(np.float64)
        values = _SAMPLERS[law.family](law, dims, self.layout, gen, work)
        return np.asarray(values).astype(dt, copy=False)

    def __repr__(self) -> str:
        where = f"layout={self.layout.name!r}"
        if self.layout.groups != 1:
            where += f", groups={self.layout.groups}"
        if self.layout.transposed:
            where += ", transposed=True"
        if self.convention != "logical":
            where += f", convention={self.convention!r}"
        return f"Initializer({self.spec!r}, {where})"


# -------------------------------------------------------------------------- samplers


def _sample_constant(law: Law, dims: tuple[int, ...], layout: Layout, rng: np.random.Generator,
                     work: np.dtype) -> np.ndarray:
    return np.full(dims, law.mean, dtype=work)


def _sample_normal(law: Law, dims: tuple[int, ...], layout: Layout, rng: np.random.Generator,
                   work: np.dtype) -> np.ndarray:
    x = rng.standard_normal(dims, dtype=work)
    x *= work.type(law.std)
    if law.mean:
        x += work.type(law.mean)
    return x


def _sample_uniform(law: Law, dims: tuple[int, ...], layout: Layout, rng: np.random.Generator,
                    work: np.dtype) -> np.ndarray:
    x = rng.random(dims, dtype=work)  # [0, 1)
    x *= work.type(law.high - law.low)
    x += work.type(law.low)
    return x


#: Below this acceptance rate the window is far in a tail: invert the CDF instead.
_MIN_ACCEPTANCE = 0.25


def _sample_truncated(law: Law, dims: tuple[int, ...], layout: Layout, rng: np.random.Generator,
                      work: np.dtype) -> np.ndarray:
    """Exact truncated normal, never clamped: rejection from the parent normal (keeps each
    draw that lands in the window, so kept draws have exactly the truncated law), or scipy's
    inverse-CDF sampler when the window holds too little of the parent's mass."""
    mean, std = law.parent()
    a, b = (law.low - mean) / std, (law.high - mean) / std
    acceptance = float(special.ndtr(b) - special.ndtr(a))
    if acceptance < _MIN_ACCEPTANCE:
        return np.asarray(law.dist.rvs(size=dims, random_state=rng))
    n = math.prod(dims)
    out = np.empty(0, dtype=work)
    while out.size < n:
        need = n - out.size
        z = rng.standard_normal(int(need / acceptance * 1.05) + 16, dtype=work)
        out = np.concatenate([out, z[(z >= a) & (z <= b)][:need]])
    out *= work.type(std)
    out += work.type(mean)
    return out.reshape(dims)


def _sample_orthogonal(law: Law, dims: tuple[int, ...], layout: Layout, rng: np.random.Generator,
                       work: np.dtype) -> np.ndarray:
    (units, fan), gain = law.orthogonal()
    tall = rng.standard_normal((max(units, fan), min(units, fan)))
    q, r = np.linalg.qr(tall)
    # Sign fix: without it Q is not Haar (its diagonal of R is positive by convention).
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q *= signs
    matrix = q if units >= fan else q.T  # (units, fan)
    unit_axes = layout.unit_axes(len(dims))
    moved = (*(dims[a] for a in unit_axes), *(d for a, d in enumerate(dims) if a not in unit_axes))
    return gain * np.moveaxis(matrix.reshape(moved), tuple(range(len(unit_axes))), unit_axes)


_SAMPLERS: dict[str, Callable[..., np.ndarray]] = {
    "constant": _sample_constant,
    "normal": _sample_normal,
    "uniform": _sample_uniform,
    "truncated_normal": _sample_truncated,
    "orthogonal": _sample_orthogonal,
}


# ------------------------------------------------------------------------- factories


def _factory(spec_factory: Callable[..., Spec]) -> Callable[..., Initializer]:
    """An initializer factory with the spec factory's parameters plus the layout keywords."""

    @functools.wraps(spec_factory)
    def factory(*args: Any, **kwargs: Any) -> Initializer:
        where = {k: kwargs.pop(k) for k in LAYOUT_KEYWORDS if k in kwargs}
        return Initializer(spec_factory(*args, **kwargs), **where)

    own = list(inspect.signature(spec_factory).parameters.values())
    extra = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(Initializer).parameters.values()
        if p.name in LAYOUT_KEYWORDS
    ]
    # setattr: a functools.wraps wrapper declares no __signature__ for type checkers
    setattr(factory, "__signature__", inspect.Signature(own + extra, return_annotation=Initializer))  # noqa: B010
    factory.__doc__ = (spec_factory.__doc__ or "") + (
        "\n\n    Returns an Initializer; layout, groups, transposed, convention and vectors"
        " say how fans are read (see initcheck.compute_fans)."
    )
    return factory


zeros = zero = _factory(specs.zeros)
ones = _factory(specs.ones)
constant = _factory(specs.constant)
small_normal = _factory(specs.small_normal)
large_normal = _factory(specs.large_normal)
normal = _factory(specs.normal)
uniform = _factory(specs.uniform)
xavier_normal = glorot_normal = _factory(specs.xavier_normal)
xavier_uniform = glorot_uniform = _factory(specs.xavier_uniform)
he_normal = _factory(specs.he_normal)
he_uniform = _factory(specs.he_uniform)
kaiming_normal = _factory(specs.kaiming_normal)  # torch's defaults
kaiming_uniform = _factory(specs.kaiming_uniform)
lecun_normal = _factory(specs.lecun_normal)
lecun_uniform = _factory(specs.lecun_uniform)
truncated_normal = trunc_normal = _factory(specs.truncated_normal)
orthogonal = _factory(specs.orthogonal)
variance_scaling = _factory(specs.variance_scaling)

#: The short method names of the reference article's ``weight_init(method)``
#: (docs/initializers.md; its docstring also says 'relu' for He). Its code draws N(0, 1/n) for
#: 'xavier' and N(0, 2/n) for 'he' on square n x n weights, where fan_in = fan_out = fan_avg,
#: so they coincide with xavier_normal and he_normal.
SHORT_NAMES: dict[str, str] = {
    "zeros": "zeros",
    "constant": "constant",
    "small": "small_normal",
    "large": "large_normal",
    "xavier": "xavier_normal",
    "he": "he_normal",
    "relu": "he_normal",
}


def names() -> list[str]:
    """Every name ``get`` accepts: canonical spec names, then aliases."""
    return [*specs.SPECS, *specs.ALIASES]


def get(name: str | Spec, **params: Any) -> Initializer:
    """The built-in initializer ``name`` (aliases accepted) with spec and layout parameters.

    >>> get("he_normal", mode="fan_out", layout="torch")
    Initializer(spec('he_normal', mode='fan_out', nonlinearity='relu'), layout='torch')
    """
    where = {k: params.pop(k) for k in LAYOUT_KEYWORDS if k in params}
    return Initializer(specs.spec(name, **params), **where)


def by_short_name(method: str, **params: Any) -> Initializer:
    """The built-in a short method name stands for, as the reference article's
    ``weight_init(method)`` names them: 'small', 'large', 'xavier', 'he' (or 'relu'), plus
    'zeros' and 'constant' from its first section (``SHORT_NAMES``).

    >>> by_short_name("xavier").spec
    spec('xavier_normal', gain=1.0)
    """
    method = _validate.choice("method", method, SHORT_NAMES)
    return get(SHORT_NAMES[method], **params)


article = compat.renamed(by_short_name, "initcheck.initializers.article")
ARTICLE_METHODS = SHORT_NAMES  # the 0.2 name
