"""What the synthetic data set looks like: sizes, dates, mixes and planted effects.

Defaults follow the product-analytics lab seed: 50,000 users from January 2023 to
December 2025, about 750,000 events, four segments, six acquisition channels and about
13 % paid conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sextant.errors import InvalidInput, Problem

SEGMENTS = {"individual": 0.55, "small_team": 0.25, "enterprise": 0.08, "education": 0.12}
CHANNELS = {
    "organic_search": 0.30,
    "referral": 0.18,
    "paid_search": 0.16,
    "social": 0.14,
    "direct": 0.14,
    "content": 0.08,
}
PLANS = ("free", "plus", "business", "enterprise")
COUNTRIES = {
    "US": 0.34,
    "GB": 0.10,
    "DE": 0.09,
    "FR": 0.08,
    "IN": 0.08,
    "BR": 0.06,
    "CA": 0.06,
    "JP": 0.05,
    "ES": 0.05,
    "AU": 0.04,
    "NL": 0.03,
    "MX": 0.02,
}
DEVICES = {"desktop": 0.68, "mobile": 0.27, "tablet": 0.05}

EXPERIMENT_FLAG = "onboarding-checklist"
EXPERIMENT_VARIANTS = ("control", "test")


@dataclass(frozen=True)
class SynthConfig:
    seed: int = 42
    users: int = 50_000
    events: int = 750_000  # target total of product events; the result lands within ~10 %
    start: date = date(2023, 1, 1)
    end: date = date(2025, 12, 31)  # inclusive
    paid_conversion: float = 0.13  # share of signed-up users who start a paid plan
    users_per_tenant: float = 4.0  # mean workspace size; individuals have their own
    experiment_lift: float = 0.10  # relative lift of activation in the test variant
    shops: int = 3  # e-commerce tenants with products, orders and inventory
    products_per_shop: int = 40
    orders_per_day: float = 60.0  # per shop, before weekly and seasonal patterns
    customers: int = 5_000  # customer-experience tables
    chunk_rows: int = 1_000_000  # rows per written chunk: bounds memory at any scale
    segments: dict[str, float] = field(default_factory=lambda: dict(SEGMENTS))
    channels: dict[str, float] = field(default_factory=lambda: dict(CHANNELS))

    def __post_init__(self) -> None:
        problems = []
        if self.end < self.start:
            problems.append(
                Problem("invalid_date_range", f"end {self.end} is before start {self.start}", "end")
            )
        if self.users < 1:
            problems.append(Problem("too_few_users", "users must be at least 1", "users"))
        if self.events < self.users:
            problems.append(
                Problem(
                    "too_few_events",
                    f"events ({self.events}) must be at least users ({self.users})",
                    "events",
                )
            )
        if problems:
            raise InvalidInput.from_problems(problems)
