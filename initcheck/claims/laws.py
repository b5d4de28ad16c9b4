"""Laws: the exact distribution of one element of a weight, resolved from a spec for one
shape (mean, std, support, kurtosis, a lazily built scipy distribution), and the
constructors for each family the specs use."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from initcheck.core.fans import Fans


def _scipy(name: str, *args: Any, **kwargs: Any) -> Any:
    """A frozen scipy.stats distribution, importing scipy.stats (about 1 s) only when one is
    needed: resolving specs and laws, and the CLI's usage errors, never pay for it."""
    from scipy import stats

    return getattr(stats, name)(*args, **kwargs)

#: Std of a standard normal truncated to (-2, 2). jax and keras divide the target std by it
#: so that variance_scaling(..., "truncated_normal") keeps the variance it names.
TRUNCATED_STD_2 = 0.87962566103423978
#: Kurtosis E[x^4]/E[x^2]^2 of the families with a fixed shape.
NORMAL_KURTOSIS = 3.0
UNIFORM_KURTOSIS = 1.8


@dataclass(frozen=True)
class Law:
    """The claimed distribution of one element of a tensor of a given shape.

    ``low``/``high`` bound the support (infinite for a normal); ``kurtosis`` is
    E[(x-mean)^4]/std^4 (nan for a constant); ``dist`` is a scipy frozen distribution
    (None for a constant). For orthogonal specs ``matrix_shape`` is (units, fan of a unit)
    and ``gain`` the scale of Q; elements follow the exact marginal of a Haar matrix.
    """

    family: str
    mean: float
    std: float
    low: float
    high: float
    kurtosis: float
    make_dist: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    fans: Fans | None = None
    parent_mean: float | None = None
    parent_std: float | None = None
    matrix_shape: tuple[int, int] | None = None
    gain: float | None = None
    #: The dtype whose grid this law's values are rounded to (``on_grid``); None: continuous.
    grid: str | None = None
    #: Whether ``dist`` is discrete (values and masses: a 1x1 orthogonal, a law on a grid),
    #: known without building it.
    discrete: bool = False

    def parent(self) -> tuple[float, float]:
        """A truncated normal's parent mean and std."""
        if self.parent_mean is None or self.parent_std is None:
            raise ValueError(f"a {self.family} law has no parent normal: only a truncated one has.")
        return self.parent_mean, self.parent_std

    def orthogonal(self) -> tuple[tuple[int, int], float]:
        """An orthogonal law's (units, fan of a unit) and its gain."""
        if self.matrix_shape is None or self.gain is None:
            raise ValueError(
                f"a {self.family} law has no matrix and gain: only an orthogonal one has."
            )
        return self.matrix_shape, self.gain

    @functools.cached_property
    def dist(self) -> Any:
        """The scipy frozen distribution of one element (built on first use: it is slow)."""
        return None if self.make_dist is None else self.make_dist()

    @functools.cached_property
    def standard_moments(self) -> tuple[float, ...]:
        """E[z^k] for k = 0..12, z = (x - mean) / std: what the fourth-moment test needs
        (the variance and skewness of its statistic). Closed forms for the normal and the
        uniform; from scipy's raw moments otherwise."""
        if self.family == "normal" and self.grid is None:  # (k-1)!! for even k
            return tuple(0.0 if k % 2 else float(math.prod(range(k - 1, 0, -2))) for k in range(13))
        if self.family == "uniform" and self.grid is None:  # U(-sqrt 3, sqrt 3): 3^(k/2) / (k + 1)
            return tuple(0.0 if k % 2 else 3.0 ** (k / 2) / (k + 1) for k in range(13))
        if self.dist is None or self.std == 0:
            return (1.0,) + (math.nan,) * 12
        if self.discrete:  # directly from the atoms, without raw moments' cancellation
            z = (np.asarray(self.dist.xk, dtype=np.float64) - self.mean) / self.std
            pk = np.asarray(self.dist.pk, dtype=np.float64)
            return tuple(float(pk @ z**k) for k in range(13))
        # Raw moments of the unit distribution y (x = loc + scale y): scipy's moments of x
        # expand in scale/loc, which overflows for a mean near 0 (1e-126 gave nan).
        dist, loc, scale = self.dist, 0.0, 1.0
        if hasattr(dist, "kwds"):  # a frozen distribution: drop its loc and scale
            kwds = dict(dist.kwds)
            loc, scale = float(kwds.pop("loc", 0.0)), float(kwds.pop("scale", 1.0))
            dist = dist.dist(*dist.args, **kwds)
        raw = _unit_raw_moments(dist) if hasattr(dist, "kwds") else \
            [1.0] + [float(dist.moment(j)) for j in range(1, 13)]
        mu, sd = (self.mean - loc) / scale, self.std / scale
        # central moments of y by the binomial expansion, then standardized
        return tuple(sum(math.comb(k, j) * raw[j] * (-mu) ** (k - j) for j in range(k + 1))
                     / sd**k for k in range(13))

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.low) and math.isfinite(self.high)



