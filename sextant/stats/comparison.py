"""One treatment against control: the frequentist and the Bayesian readout in one result.

Where GrowthBook returns placeholder zeros (zero control mean, no variance, fewer than two
persons), the values here are None and `warnings` carries a stable code saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sextant.errors import InvalidInput
from sextant.stats import bayesian, frequentist
from sextant.stats.sufficient import Ratio, RegressionAdjusted, Statistic, pooled_theta

Difference = Literal["relative", "absolute"]

# Stable warning codes, in the order they are reported.
TOO_FEW_PERSONS = "too_few_persons"  # a variant has fewer than two persons
ZERO_DENOMINATOR = "zero_denominator"  # a ratio metric's denominator sums to 0
ZERO_CONTROL_MEAN = "zero_control_mean"  # a relative lift over a control mean of 0
ZERO_VARIANCE = "zero_variance"  # every person in a variant has the same value
NEGATIVE_CONTROL_MEAN = "negative_control_mean"  # relative lift reads reversed; kept
NO_COVARIATE_VARIANCE = "no_covariate_variance"  # CUPED skipped: pre values do not vary
PRIOR_NEEDS_CONTROL_MEAN = "prior_needs_control_mean"  # relative prior, absolute, mean 0
BLOCKING = frozenset({TOO_FEW_PERSONS, ZERO_DENOMINATOR, ZERO_CONTROL_MEAN, ZERO_VARIANCE})


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control. `lift` is the relative lift (0.05 = +5 %) or, with
    difference="absolute", treatment minus control in the metric's unit; CUPED-adjusted
    when the statistics are `RegressionAdjusted`. Intervals are at 1 - alpha.

    Frequentist: `se`, Welch `df`, `ci_low`/`ci_high`, two-sided `p_value`.
    Bayesian: `chance_to_win`, `credible_low`/`credible_high`, `posterior_mean` (= lift
    under the flat prior), `risk_control` (expected loss of keeping control) and
    `risk_treatment` (expected loss of shipping the treatment).
    """

    difference: Difference
    control_mean: float | None
    treatment_mean: float | None
    lift: float | None
    se: float | None = None
    df: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    chance_to_win: float | None = None
    credible_low: float | None = None
    credible_high: float | None = None
    posterior_mean: float | None = None
    risk_control: float | None = None
    risk_treatment: float | None = None
    theta: float | None = None
    warnings: tuple[str, ...] = ()


def _check_args(control: Statistic, treatment: Statistic, difference: str, alpha: float) -> None:
    if type(control) is not type(treatment):
        raise InvalidInput(
            "stats_kind_mismatch",
            f"control is a {type(control).__name__} but the treatment a "
            f"{type(treatment).__name__}; a metric has the same kind in every variant",
        )
    if difference not in ("relative", "absolute"):
        raise InvalidInput(
            "stats_bad_difference",
            f"difference must be 'relative' or 'absolute', not {difference!r}",
            field="difference",
        )
    if not 0 < alpha < 1:
        raise InvalidInput(
            "stats_bad_alpha", f"alpha must be between 0 and 1, not {alpha}", field="alpha"
        )


def _warnings(control: Statistic, treatment: Statistic, relative: bool) -> list[str]:
    found = []
    if control.n < 2 or treatment.n < 2:
        found.append(TOO_FEW_PERSONS)
    ratios = [s for s in (control, treatment) if isinstance(s, Ratio)]
    if any(r.denominator.sum == 0 for r in ratios):
        found.append(ZERO_DENOMINATOR)
    base = control.unadjusted_mean
    if relative and base == 0:
        found.append(ZERO_CONTROL_MEAN)
    if any(v is not None and v <= 0 for v in (control.variance, treatment.variance)):
        found.append(ZERO_VARIANCE)
    if relative and base is not None and base < 0:
        found.append(NEGATIVE_CONTROL_MEAN)
    return found


def compare(
    control: Statistic,
    treatment: Statistic,
    *,
    difference: Difference = "relative",
    alpha: float = 0.05,
    prior: bayesian.GaussianPrior | None = None,
    inverse: bool = False,
) -> Comparison:
    """Compare a treatment's sufficient statistics with control's (same kind for both).

    `prior` is a proper Gaussian prior on the relative lift (None: flat); `inverse` marks
    a metric where lower is better (chance to win and risks flip, as in GrowthBook).
    """
    _check_args(control, treatment, difference, alpha)
    relative = difference == "relative"
    theta = None
    found: list[str] = []
    if isinstance(control, RegressionAdjusted) and isinstance(treatment, RegressionAdjusted):
        theta = pooled_theta(control, treatment)
        control, treatment = replace(control, theta=theta), replace(treatment, theta=theta)
        if theta == 0:
            found.append(NO_COVARIATE_VARIANCE)
    found = _warnings(control, treatment, relative) + found

    mean_c, mean_t = control.mean, treatment.mean
    base_c, base_t = control.unadjusted_mean, treatment.unadjusted_mean
    lift = None
    if mean_c is not None and mean_t is not None and not (relative and base_c == 0):
        lift = frequentist.difference(mean_c, mean_t, relative=relative, unadjusted_mean_c=base_c)
    result = Comparison(difference, base_c, base_t, lift, theta=theta, warnings=tuple(found))
    if lift is None or BLOCKING.intersection(found):
        return result

    var_c, var_t = control.variance, treatment.variance
    assert var_c is not None and var_t is not None and base_c is not None and base_t is not None
    variance = frequentist.difference_variance(
        var_c, base_c, control.n, var_t, base_t, treatment.n, relative=relative
    )
    df = frequentist.welch_df(var_c, control.n, var_t, treatment.n)
    test = frequentist.two_sided_t_test(lift, variance, df, alpha)
    result = replace(
        result,
        se=test.se,
        df=df,
        ci_low=test.ci_low,
        ci_high=test.ci_high,
        p_value=test.p_value,
    )

    prior_mean = prior_variance = None
    if prior is not None:
        # the prior is on the relative lift; an absolute readout rescales it (as gbstats)
        if not relative and base_c == 0:
            return replace(result, warnings=(*found, PRIOR_NEEDS_CONTROL_MEAN))
        scale = 1.0 if relative else abs(base_c)
        prior_mean, prior_variance = prior.mean * scale, pow(prior.stddev * scale, 2)
    post = bayesian.posterior(
        lift,
        variance,
        prior_mean=prior_mean,
        prior_variance=prior_variance,
        alpha=alpha,
        inverse=inverse,
    )
    return replace(
        result,
        chance_to_win=post.chance_to_win,
        credible_low=post.credible_low,
        credible_high=post.credible_high,
        posterior_mean=post.mean,
        risk_control=post.risk_control,
        risk_treatment=post.risk_treatment,
    )


def compare_variants(
    variants: Sequence[Statistic],
    *,
    control_index: int = 0,
    difference: Difference = "relative",
    alpha: float = 0.05,
    prior: bayesian.GaussianPrior | None = None,
    inverse: bool = False,
) -> list[Comparison | None]:
    """A/B/n: each variant against the control variant; None in the control's own slot.
    CUPED's theta is pooled per pair (control and that treatment), as in GrowthBook."""
    control = variants[control_index]
    return [
        None
        if i == control_index
        else compare(control, v, difference=difference, alpha=alpha, prior=prior, inverse=inverse)
        for i, v in enumerate(variants)
    ]
