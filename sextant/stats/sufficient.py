"""Per-variant sufficient statistics (persons, sums, sums of squares and of products) and
the means and variances GrowthBook's engine derives from them. Nothing here reads rows:
the SQL side supplies the sums. An undefined mean or variance is None, never a made-up 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from sextant.errors import InvalidInput


def _check_count(n: int, what: str) -> None:
    if n < 0:
        raise InvalidInput("stats_negative_count", f"{what} is {n}; a count cannot be negative")


class _PerPerson:
    """The mean of a per-person value from its persons `n` and its `sum`."""

    n: int
    sum: float

    @property
    def mean(self) -> float | None:
        return self.sum / self.n if self.n > 0 else None

    @property
    def unadjusted_mean(self) -> float | None:
        return self.mean


@dataclass(frozen=True)
class SampleMean(_PerPerson):
    """A numeric metric per person: persons, the sum of their values and of their squares.

    >>> s = SampleMean(n=4, sum=10.0, sum_squares=30.0)
    >>> s.mean, round(s.variance, 6)
    (2.5, 1.666667)
    >>> SampleMean(n=1, sum=3.0, sum_squares=9.0).variance is None
    True
    """

    n: int
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_count(self.n, "n")

    @property
    def variance(self) -> float | None:
        """Sample variance (divisor n - 1); None below two persons."""
        if self.n < 2:
            return None
        return (self.sum_squares - pow(self.sum, 2) / self.n) / (self.n - 1)


@dataclass(frozen=True)
class Proportion(_PerPerson):
    """A 0/1 metric per person (converted or not): persons and how many converted.

    The variance is the binomial p(1 - p), as GrowthBook uses (no n - 1 correction).

    >>> p = Proportion(n=200, sum=50)
    >>> p.mean, p.variance
    (0.25, 0.1875)
    """

    n: int
    sum: float

    def __post_init__(self) -> None:
        _check_count(self.n, "n")
        if not 0 <= self.sum <= self.n:
            raise InvalidInput(
                "stats_proportion_out_of_range",
                f"{self.sum} conversions among {self.n} persons; need 0 <= conversions <= n",
            )

    @property
    def sum_squares(self) -> float:
        return self.sum  # each value is 0 or 1

    @property
    def variance(self) -> float | None:
        mean = self.mean
        return None if mean is None else mean * (1 - mean)


Component: TypeAlias = SampleMean | Proportion


def _covariance(a: Component, b: Component, sum_of_products: float) -> float | None:
    n = a.n
    if n < 2:
        return None
    return (sum_of_products - a.sum * b.sum / n) / (n - 1)


def _same_persons(a: Component, b: Component, what: str) -> None:
    if a.n != b.n:
        raise InvalidInput(
            "stats_n_mismatch",
            f"{what}: the two parts count different persons ({a.n} and {b.n})",
        )


@dataclass(frozen=True)
class Ratio:
    """A ratio of two per-person sums over a variant (revenue per order): numerator and
    denominator statistics over the same persons and the sum of numerator * denominator.

    Mean is sum(numerator) / sum(denominator); variance is the delta method's, with the
    covariance, as GrowthBook's `RatioStatistic`.

    >>> r = Ratio(SampleMean(3, 30.0, 500.0), SampleMean(3, 3.0, 5.0), 40.0)
    >>> r.mean, r.variance
    (10.0, 100.0)
    """

    numerator: Component
    denominator: Component
    sum_of_products: float

    def __post_init__(self) -> None:
        _same_persons(self.numerator, self.denominator, "ratio")

    @property
    def n(self) -> int:
        return self.numerator.n

    @property
    def mean(self) -> float | None:
        if self.n == 0 or self.denominator.sum == 0:
            return None
        return self.numerator.sum / self.denominator.sum

    @property
    def unadjusted_mean(self) -> float | None:
        return self.mean

    @property
    def covariance(self) -> float | None:
        return _covariance(self.numerator, self.denominator, self.sum_of_products)

    @property
    def variance(self) -> float | None:
        """Delta-method variance of one person's numerator / denominator."""
        cov = self.covariance
        m_var, d_var = self.numerator.variance, self.denominator.variance
        m_mean, d_mean = self.numerator.mean, self.denominator.mean
        if cov is None or m_var is None or d_var is None or not d_mean or m_mean is None:
            return None
        return (
            m_var / pow(d_mean, 2)
            - 2 * cov * m_mean / pow(d_mean, 3)
            + pow(m_mean, 2) * d_var / pow(d_mean, 4)
        )


@dataclass(frozen=True)
class RegressionAdjusted:
    """CUPED: the metric after exposure (`post`), the same metric before it (`pre`, the
    covariate) over the same persons, and the sum of post * pre.

    `theta` is the regression slope; `compare` sets it from the pooled control and
    treatment as GrowthBook does (`pooled_theta`). Left None, it counts as 0 (no adjustment).

    >>> r = RegressionAdjusted(SampleMean(4, 10.0, 30.0), SampleMean(4, 8.0, 20.0), 24.0, 1.0)
    >>> r.mean, r.unadjusted_mean, round(r.variance, 6)
    (0.5, 2.5, 0.333333)
    """

    post: Component
    pre: Component
    sum_of_products: float
    theta: float | None = None

    def __post_init__(self) -> None:
        _same_persons(self.post, self.pre, "regression adjustment")

    @property
    def n(self) -> int:
        return self.post.n

    @property
    def mean(self) -> float | None:
        post, pre = self.post.mean, self.pre.mean
        if post is None or pre is None:
            return None
        return post - (self.theta or 0.0) * pre

    @property
    def unadjusted_mean(self) -> float | None:
        return self.post.mean

    @property
    def covariance(self) -> float | None:
        return _covariance(self.post, self.pre, self.sum_of_products)

    @property
    def variance(self) -> float | None:
        cov, post, pre = self.covariance, self.post.variance, self.pre.variance
        if cov is None or post is None or pre is None:
            return None
        theta = self.theta or 0.0
        return post + pow(theta, 2) * pre - 2 * theta * cov


Statistic: TypeAlias = SampleMean | Proportion | Ratio | RegressionAdjusted


def _pool(a: Component, b: Component) -> Component:
    if isinstance(a, Proportion) and isinstance(b, Proportion):
        return Proportion(a.n + b.n, a.sum + b.sum)
    if isinstance(a, SampleMean) and isinstance(b, SampleMean):
        return SampleMean(a.n + b.n, a.sum + b.sum, a.sum_squares + b.sum_squares)
    raise InvalidInput(
        "stats_kind_mismatch",
        f"cannot pool a {type(a).__name__} with a {type(b).__name__}; "
        "a metric has the same kind in every variant",
    )


def pooled_theta(control: RegressionAdjusted, treatment: RegressionAdjusted) -> float:
    """CUPED slope cov(post, pre) / var(pre) over both variants pooled (GrowthBook's
    `compute_theta`); 0 when the pooled pre or post values do not vary.

    >>> a = RegressionAdjusted(SampleMean(2, 3.0, 5.0), SampleMean(2, 3.0, 5.0), 5.0)
    >>> pooled_theta(a, a)
    1.0
    """
    post = _pool(control.post, treatment.post)
    pre = _pool(control.pre, treatment.pre)
    if not pre.variance or not post.variance:
        return 0.0
    cov = _covariance(post, pre, control.sum_of_products + treatment.sum_of_products)
    assert cov is not None  # pooled variances exist, so n >= 2
    return cov / pre.variance