def constant_law(value: float) -> Law:
    return Law("constant", value, 0.0, value, value, math.nan)


def normal_law(mean: float, std: float, fans: Fans | None = None) -> Law:
    return Law("normal", mean, std, -math.inf, math.inf, NORMAL_KURTOSIS,
               lambda: _scipy("norm", loc=mean, scale=std), fans)


def uniform_law(low: float, high: float, fans: Fans | None = None) -> Law:
    return Law("uniform", (low + high) / 2, (high - low) / math.sqrt(12.0), low, high,
               UNIFORM_KURTOSIS, lambda: _scipy("uniform", loc=low, scale=high - low), fans)


@functools.lru_cache(maxsize=1024)
def _standard_truncated_moments(lower: float, upper: float) -> tuple[float, float, float]:
    """Mean, std and kurtosis of N(0, 1) truncated to [lower, upper] (scipy, cached)."""
    m, v, _, excess = (float(x) for x in _scipy("truncnorm", lower, upper).stats(moments="mvsk"))
    return m, math.sqrt(v), excess + 3.0


def truncated_law(mean: float, parent_std: float, lower: float, upper: float,
                   fans: Fans | None = None) -> Law:
    """Normal(mean, parent_std^2) truncated to [mean + lower*std, mean + upper*std]."""
    m, s, kurtosis = _standard_truncated_moments(lower, upper)
    return Law("truncated_normal", mean + parent_std * m, parent_std * s,
               mean + lower * parent_std, mean + upper * parent_std, kurtosis,
               lambda: _scipy("truncnorm", lower, upper, loc=mean, scale=parent_std), fans,
               parent_mean=mean, parent_std=parent_std)


def orthogonal_law(gain: float, matrix: tuple[int, int]) -> Law:
    """Marginal of one entry of gain * Q, Q Haar with orthonormal rows or columns.

    Each unit vector is uniform on the sphere in R^n, n = max(matrix): (x/g + 1)/2 follows
    Beta((n-1)/2, (n-1)/2), variance g^2/n, kurtosis 3n/(n+2).
    """
    n = max(matrix)

    def dist() -> Any:
        if n == 1:  # a 1x1 "matrix": +-gain with equal mass
            return _scipy("rv_discrete", values=([-gain, gain], [0.5, 0.5]))
        return _scipy("beta", (n - 1) / 2, (n - 1) / 2, loc=-gain, scale=2 * gain)

    return Law("orthogonal", 0.0, gain / math.sqrt(n), -gain, gain, 3.0 * n / (n + 2),
               dist, None, matrix_shape=matrix, gain=gain, discrete=n == 1)


def variance_scaling_law(scale: float, mode: str, distribution: str, fans: Fans) -> Law:
    variance = scale / fans.fan(mode)
    if distribution == "normal":
        return normal_law(0.0, math.sqrt(variance), fans)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)  # U(-r, r) has variance r^2 / 3
        return uniform_law(-limit, limit, fans)
    # cut at +-2 parent stds; the parent is widened so the truncated std is sqrt(variance)
    return truncated_law(0.0, math.sqrt(variance) / TRUNCATED_STD_2, -2.0, 2.0, fans)


#: A dtype's grid is coarse for a law when its step at a typical value (|mean| + std) exceeds
#: this fraction of the std: rounding then moves the variance by more than 1e-4 / 12 of it.
COARSE_STEP = 0.01
#: Most grid values ``on_grid`` enumerates; a law spread over more is fine on that grid.
MAX_GRID = 2**17
#: A law whose rounding puts more than this share on one value cannot be judged in the dtype.
MAX_ONE_VALUE = 0.99
#: Stds around the mean a grid covers for an unbounded law (the mass beyond: < 1e-32).
GRID_REACH = 12.0


