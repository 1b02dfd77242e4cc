"""Two-sided Welch t-test of a treatment against control, on the relative lift (delta
method) or the absolute difference, as GrowthBook's `TwoSidedTTest`. Pure functions of
means, variances and counts; `comparison.compare` decides when they apply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as st


def difference(
    mean_c: float, mean_t: float, *, relative: bool, unadjusted_mean_c: float | None = None
) -> float:
    """Treatment minus control, over the (unadjusted) control mean when relative.

    >>> round(difference(0.10, 0.12, relative=True), 12)
    0.2
    >>> round(difference(0.10, 0.12, relative=False), 12)
    0.02
    """
    if not relative:
        return mean_t - mean_c
    base = mean_c if unadjusted_mean_c is None else unadjusted_mean_c
    return (mean_t - mean_c) / base


def difference_variance(
    var_c: float, mean_c: float, n_c: int, var_t: float, mean_t: float, n_t: int, *, relative: bool
) -> float:
    """Variance of `difference`: var_t/n_t + var_c/n_c, or its delta-method form for
    (mean_t - mean_c) / mean_c, with the unadjusted means.

    >>> difference_variance(4.0, 1.0, 100, 4.0, 1.0, 100, relative=False)
    0.08
    >>> difference_variance(4.0, 2.0, 100, 4.0, 2.0, 100, relative=True)
    0.02
    """
    if relative:
        return var_t / (pow(mean_c, 2) * n_t) + var_c * pow(mean_t, 2) / (pow(mean_c, 4) * n_c)
    return var_t / n_t + var_c / n_c


def welch_df(var_c: float, n_c: int, var_t: float, n_t: int) -> float:
    """Welch–Satterthwaite degrees of freedom (of the per-person variances, as gbstats).

    >>> round(welch_df(1.0, 10, 1.0, 10), 9)
    18.0
    """
    return pow(var_t / n_t + var_c / n_c, 2) / (
        pow(var_t, 2) / (pow(n_t, 2) * (n_t - 1)) + pow(var_c, 2) / (pow(n_c, 2) * (n_c - 1))
    )


@dataclass(frozen=True)
class TTest:
    """A two-sided t-test of `estimate` against 0 with standard error `se`."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p_value: float


def two_sided_t_test(estimate: float, variance: float, df: float, alpha: float = 0.05) -> TTest:
    """p-value and the (1 - alpha) interval estimate +- t(1 - alpha/2, df) * se.

    The p-value is 2 * sf(|t|) rather than gbstats' 2 * (1 - cdf(|t|)): equal where both
    are accurate, and not rounded to 0 below about 1e-16.

    >>> r = two_sided_t_test(1.0, 0.25, 1e9)
    >>> round(r.se, 6), round(r.ci_low, 4), round(r.ci_high, 4), round(r.p_value, 6)
    (0.5, 0.02, 1.98, 0.0455)
    """
    se = math.sqrt(variance)
    width = float(st.t.ppf(1 - alpha / 2, df)) * se
    p_value = float(2 * st.t.sf(abs(estimate / se), df))
    return TTest(estimate, se, df, estimate - width, estimate + width, min(p_value, 1.0))
