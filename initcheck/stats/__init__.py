"""Statistical primitives. Each takes samples (or their summaries) and returns a
``CheckResult`` with its statistic, threshold, p-value, alpha, n and minimum detectable
effect (MDE) at power ``POWER``, so a verdict always says how much it could have seen.
``ValueError`` is for bad input; a failed check is a ``CheckResult`` with ``passed=False``.

By concern (docs/statistics.md states the null law and the power of each):

- ``moments``: ``Summary``/``summarize``, the sigma tests (exact chi-square, moment z-test),
  the mean z-test, ``check_alpha``, ``sigma_mde``;
- ``distribution``: the probability transform ``cdf`` and the exact KS test ``ks_uniform``;
- ``extremes``: ``finite``, ``support``, ``edge``, ``tails_test``, ``atoms``;
- ``structure``: ``duplicates``, ``max_cosine``, ``spectrum``, ``equal``, thinning;
- ``orthogonal``: ``orthonormality``, ``haar``;
- ``units``: ``unit_sums``, ``unit_means_test``, ``unit_scales_test`` (heterogeneous units);
- ``resolution``: ``resolution_test`` (values on a grid coarser than their dtype);
- ``moments.kurtosis_test`` (heavy or light tails at the right std) and
  ``structure.dependence`` (weak correlation spread over many unit pairs).
"""

from initcheck.core.results import POWER, CheckResult
from initcheck.sharding.partials import Summary, UnitSums, summarize, unit_sums
from initcheck.stats.distribution import KS_EXACT_MAX, cdf, ks_pvalue, ks_uniform
from initcheck.stats.extremes import (
    atoms,
    edge,
    edge_from_extremes,
    finite,
    neighbours,
    support,
    tails_test,
)
from initcheck.stats.moments import (
    check_alpha,
    kurtosis_test,
    mean_test,
    sigma_chi2_test,
    sigma_mde,
    sigma_moment_test,
    z_two_sided,
)
from initcheck.stats.orthogonal import haar, orthonormality
from initcheck.stats.resolution import Repeats, repeats, resolution_test
from initcheck.stats.structure import (
    DEPENDENCE_UNITS,
    MAX_SLICES,
    MIN_COSINE_LENGTH,
    MIN_DEPENDENCE_LENGTH,
    MIN_DUPLICATE_LENGTH,
    CosinePart,
    PairSums,
    SpectrumPart,
    cosine_part,
    dependence,
    duplicates,
    equal,
    max_cosine,
    max_cosine_of,
    pair_cosine,
    pair_sums,
    slices,
    spaced,
    spectrum,
    spectrum_of,
    spectrum_part,
    submatrix,
    thin,
    top_singular_value,
    unit_matrix,
)
from initcheck.stats.units import unit_means_test, unit_scales_test

__all__ = [
    "KS_EXACT_MAX",
    "MAX_SLICES",
    "MIN_DEPENDENCE_LENGTH",
    "MIN_COSINE_LENGTH",
    "MIN_DUPLICATE_LENGTH",
    "POWER",
    "CheckResult",
    "DEPENDENCE_UNITS",
    "Summary",
    "UnitSums",
    "atoms",
    "cdf",
    "check_alpha",
    "duplicates",
    "edge",
    "edge_from_extremes",
    "equal",
    "finite",
    "haar",
    "ks_pvalue",
    "ks_uniform",
    "max_cosine",
    "mean_test",
    "neighbours",
    "orthonormality",
    "pair_cosine",
    "sigma_chi2_test",
    "sigma_mde",
    "sigma_moment_test",
    "slices",
    "spaced",
    "spectrum",
    "submatrix",
    "summarize",
    "support",
    "tails_test",
    "thin",
    "top_singular_value",
    "unit_matrix",
    "z_two_sided",
    "dependence",
    "kurtosis_test",
    "resolution_test",
    "unit_means_test",
    "PairSums",
    "pair_sums",
    "CosinePart",
    "cosine_part",
    "max_cosine_of",
    "SpectrumPart",
    "spectrum_part",
    "spectrum_of",
    "Repeats",
    "repeats",
    "unit_scales_test",
    "unit_sums",
]
