"""Broken samplers, one per defect class of docs/defects.md that NumPy can express.

Each is ``fn(shape, rng, dtype)`` in the keras layout with the spec it (wrongly) claims and
the check that must catch it. Fans are read with initcheck's own compute_fans, so each
defect is exactly the one named and nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import initcheck as ic
from initcheck.claims.specs import TRUNCATED_STD_2


@dataclass(frozen=True)
class Defect:
    name: str
    expect: str | ic.Spec
    fn: Callable
    caught_by: tuple[str, ...]


def fans(shape):
    return ic.compute_fans(shape, vectors="length")


def _he_std(shape):
    return math.sqrt(2.0 / fans(shape).fan_in)


def normal_with_std(std_of: Callable, transform: Callable | None = None):
    def fn(shape, rng, dtype=np.float32):
        x = rng.standard_normal(shape) * std_of(shape)
        if transform is not None:
            x = transform(x, shape, rng)
        return x.astype(dtype)
    return fn


def uniform_with_bound(bound_of: Callable, low_zero: bool = False):
    def fn(shape, rng, dtype=np.float32):
        r = bound_of(shape)
        return rng.uniform(0.0 if low_zero else -r, r, size=shape).astype(dtype)
    return fn


def _scale_off(shape):
    return 1.05 * _he_std(shape)


def _fan_swap(shape):
    return math.sqrt(2.0 / fans(shape).fan_out)


def _fan_avg(shape):
    return math.sqrt(2.0 / fans(shape).fan("fan_avg"))


def _missing_sqrt(shape):
    return 2.0 / fans(shape).fan_in


def _uniform_for_normal(shape, rng, dtype=np.float32):
    r = math.sqrt(3.0) * _he_std(shape)
    return rng.uniform(-r, r, size=shape).astype(dtype)


def _normal_for_uniform(shape, rng, dtype=np.float32):
    return (rng.standard_normal(shape) * _he_std(shape)).astype(dtype)


def _trunc_no_correction(shape, rng, dtype=np.float32):
    # jax-style variance_scaling without dividing the parent std by 0.8796
    std = math.sqrt(1.0 / fans(shape).fan_in)
    from scipy import stats
    return stats.truncnorm(-2, 2, scale=std).rvs(size=shape, random_state=rng).astype(dtype)


def _trunc_clamped(shape, rng, dtype=np.float32):
    std = math.sqrt(1.0 / fans(shape).fan_in) / TRUNCATED_STD_2
    return np.clip(rng.standard_normal(shape) * std, -2 * std, 2 * std).astype(dtype)


def _outliers(x, shape, rng):
    return np.where(rng.random(shape) < 1e-5, x * 1000.0, x)


def _mean_shift(x, shape, rng):
    return x + 0.1 * _he_std(shape)


def _constant(shape, rng, dtype=np.float32):
    return np.full(shape, _he_std(shape), dtype=dtype)


def _zeros(shape, rng, dtype=np.float32):
    return np.zeros(shape, dtype=dtype)


def _identical_units(x, shape, rng):
    # every output unit (last axis) the same weight vector
    return np.repeat(x[..., :1], shape[-1], axis=-1)


def _tiled_slices(x, shape, rng):
    # the first axis (kernel rows, or dense inputs) repeats one slice, as an RNG reused per slice
    return np.broadcast_to(x[:1], shape).copy()


def _ignores_rng(shape, rng, dtype=np.float32):
    return (np.random.default_rng(12345).standard_normal(shape) * _he_std(shape)).astype(dtype)


def _global_state(shape, rng, dtype=np.float32):
    return (np.random.standard_normal(shape) * _he_std(shape)).astype(dtype)


def _correlated_units(x, shape, rng):
    # a shared component across the units of each input: correlation 0.3, std unchanged
    rho = 0.3
    shared = rng.standard_normal((*shape[:-1], 1)) * _he_std(shape)
    return math.sqrt(1 - rho) * x + math.sqrt(rho) * shared


def _rank_one_spike(x, shape, rng):
    # W = a G + s u v^T with s three times the bulk edge (at most half the Frobenius
    # budget on small matrices); a keeps E|W|^2 unchanged
    if len(shape) < 2:
        return x
    m = x.reshape(-1, shape[-1])
    rows, cols = m.shape
    sigma = _he_std(shape)
    s = min(3.0 * (math.sqrt(rows) + math.sqrt(cols)), math.sqrt(0.5 * rows * cols)) * sigma
    u = rng.standard_normal(rows)
    u /= np.linalg.norm(u)
    v = rng.standard_normal(cols)
    v /= np.linalg.norm(v)
    a = math.sqrt(max(0.0, 1 - s**2 / (sigma**2 * rows * cols)))
    return (a * m + s * np.outer(u, v)).reshape(shape)


def _receptive_ignored(shape):
    return math.sqrt(2.0 / shape[-2]) if len(shape) > 2 else _he_std(shape)


def _square_kernel_assumed(shape):
    if len(shape) <= 2:
        return _he_std(shape)
    k = shape[0] ** (len(shape) - 2)
    return math.sqrt(2.0 / (shape[-2] * k))


def _wrong_for_small_fans(shape):
    std = _he_std(shape)
    return 1.5 * std if fans(shape).fan_in < 32 else std


def _single_nan(x, shape, rng):
    x = x.copy()
    x.flat[x.size // 2] = np.nan
    return x


def _orthogonal_no_sign_fix(shape, rng, dtype=np.float32):
    units = shape[-1]
    fan = math.prod(shape) // units
    a = rng.standard_normal((max(units, fan), min(units, fan)))
    q, _ = np.linalg.qr(a)  # no sign fix: Q's diagonal is biased
    m = q if fan >= units else q.T  # (fan, units) in the keras layout
    return m.reshape(shape).astype(dtype)


def _gaussian_claiming_orthogonal(shape, rng, dtype=np.float32):
    n = max(shape[-1], math.prod(shape) // shape[-1])
    return (rng.standard_normal(shape) / math.sqrt(n)).astype(dtype)


def _student_t(shape, rng, dtype=np.float32):
    # Student-t with 34 degrees of freedom scaled to the right std: excess kurtosis 6/30 = 0.2
    nu = 34
    return (rng.standard_t(nu, size=shape) * math.sqrt((nu - 2) / nu) * _he_std(shape)).astype(
        dtype
    )


def _unit_scales_differ(x, shape, rng):
    # each output unit (last axis) scaled by a log-normal factor of spread 0.1, normalized so
    # the tensor's variance is unchanged
    if len(shape) < 2:
        return x
    f = np.exp(rng.normal(0.0, 0.1, shape[-1]))
    return x * f / math.sqrt(float(np.mean(f * f)))


def _unit_means_differ(x, shape, rng):
    # each output unit shifted by N(0, (0.1 sigma)^2); the spread is taken out of the scale
    # so the tensor's variance is unchanged
    if len(shape) < 2:
        return x
    tau = 0.1
    shift = rng.normal(0.0, tau, shape[-1]) * _he_std(shape)
    return (x + shift) / math.sqrt(1 + tau * tau)


def _equicorrelated_groups(x, shape, rng):
    # units (last axis) in groups of 16 sharing a component: correlation 0.05 within a group
    if len(shape) < 2:
        return x
    rho, group = 0.05, 16
    shared = rng.standard_normal((*shape[:-1], -(-shape[-1] // group))) * _he_std(shape)
    return (
        math.sqrt(1 - rho) * x
        + math.sqrt(rho) * np.repeat(shared, group, axis=-1)[..., : shape[-1]]
    )


def _inverse_cdf_16_bit(shape, rng, dtype=np.float32):
    # N(0, sigma^2) through the inverse CDF of 16-bit uniforms: at most 65536 distinct values
    from scipy.special import ndtri

    u = (rng.integers(0, 2**16, size=shape) + 0.5) / 2**16
    return (ndtri(u) * _he_std(shape)).astype(dtype)


def _bfloat16_mantissa(x, shape, rng):
    # float32 values that carry bfloat16's 8-bit mantissa (computed in bfloat16, then cast)
    import ml_dtypes

    return x.astype(ml_dtypes.bfloat16).astype(np.float32)


TRUNC = ic.spec("variance_scaling", scale=1.0, mode="fan_in", distribution="truncated_normal")

DEFECTS = [
    Defect("scale off by 5%", "he_normal", normal_with_std(_scale_off), ("std",)),
    Defect("fan_in/fan_out swapped", "he_normal", normal_with_std(_fan_swap), ("std",)),
    Defect("fan_avg for fan_in", "he_normal", normal_with_std(_fan_avg), ("std",)),
    Defect("missing sqrt", "he_normal", normal_with_std(_missing_sqrt), ("std",)),
    Defect(
        "uniform bound set to the std", "he_uniform", uniform_with_bound(_he_std), ("std", "edge")
    ),
    Defect(
        "sqrt(24) for sqrt(6)",
        "xavier_uniform",
        uniform_with_bound(lambda s: math.sqrt(24.0 / (fans(s).fan_in + fans(s).fan_out))),
        ("support",),
    ),
    Defect(
        "uniform for normal at equal std",
        "he_normal",
        _uniform_for_normal,
        ("distribution", "tails"),
    ),
    Defect("normal for uniform at equal std", "he_uniform", _normal_for_uniform, ("support",)),
    Defect("truncation correction missing", TRUNC, _trunc_no_correction, ("std",)),
    Defect("clamped instead of truncated", TRUNC, _trunc_clamped, ("atoms",)),
    Defect(
        "rare 1000-sigma outliers", "he_normal", normal_with_std(_he_std, _outliers), ("tails",)
    ),
    Defect(
        "mean shifted by 0.1 sigma", "he_normal", normal_with_std(_he_std, _mean_shift), ("mean",)
    ),
    Defect(
        "uniform on [0, r)",
        "he_uniform",
        uniform_with_bound(lambda s: math.sqrt(6.0 / fans(s).fan_in), low_zero=True),
        ("mean",),
    ),
    Defect("constant tensor", "he_normal", _constant, ("distinct_units",)),
    Defect("zero tensor", "he_normal", _zeros, ("distinct_units", "std")),
    Defect(
        "identical units",
        "he_normal",
        normal_with_std(_he_std, _identical_units),
        ("distinct_units",),
    ),
    Defect(
        "tiled slices", "he_normal", normal_with_std(_he_std, _tiled_slices), ("distinct_units",)
    ),
    Defect("ignores its rng", "he_normal", _ignores_rng, ("independent_calls",)),
    Defect("draws from global state", "he_normal", _global_state, ("reproducible",)),
    Defect(
        "correlated units",
        "he_normal",
        normal_with_std(_he_std, _correlated_units),
        ("unit_correlation",),
    ),
    Defect(
        "rank-one spike, std intact",
        "he_normal",
        normal_with_std(_he_std, _rank_one_spike),
        ("spectrum",),
    ),
    Defect("receptive field ignored", "he_normal", normal_with_std(_receptive_ignored), ("std",)),
    Defect("square kernel assumed", "he_normal", normal_with_std(_square_kernel_assumed), ("std",)),
    Defect(
        "wrong only for small fans", "he_normal", normal_with_std(_wrong_for_small_fans), ("std",)
    ),
    Defect("a single NaN", "he_normal", normal_with_std(_he_std, _single_nan), ("finite",)),
    Defect("orthogonal without the sign fix", "orthogonal", _orthogonal_no_sign_fix, ("haar",)),
    Defect(
        "Gaussian claiming orthogonal", "orthogonal", _gaussian_claiming_orthogonal, ("orthogonal",)
    ),
    Defect("Student-t at the right std", "he_normal", _student_t, ("fourth_moment",)),
    Defect(
        "unit scales differ, std intact",
        "he_normal",
        normal_with_std(_he_std, _unit_scales_differ),
        ("unit_scales",),
    ),
    Defect(
        "unit means differ, mean intact",
        "he_normal",
        normal_with_std(_he_std, _unit_means_differ),
        ("unit_means",),
    ),
    Defect(
        "equicorrelated groups of 16 units",
        "he_normal",
        normal_with_std(_he_std, _equicorrelated_groups),
        ("unit_dependence",),
    ),
    Defect("inverse CDF of 16-bit uniforms", "he_normal", _inverse_cdf_16_bit, ("resolution",)),
    Defect(
        "bfloat16 mantissa in float32",
        "he_normal",
        normal_with_std(_he_std, _bfloat16_mantissa),
        ("resolution",),
    ),
]

#: The defects whose marginal std and mean are right: only their own check may see them.
HIDDEN = {"Student-t at the right std", "unit scales differ, std intact",
          "unit means differ, mean intact", "equicorrelated groups of 16 units",
          "inverse CDF of 16-bit uniforms"}