def on_grid(law: Law, dtype: Any) -> Law:
    """The exact law of a draw of ``law`` rounded to nearest in ``dtype``, where that grid is
    coarse against the law: N(1, 0.02^2) in bfloat16 moves 0.39 std per step, so its values,
    std and CDF are the rounded law's, not the continuous one's; a discrete law's atoms
    (+-gain) round to ``dtype`` too. ``law`` itself where rounding does not matter."""
    dt = np.dtype(dtype)
    if law.std <= 0 or law.make_dist is None or law.grid is not None or dt.itemsize not in _BITS:
        return law
    if law.discrete:  # atoms (+-gain): each rounds to its nearest value of dt
        xk = np.asarray(law.dist.xk, dtype=np.float64)
        rounded = np.asarray(xk, dtype=dt).astype(np.float64)
        if np.array_equal(rounded, xk):
            return law
        atoms, where = np.unique(rounded, return_inverse=True)
        return _discrete(
            law, atoms, np.bincount(where, weights=np.asarray(law.dist.pk, dtype=np.float64)), dt
        )
    typical = abs(law.mean) + law.std
    if not float(np.spacing(np.asarray(typical, dtype=dt))) > COARSE_STEP * law.std:
        return law
    lo = max(law.low, law.mean - GRID_REACH * law.std)
    hi = min(law.high, law.mean + GRID_REACH * law.std)
    grid = _representable(lo, hi, dt)
    if grid is None:
        return law
    # the cell of each grid value: the reals that round to it (to the midpoints; the ends
    # take the tails), its probability the continuous law's mass there
    edges = np.concatenate([[-math.inf], (grid[1:] + grid[:-1]) / 2, [math.inf]])
    p = np.diff(np.asarray(law.dist.cdf(edges), dtype=np.float64))
    keep = p > 0
    grid, p = grid[keep], p[keep] / p[keep].sum()
    if p.max() > MAX_ONE_VALUE:
        step = float(np.spacing(np.asarray(typical, dtype=dt)))
        raise ValueError(
            f"{law.family} with mean {law.mean:.4g} and std {law.std:.3g} cannot be held in dtype"
            f" {dt.name}: its step there is {step:.3g} ({step / law.std:.3g} std), so"
            f" {p.max():.1%} of the values round to {grid[p.argmax()]:.6g}. Check the weights in"
            " a wider dtype (float32), or claim that constant.")
    return _discrete(law, grid, p, dt)


def _discrete(law: Law, grid: np.ndarray, p: np.ndarray, dt: np.dtype) -> Law:
    """``law`` as the discrete law of values ``grid`` with probabilities ``p`` in ``dt``."""
    mean = float(p @ grid)
    var = float(p @ (grid - mean) ** 2)
    kurtosis = float(p @ (grid - mean) ** 4) / var**2 if var > 0 else math.nan
    values = (grid, p)
    return Law(law.family, mean, math.sqrt(var), float(grid[0]), float(grid[-1]), kurtosis,
               lambda: _scipy("rv_discrete", values=values), law.fans, law.parent_mean,
               law.parent_std, law.matrix_shape, law.gain, grid=dt.name, discrete=True)


_BITS = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _representable(lo: float, hi: float, dt: np.dtype) -> np.ndarray | None:
    """Every value of ``dt`` in [lo, hi] widened by one step each side, ascending, as
    float64 (None if there are more than MAX_GRID): positive floats are ordered as their
    bit patterns, negative ones mirror them."""
    def bits(v: float) -> int:
        return int(np.asarray(v, dtype=dt).view(_BITS[dt.itemsize]))

    def positive(a: float, b: float) -> np.ndarray:  # 0 <= a <= b
        first, last = max(bits(a) - 1, 0), bits(b) + 1
        if last - first > MAX_GRID:
            raise OverflowError
        return np.arange(first, last + 1, dtype=_BITS[dt.itemsize]).view(dt).astype(np.float64)

    try:
        parts = []
        if lo < 0:
            parts.append(-positive(max(0.0, -hi), -lo)[::-1])
        if hi >= 0:
            parts.append(positive(max(0.0, lo), hi))
    except OverflowError:
        return None
    grid = np.unique(np.concatenate(parts))
    grid = grid[np.isfinite(grid)]
    return grid if grid.size <= MAX_GRID else None


#: Raw moments of unit laws by their shape (scipy's name, shape arguments).
_UNIT_MOMENTS: dict[tuple[Any, ...], tuple[float, ...]] = {}


def _unit_raw_moments(dist: Any) -> list[float]:
    """E[y^j], j = 0..12, of a frozen unit distribution (no loc or scale), cached by its
    shape: every layer's truncated normal is the same unit law, whose moments scipy
    integrates numerically (27 ms of a variance_scaling verify before the cache)."""
    key = (dist.dist.name, tuple(float(a) for a in dist.args),
           tuple(sorted((k, float(v)) for k, v in dist.kwds.items())))
    if key not in _UNIT_MOMENTS:
        _UNIT_MOMENTS[key] = (1.0,) + tuple(float(dist.moment(j)) for j in range(1, 13))
    return list(_UNIT_MOMENTS[key])
