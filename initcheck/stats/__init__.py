"""Statistical primitives. Each takes samples (or their summaries) and returns a
``CheckResult`` with its statistic, threshold, p-value, alpha, n and minimum detectable
effect (MDE) at power ``POWER``, so a verdict always says how much it could have seen.
``ValueError`` is for bad input; a failed check is a ``CheckResult`` with ``passed=False``.
A statistical test (it spends alpha) is named ``*_test`` (``*_test_of`` where it combines
parts computed elsewhere, as over shards); a hard check (no alpha) is named by what it
asserts (``finite``, ``support``, ``duplicates``, ``equal``, ``orthonormality``).

By concern (docs/statistics.md states the null law and the power of each):

- ``moments``: the sigma tests (exact chi-square, moment z-test), the mean z-test,
  ``check_alpha``, ``sigma_mde``, over the ``Summary`` of ``initcheck.sharding.partials``;
- ``distribution``: the probability transform ``cdf`` and the exact KS test ``ks_test``;
- ``extremes``: ``finite``, ``support``, ``edge_test``, ``tails_test``, ``atoms_test``;
- ``structure``: ``duplicates``, ``max_cosine_test``, ``spectrum_test``, ``equal``;
- ``thinning``: the evenly spaced subsets every check reads (``spaced``, ``slices``, ...);
- ``orthogonal``: ``orthonormality``, ``haar_test``;
- ``copies``: ``near_copy_test`` (tensors that are near copies of each other);
- ``units``: ``unit_sums``, ``unit_means_test``, ``unit_scales_test`` (heterogeneous units);
- ``resolution``: ``resolution_test`` (values on a grid coarser than their dtype);
- ``moments.kurtosis_test`` (heavy or light tails at the right std) and
  ``structure.dependence_test`` (weak correlation spread over many unit pairs).
"""

from initcheck.core.results import POWER, CheckResult
from initcheck.sharding.partials import Summary, UnitSums, summarize, unit_sums
from initcheck.stats.copies import Slices, near_copy_test, sketched
from initcheck.stats.distribution import KS_EXACT_MAX, cdf, ks_pvalue, ks_test
from initcheck.stats.extremes import (
    atoms_test,
    edge_test,
    edge_test_of,
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
from initcheck.stats.orthogonal import haar_test, orthonormality
from initcheck.stats.resolution import Repeats, repeats, resolution_test
from initcheck.stats.structure import (
    DEPENDENCE_UNITS,
    MIN_COSINE_LENGTH,
    MIN_DEPENDENCE_LENGTH,
    MIN_DUPLICATE_LENGTH,
    CosinePart,
    PairSums,
    SpectrumPart,
    cosine_part,
    dependence_test,
    duplicates,
    equal,
    max_cosine_test,
    max_cosine_test_of,
    pair_cosine_test,
    pair_sums,
    spectrum_part,
    spectrum_test,
    spectrum_test_of,
    top_singular_value,
)
from initcheck.stats.thinning import (
    MAX_SLICE_LENGTH,
    MAX_SLICES,
    slices,
    spaced,
    submatrix,
    thin,
    unit_matrix,
    unit_submatrix,
)
from initcheck.stats.units import unit_means_test, unit_scales_test

__all__ = [
    "KS_EXACT_MAX",
    "MAX_SLICE_LENGTH",
    "MAX_SLICES",
    "MIN_DEPENDENCE_LENGTH",
    "MIN_COSINE_LENGTH",
    "MIN_DUPLICATE_LENGTH",
    "POWER",
    "CheckResult",
    "DEPENDENCE_UNITS",
    "Summary",
    "UnitSums",
    "atoms_test",
    "cdf",
    "check_alpha",
    "duplicates",
    "edge_test",
    "edge_test_of",
    "equal",
    "finite",
    "haar_test",
    "ks_pvalue",
    "ks_test",
    "max_cosine_test",
    "mean_test",
    "neighbours",
    "near_copy_test",
    "orthonormality",
    "pair_cosine_test",
    "sigma_chi2_test",
    "sigma_mde",
    "sigma_moment_test",
    "slices",
    "spaced",
    "Slices",
    "sketched",
    "spectrum_test",
    "submatrix",
    "summarize",
    "support",
    "tails_test",
    "thin",
    "top_singular_value",
    "unit_matrix",
    "unit_submatrix",
    "z_two_sided",
    "dependence_test",
    "kurtosis_test",
    "resolution_test",
    "unit_means_test",
    "PairSums",
    "pair_sums",
    "CosinePart",
    "cosine_part",
    "max_cosine_test_of",
    "SpectrumPart",
    "spectrum_part",
    "spectrum_test_of",
    "Repeats",
    "repeats",
    "unit_scales_test",
    "unit_sums",
]
