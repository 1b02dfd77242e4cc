"""Experiment statistics on per-variant sufficient statistics (n, sums, sums of squares),
matching GrowthBook's engine (gbstats 0.8); no SQL and no rows here."""

from sextant.stats.bayesian import GaussianPrior
from sextant.stats.comparison import Comparison, compare, compare_variants
from sextant.stats.multiple import benjamini_hochberg, holm_bonferroni
from sextant.stats.power import (
    Mde,
    SampleSize,
    minimum_detectable_effect,
    power_for_effect,
    sample_size_per_variant,
)
from sextant.stats.srm import SRM_THRESHOLD, SRM_WARNING, SrmResult, check_srm
from sextant.stats.sufficient import (
    Proportion,
    Ratio,
    RegressionAdjusted,
    SampleMean,
    Statistic,
    pooled_theta,
)

__all__ = [
    "SRM_THRESHOLD",
    "SRM_WARNING",
    "Comparison",
    "GaussianPrior",
    "Mde",
    "Proportion",
    "Ratio",
    "RegressionAdjusted",
    "SampleMean",
    "SampleSize",
    "SrmResult",
    "Statistic",
    "benjamini_hochberg",
    "check_srm",
    "compare",
    "compare_variants",
    "holm_bonferroni",
    "minimum_detectable_effect",
    "pooled_theta",
    "power_for_effect",
    "sample_size_per_variant",
]
