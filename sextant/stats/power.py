"""Power of the two-sided test of a relative lift, the minimum detectable effect for a
per-variant sample, and the sample needed for an effect: the normal approximation of
GrowthBook's power calculator (`powerEst`, `findMde`), both variants with control's variance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as st

from sextant.errors import InvalidInput, Problem
from sextant.stats.comparison import TOO_FEW_PERSONS, ZERO_CONTROL_MEAN, ZERO_VARIANCE
from sextant.stats.frequentist import difference_variance


@dataclass(frozen=True)
class Mde:
    """Smallest relative lift (0.05 = +5 %) found with probability `power` at `alpha`."""

    effect: float | None
    n_per_variant: float
    alpha: float
    power: float
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class SampleSize:
    """Persons per variant for a relative `effect` to be found with probability `power`."""

    n_per_variant: int | None
    effect: float
    alpha: float
    power: float
    warnings: tuple[str, ...] = ()


def _check(alpha: float, power: float | None = None, effect: float | None = None) -> None:
    problems = []
    if not 0 < alpha < 1:
        problems.append(Problem("stats_bad_alpha", f"alpha must be in (0, 1), not {alpha}"))
    if power is not None and not alpha < power < 1:
        problems.append(
            Problem("power_bad_target", f"power must be in (alpha, 1), not {power}", "power")
        )
    if effect is not None and effect == 0:
        problems.append(Problem("power_effect_zero", "an effect of 0 needs infinite persons"))
    if problems:
        raise InvalidInput.from_problems(problems)


def _data_warnings(mean: float | None, variance: float | None) -> tuple[str, ...]:
    if mean is None or variance is None:
        return (TOO_FEW_PERSONS,)
    found = []
    if mean == 0:
        found.append(ZERO_CONTROL_MEAN)
    if not variance > 0:
        found.append(ZERO_VARIANCE)
    return tuple(found)


def _z(alpha: float, power: float) -> float:
    return float(st.norm.ppf(1 - alpha / 2) - st.norm.ppf(1 - power))


def power_for_effect(
    effect: float, mean: float, variance: float, n_per_variant: float, *, alpha: float = 0.05
) -> float | None:
    """Probability the two-sided test at `alpha` is significant when the true relative lift
    is `effect` (powerEst); None when the mean is 0 or the variance not positive.

    >>> round(power_for_effect(0.05, 0.1, 0.09, 59_409), 4)
    0.8
    """
    _check(alpha)
    if _data_warnings(mean, variance) or n_per_variant <= 0:
        return None
    treatment_mean = mean * (1 + effect)
    se = math.sqrt(
        difference_variance(
            variance, mean, n_per_variant, variance, treatment_mean, n_per_variant, relative=True
        )
    )
    z_star = float(st.norm.ppf(1 - alpha / 2))
    return float(st.norm.sf(z_star - effect / se) + st.norm.cdf(-z_star - effect / se))


def minimum_detectable_effect(
    mean: float | None,
    variance: float | None,
    n_per_variant: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> Mde:
    """The positive relative MDE for control's mean and per-person variance (findMde).

    It solves effect = z * se(effect), z = z(1 - alpha/2) + z(power), for the delta-method
    se of the relative lift. When no positive effect qualifies (too few persons) the
    effect is None with `too_few_persons`; GrowthBook's calculator returns a negative
    number there.

    >>> round(minimum_detectable_effect(0.1, 0.09, 59_409).effect, 4)
    0.05
    """
    _check(alpha, power)
    found = _data_warnings(mean, variance)
    if not found and n_per_variant <= 0:
        found = (TOO_FEW_PERSONS,)
    if found:
        return Mde(None, n_per_variant, alpha, power, found)
    assert mean is not None and variance is not None
    z = _z(alpha, power)
    sigma2 = variance / n_per_variant
    a = 1 - z**2 * sigma2 / mean**2
    if a <= 0:
        return Mde(None, n_per_variant, alpha, power, (TOO_FEW_PERSONS,))
    b = -2 * mean
    c = mean**2 - z**2 * sigma2
    treatment_mean = (-b + math.sqrt(b**2 - 4 * a * c)) / (2 * a)
    return Mde((treatment_mean - mean) / mean, n_per_variant, alpha, power)


def sample_size_per_variant(
    effect: float,
    mean: float | None,
    variance: float | None,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> SampleSize:
    """Persons per variant so a relative `effect` is found with probability `power`: the
    inverse of `minimum_detectable_effect`, rounded up.

    >>> sample_size_per_variant(0.05, 0.1, 0.09).n_per_variant
    59409
    """
    _check(alpha, power, effect)
    found = _data_warnings(mean, variance)
    if found:
        return SampleSize(None, effect, alpha, power, found)
    assert mean is not None and variance is not None
    z = _z(alpha, power)
    n = z**2 * variance * (1 + (1 + effect) ** 2) / (mean**2 * effect**2)
    return SampleSize(max(2, math.ceil(n)), effect, alpha, power)
