"""Unit heterogeneity: units (output slices) whose means or scales differ while the tensor's
overall mean and std are right. From per-unit sums of z = (x - mean) / std, computed in
one chunked pass: a one-way ANOVA F test of the unit means (exact for a normal claim), and
Bartlett's test of equal unit variances with Layard's kurtosis correction (divided by
(k - 1) / 2: exact to first order for any claimed family, Bartlett's own for a normal).
Tensors pool by adding their statistics and degrees of freedom."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from initcheck.core.results import POWER, CheckResult
from initcheck.sharding.partials import UnitSums
from initcheck.stats.moments import check_alpha

#: Shortest unit whose mean is compared (below it the F test leans on normality).
MIN_UNIT_LENGTH = 8
#: Shortest unit whose variance is compared: Bartlett's log-variance statistic needs it.
MIN_SCALE_LENGTH = 32


def _mde(dof: float, alpha: float, per_unit_information: float) -> float:
    """The spread across units detected with probability POWER: the noncentrality lambda at
    which a chi-square on ``dof`` exceeds its alpha quantile with that probability (exact,
    scipy's chndtrinc), over the information per unit of squared spread."""
    crit = float(special.chdtri(dof, alpha))
    lam = float(special.chndtrinc(crit, dof, 1 - POWER))
    return math.sqrt(lam / per_unit_information)


def unit_means_test(
    parts: list[UnitSums], alpha: float, *, name: str = "unit_means"
) -> CheckResult:
    """One-way ANOVA across units, pooled over tensors: F = (between / dof_b) / (within /
    dof_w), F(dof_b, dof_w) under the claim. The MDE is the std of the unit means, in sigmas."""
    alpha = check_alpha(alpha)
    use = [p for p in parts if len(p.total) >= 2 and p.length >= MIN_UNIT_LENGTH]
    if not use:
        return CheckResult.skipped(
            name, alpha, f"no tensor with 2 units of >= {MIN_UNIT_LENGTH} elements"
        )
    between = within = dof_b = dof_w = info = 0.0
    for p in use:
        means = p.total / p.length
        between += p.length * float(((means - means.mean()) ** 2).sum())
        within += float((p.squares - p.total**2 / p.length).sum())
        dof_b += len(p.total) - 1
        dof_w += len(p.total) * (p.length - 1)
        info += len(p.total) * p.length
    if within <= 0:  # every unit constant: equal means pass, different ones cannot be chance
        f = math.inf if between > 0 else 1.0
    else:
        f = (between / dof_b) / (within / dof_w)
    pvalue = float(special.fdtrc(dof_b, dof_w, f)) if math.isfinite(f) else 0.0
    crit = float(special.fdtri(dof_b, dof_w, 1 - alpha))
    n = int(sum(len(q.total) * q.length for q in use))
    return CheckResult(
        name=name,
        passed=pvalue >= alpha,
        statistic=f,
        threshold=crit,
        pvalue=pvalue,
        alpha=alpha,
        n=n,
        mde=_mde(dof_b, alpha, info),
        detail=f"F = {f:.3f} over {int(dof_b) + len(use)} units (unit means' spread"
        f" {math.sqrt(max(0.0, between / info)):.4f} sigma), F <= {crit:.3f}",
        observed=f,
        expected=1.0,
    )


def unit_scales_test(
    parts: list[UnitSums], alpha: float, *, name: str = "unit_scales"
) -> CheckResult:
    """Bartlett's test of equal unit variances, divided by (kurtosis - 1) / 2 (Layard), pooled
    over tensors: chi-square with sum (units - 1) degrees of freedom under the claim. The
    MDE is the std across units of their log std (about the relative spread of unit stds)."""
    alpha = check_alpha(alpha)
    use = [p for p in parts if len(p.total) >= 2 and p.length >= MIN_SCALE_LENGTH]
    if not use:
        return CheckResult.skipped(
            name, alpha, f"no tensor with 2 units of >= {MIN_SCALE_LENGTH} elements"
        )
    stat = dof = info = 0.0
    spread = []
    constant_units: list[int] = []  # units of zero variance among varying ones
    for p in use:
        k, d = len(p.total), p.length
        var = np.maximum((p.squares - p.total**2 / d) / (d - 1), 0.0)
        pooled = float(var.mean())
        if pooled == 0:  # a constant tensor: no scale to compare (std and distinct_units see it)
            continue
        # a unit of zero variance among varying ones: infinitely unlikely under the claim
        bartlett = (k * (d - 1) * math.log(pooled) - (d - 1) * float(np.log(var).sum())
                    if var.min() > 0 else math.inf)
        constant_units += [int(u) for u in np.flatnonzero(var == 0)]
        c = 1 + (k / (d - 1) - 1 / (k * (d - 1))) / (3 * (k - 1))
        stat += bartlett / c / ((p.kurtosis - 1) / 2)
        dof += k - 1
        info += 4 * k * (d - 1) / (p.kurtosis - 1)
        spread.append(float(np.std(0.5 * np.log(np.maximum(var, 1e-300)))))
    if dof == 0:
        return CheckResult.skipped(name, alpha, "every unit constant: no scales to compare")
    pv = float(special.chdtrc(dof, stat)) if math.isfinite(stat) else 0.0
    crit = float(special.chdtri(dof, alpha))
    n = int(sum(len(q.total) * q.length for q in use))
    if constant_units:  # say what the tensor holds, not an infinite statistic
        units = ", ".join(map(str, constant_units[:5])) + (
            " ..." if len(constant_units) > 5 else ""
        )
        detail = (f"{len(constant_units)} unit(s) constant among varying ones (unit {units}:"
                  " every element equal, a zero row where a row was left unset)")
    else:
        detail = (f"chi2 = {stat:.1f} on {int(dof)} dof (kurtosis-corrected Bartlett; unit"
                  f" log-std spread {max(spread):.4f}), <= {crit:.1f}")
    return CheckResult(
        name=name, passed=pv >= alpha, statistic=stat, threshold=crit, pvalue=pv, alpha=alpha, n=n,
        mde=_mde(dof, alpha, info), detail=detail, observed=stat / dof, expected=1.0)
