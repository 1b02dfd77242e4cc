"""Sample-ratio mismatch: a chi-squared goodness-of-fit test of the persons exposed per
variant against the configured weights (GrowthBook's `check_srm`, scipy's `chisquare`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as st

from sextant.errors import InvalidInput, Problem

SRM_THRESHOLD = 0.001
SRM_WARNING = (
    "The persons exposed per variant do not match the configured split (sample-ratio "
    "mismatch, p < 0.001). Assignment or exposure logging is likely broken, so the "
    "results may be biased; find the cause before trusting them."
)
# Stable warning codes.
SAMPLE_RATIO_MISMATCH = "sample_ratio_mismatch"
NO_EXPOSURES = "no_exposures"
EXPOSURES_IN_ZERO_WEIGHT_VARIANT = "exposures_in_zero_weight_variant"


@dataclass(frozen=True)
class SrmResult:
    """`p_value` is None when nobody is exposed; `expected` is the persons each variant
    should have under the weights."""

    p_value: float | None
    chi_squared: float | None
    expected: tuple[float, ...]
    warnings: tuple[str, ...]

    @property
    def mismatch(self) -> bool:
        return SAMPLE_RATIO_MISMATCH in self.warnings

    @property
    def message(self) -> str | None:
        return SRM_WARNING if self.mismatch else None


def _validate(counts: Sequence[int], weights: Sequence[float]) -> None:
    problems = []
    if len(counts) != len(weights):
        problems.append(
            Problem(
                "srm_weights_length",
                f"{len(counts)} variants but {len(weights)} weights",
                "weights",
            )
        )
    if len(counts) < 2:
        problems.append(Problem("srm_needs_two_variants", "SRM needs two variants", "counts"))
    if any(c < 0 for c in counts):
        problems.append(Problem("stats_negative_count", "a count is negative", "counts"))
    if any(w < 0 for w in weights) or not sum(weights) > 0:
        problems.append(
            Problem("srm_bad_weights", "weights must be >= 0 with a positive total", "weights")
        )
    if problems:
        raise InvalidInput.from_problems(problems)


def check_srm(counts: Sequence[int], weights: Sequence[float]) -> SrmResult:
    """Chi-squared test of `counts` (persons per variant) against `weights` (any scale).

    Variants weighted 0 are left out of the test (GrowthBook skips them in the statistic
    but still counts them in the degrees of freedom); exposures there get a warning.

    >>> r = check_srm([5000, 5300], [0.5, 0.5])
    >>> round(r.p_value, 5), r.mismatch
    (0.00312, False)
    >>> check_srm([5000, 5600], [1, 1]).message is not None
    True
    """
    _validate(counts, weights)
    total_weight = sum(weights)
    total = sum(counts)
    expected = tuple(w / total_weight * total for w in weights)
    found = []
    if any(c > 0 for c, w in zip(counts, weights, strict=True) if w == 0):
        found.append(EXPOSURES_IN_ZERO_WEIGHT_VARIANT)
    if total == 0:
        return SrmResult(None, None, expected, (NO_EXPOSURES, *found))
    kept = [(c, e) for c, e, w in zip(counts, expected, weights, strict=True) if w > 0]
    if len(kept) < 2:
        return SrmResult(None, None, expected, tuple(found))
    chi_squared = sum((o - e) ** 2 / e for o, e in kept)
    p_value = float(st.chi2.sf(chi_squared, len(kept) - 1))
    if p_value < SRM_THRESHOLD:
        found.insert(0, SAMPLE_RATIO_MISMATCH)
    return SrmResult(p_value, float(chi_squared), expected, tuple(found))
