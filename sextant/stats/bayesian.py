"""Bayesian readout of a treatment against control, as GrowthBook's `EffectBayesianABTest`:
a Gaussian model of the effect (relative lift or absolute difference), a flat prior unless
a proper one is given, chance to beat control, credible interval and expected loss (risk).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as st

from sextant.errors import InvalidInput


@dataclass(frozen=True)
class GaussianPrior:
    """A proper Normal(mean, stddev²) prior on the relative lift (GrowthBook's metric
    `prior_mean` and `prior_stddev`, defaults 0 and 0.1). No prior at all means flat."""

    mean: float = 0.0
    stddev: float = 0.1

    def __post_init__(self) -> None:
        if not self.stddev > 0:
            raise InvalidInput(
                "stats_bad_prior",
                f"the prior's standard deviation must be above 0, not {self.stddev}",
                field="prior_stddev",
            )


@dataclass(frozen=True)
class Posterior:
    """Normal posterior of the effect and what GrowthBook reads from it.

    `risk_control` is the expected loss of keeping control (the effect forgone when the
    treatment is better); `risk_treatment` the expected loss of shipping the treatment.
    """

    mean: float
    stddev: float
    chance_to_win: float
    credible_low: float
    credible_high: float
    risk_control: float
    risk_treatment: float


def risks(mean: float, stddev: float) -> tuple[float, float]:
    """Expected loss of keeping control, E[max(X, 0)], and of shipping the treatment,
    E[max(-X, 0)], for X ~ Normal(mean, stddev²): GrowthBook's `get_risk`, in closed form.

    >>> [round(r, 6) for r in risks(0.0, 1.0)]
    [0.398942, 0.398942]
    """
    z = mean / stddev
    density = stddev * float(st.norm.pdf(z))
    return (mean * float(st.norm.cdf(z)) + density, density - mean * float(st.norm.cdf(-z)))


def posterior(
    estimate: float,
    variance: float,
    *,
    prior_mean: float | None = None,
    prior_variance: float | None = None,
    alpha: float = 0.05,
    inverse: bool = False,
) -> Posterior:
    """Posterior of the effect from its estimate and sampling variance; a prior (mean and
    variance on the same scale as the estimate) is used only when both are given.

    `inverse` is for metrics where lower is better: chance to win is then P(effect < 0)
    and the two risks swap.

    >>> p = posterior(0.1, 0.0025)
    >>> round(p.chance_to_win, 4), round(p.credible_low, 4), round(p.credible_high, 4)
    (0.9772, 0.002, 0.198)
    """
    if prior_mean is not None and prior_variance is not None:
        precision = 1 / variance + 1 / prior_variance
        mean = (estimate / variance + prior_mean / prior_variance) / precision
    else:
        precision = 1 / variance
        mean = estimate
    stddev = math.sqrt(1 / precision)
    win = float(st.norm.sf(0, mean, stddev))
    low, high = (float(x) for x in st.norm.ppf([alpha / 2, 1 - alpha / 2], mean, stddev))
    risk_control, risk_treatment = risks(mean, stddev)
    if inverse:
        win = 1 - win
        risk_control, risk_treatment = risk_treatment, risk_control
    return Posterior(mean, stddev, win, low, high, risk_control, risk_treatment)
