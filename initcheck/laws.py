"""Laws: the exact distribution of one element of a weight, resolved from a spec for one
shape (mean, std, support, kurtosis, a lazily built scipy distribution), and the
constructors for each family the specs use."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from initcheck.fans import Fans


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

    @functools.cached_property
    def dist(self) -> Any:
        """The scipy frozen distribution of one element (built on first use: it is slow)."""
        return None if self.make_dist is None else self.make_dist()

    @functools.cached_property
    def standard_moments(self) -> tuple[float, ...]:
        """E[z^k] for k = 0..12, z = (x - mean) / std: what the fourth-moment test needs
        (the variance and skewness of its statistic). Closed forms for the normal and the
        uniform; from scipy's raw moments otherwise."""
        if self.family == "normal":  # (k-1)!! for even k
            return tuple(0.0 if k % 2 else float(math.prod(range(k - 1, 0, -2))) for k in range(13))
        if self.family == "uniform":  # U(-sqrt 3, sqrt 3): 3^(k/2) / (k + 1)
            return tuple(0.0 if k % 2 else 3.0 ** (k / 2) / (k + 1) for k in range(13))
        if self.dist is None:
            return (1.0,) + (math.nan,) * 12
        # Raw moments of the unit distribution y (x = loc + scale y): scipy's moments of x
        # expand in scale/loc, which overflows for a mean near 0 (1e-126 gave nan).
        dist, loc, scale = self.dist, 0.0, 1.0
        if hasattr(dist, "kwds"):  # a frozen distribution: drop its loc and scale
            kwds = dict(dist.kwds)
            loc, scale = float(kwds.pop("loc", 0.0)), float(kwds.pop("scale", 1.0))
            dist = dist.dist(*dist.args, **kwds)
        raw = [1.0] + [float(dist.moment(j)) for j in range(1, 13)]
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
               dist, None, matrix_shape=matrix, gain=gain)


def variance_scaling_law(scale: float, mode: str, distribution: str, fans: Fans) -> Law:
    variance = scale / fans.fan(mode)
    if distribution == "normal":
        return normal_law(0.0, math.sqrt(variance), fans)
    if distribution == "uniform":
        limit = math.sqrt(3.0 * variance)  # U(-r, r) has variance r^2 / 3
        return uniform_law(-limit, limit, fans)
    # cut at +-2 parent stds; the parent is widened so the truncated std is sqrt(variance)
    return truncated_law(0.0, math.sqrt(variance) / TRUNCATED_STD_2, -2.0, 2.0, fans)
