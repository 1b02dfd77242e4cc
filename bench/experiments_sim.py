"""Calibration of `sextant.stats` by seeded simulation (`python -m bench experiments_sim`).

For a conversion metric (Bernoulli, 10 %) and a skewed revenue metric (gamma, mean 25,
sd 17.7), each run simulates many experiments of two variants and reads them with
`compare`:

- A/A (no true lift): the t-test should reject at about alpha = 5 %;
- a planted relative lift equal to the MDE from `stats.power` at 80 % power: the share
  rejected should be about the power `power_for_effect` predicts;
- both: the 95 % confidence and credible intervals should cover the true lift about 95 %
  of the time.

Each line shows the simulated rate with its 95 % Monte Carlo margin. The planted lift
shifts revenue (same variance) and scales the conversion rate, as the power model assumes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from sextant.stats import (
    Proportion,
    SampleMean,
    compare,
    minimum_detectable_effect,
    power_for_effect,
)

ALPHA = 0.05
CONVERSION = 0.10
GAMMA_SHAPE, GAMMA_SCALE = 2.0, 12.5  # mean 25, variance 312.5


@dataclass(frozen=True)
class Calibration:
    metric: str
    n_per_variant: int
    lift: float  # true relative lift
    sims: int
    rejected: float  # share with p < alpha
    expected_rejected: float  # alpha under A/A, the predicted power otherwise
    ci_coverage: float  # share of 95 % confidence intervals holding the true lift
    credible_coverage: float
    skipped: int  # experiments with no inference (warnings), left out of the rates


def _statistics(metric: str, n: int, lift: float, sims: int, rng: np.random.Generator):
    if metric == "conversion":
        c = rng.binomial(n, CONVERSION, sims)
        t = rng.binomial(n, CONVERSION * (1 + lift), sims)
        return [(Proportion(n, int(a)), Proportion(n, int(b))) for a, b in zip(c, t, strict=True)]
    mean = GAMMA_SHAPE * GAMMA_SCALE
    c = rng.gamma(GAMMA_SHAPE, GAMMA_SCALE, (sims, n))
    t = rng.gamma(GAMMA_SHAPE, GAMMA_SCALE, (sims, n)) + lift * mean
    return [
        (SampleMean(n, float(a), float(a2)), SampleMean(n, float(b), float(b2)))
        for a, a2, b, b2 in zip(c.sum(1), (c**2).sum(1), t.sum(1), (t**2).sum(1), strict=True)
    ]


def population(metric: str) -> tuple[float, float]:
    """Control's true mean and per-person variance."""
    if metric == "conversion":
        return CONVERSION, CONVERSION * (1 - CONVERSION)
    return GAMMA_SHAPE * GAMMA_SCALE, GAMMA_SHAPE * GAMMA_SCALE**2


def calibrate(metric: str, n: int, planted: bool, sims: int, seed: int) -> Calibration:
    """Simulate `sims` experiments; the planted lift is the MDE at 80 % power."""
    mean, variance = population(metric)
    lift = minimum_detectable_effect(mean, variance, n, alpha=ALPHA).effect if planted else 0.0
    assert lift is not None
    expected = power_for_effect(lift, mean, variance, n, alpha=ALPHA) if planted else ALPHA
    assert expected is not None
    rng = np.random.default_rng(seed)
    rejected = covered = credible = skipped = 0
    for control, treatment in _statistics(metric, n, lift, sims, rng):
        r = compare(control, treatment, alpha=ALPHA)
        if r.p_value is None:
            skipped += 1
            continue
        rejected += r.p_value < ALPHA
        covered += r.ci_low <= lift <= r.ci_high
        credible += r.credible_low <= lift <= r.credible_high
    done = sims - skipped
    return Calibration(
        metric, n, lift, sims, rejected / done, expected, covered / done, credible / done, skipped
    )


def margin(rate: float, sims: int) -> float:
    """95 % Monte Carlo margin of a simulated rate."""
    return 1.96 * math.sqrt(rate * (1 - rate) / sims)


def main(quick: bool = False) -> None:
    sims = 400 if quick else 2_000
    runs = [("conversion", 5_000), ("revenue", 1_000)]
    print(f"experiments_sim: {sims} simulated experiments per line, alpha {ALPHA}, seeded")
    header = (
        f"{'metric':<11}{'n/variant':>10}{'true lift':>11}{'rejected':>10}{'expected':>10}"
        f"{'±':>7}{'CI cover':>10}{'cred cover':>12}{'skipped':>9}{'s':>6}"
    )
    print(header)
    for i, (metric, n) in enumerate(runs):
        for planted in (False, True):
            start = time.perf_counter()
            c = calibrate(metric, n, planted, sims, seed=2024 + 2 * i + planted)
            took = time.perf_counter() - start
            print(
                f"{metric:<11}{n:>10,}{c.lift:>11.2%}{c.rejected:>10.1%}"
                f"{c.expected_rejected:>10.1%}{margin(c.expected_rejected, sims):>7.1%}"
                f"{c.ci_coverage:>10.1%}{c.credible_coverage:>12.1%}{c.skipped:>9}{took:>6.1f}"
            )
    print(f"coverage should be 95.0% ± {margin(0.95, sims):.1%}")


if __name__ == "__main__":
    main()
