"""A catalog query: which metric, over which local dates, at which grain, sliced and filtered
how, for which tenants. Validated here with the errors users see (SEMANTICS: Time).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from sextant.access.scope import limit_tenants
from sextant.config import WEEKDAYS, Weekday
from sextant.errors import InvalidInput, Problem

Grain = Literal["hour", "day", "week", "month"]

MAX_DAYS = 3 * 366 + 1  # about three years of day buckets
MAX_HOUR_DAYS = 31  # hour buckets: a month at most
MAX_BREAKDOWN = 3
# Presets (SEMANTICS: Time): "last N days" are the N complete days ending yesterday.
PRESETS = {
    "today": (0, 0),
    "yesterday": (1, 1),
    "last_7_days": (7, 1),
    "last_30_days": (30, 1),
    "last_90_days": (90, 1),
    "last_180_days": (180, 1),
    "last_365_days": (365, 1),
}


class RangeQuery(BaseModel):
    """What every query shares: the inclusive local dates `from`..`to` in `timezone`, the
    grain and week start, breakdowns, `where` conditions and the tenant scope. Metric
    queries and analysis queries extend it."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    date_from: date = Field(alias="from", description="first local date, YYYY-MM-DD")
    date_to: date = Field(alias="to", description="last local date (inclusive), YYYY-MM-DD")
    grain: Grain = Field(default="day", description="hour, day, week or month")
    timezone: str = Field(default="UTC", description="an IANA time zone such as Europe/Paris")
    week_start: Weekday = Field(default="monday", description="the first day of a week")
    breakdown: tuple[str, ...] = Field(
        default=(), description="dimension names or property paths to slice by (at most 3)"
    )
    where: tuple[str, ...] = Field(
        default=(), description="SQL conditions over dimension names, such as plan = 'free'"
    )
    tenants: tuple[str, ...] | None = Field(
        default=None, description="tenant ids the query may read; None: all"
    )

    @model_validator(mode="after")
    def _within_access(self) -> Self:
        """Serving a request, the query reads only its user's tenants (access/scope.py)."""
        tenants = limit_tenants(self.tenants)
        if tenants != self.tenants:
            object.__setattr__(self, "tenants", tenants)
        return self

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; expected an IANA name such as Europe/Paris"
            ) from None
        return value

    @field_validator("week_start", mode="before")
    @classmethod
    def _weekday(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("breakdown", "where", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @field_validator("breakdown")
    @classmethod
    def _few(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(value) > MAX_BREAKDOWN:
            raise ValueError(f"at most {MAX_BREAKDOWN} breakdowns, got {len(value)}")
        if len(set(value)) != len(value):
            raise ValueError("a breakdown is listed twice")
        return value

    @classmethod
    def parse(cls, data: dict[str, Any], *, today: date | None = None) -> Self:
        """Validate `data` (API body, CLI options) into a query, or raise InvalidInput
        listing every problem with its field."""
        data = _with_preset(data, today)
        try:
            query = cls.model_validate(data)
        except ValidationError as exc:
            problems = [
                Problem(
                    "query_invalid",
                    f"{'.'.join(str(p) for p in e['loc']) or 'query'}: {e['msg']}",
                    ".".join(str(p) for p in e["loc"]) or None,
                )
                for e in exc.errors()
            ]
            raise InvalidInput.from_problems(problems) from None
        query.check_range(today)
        return query

    def check_range(self, today: date | None = None) -> None:
        today = today or datetime.now(self.zone).date()
        if self.date_from > self.date_to:
            raise InvalidInput(
                "invalid_date_range",
                f"Invalid date range: from {self.date_from} is after to {self.date_to}",
                field="from",
            )
        if self.date_to > today:
            raise InvalidInput(
                "future_dates",
                f"Cannot select future dates: to {self.date_to} is after today ({today} in "
                f"{self.timezone})",
                field="to",
            )
        days = (self.date_to - self.date_from).days + 1
        limit = MAX_HOUR_DAYS if self.grain == "hour" else MAX_DAYS
        if days > limit:
            raise InvalidInput(
                "date_range_too_long",
                f"the range holds {days} days; at most {limit} at grain {self.grain}",
                field="from",
                hint="choose a coarser grain or a shorter range",
            )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_weekday(self) -> int:
        """Monday 0 ... Sunday 6."""
        return WEEKDAYS.index(self.week_start)

    def instant(self, day: date) -> datetime:
        """The UTC instant at which local `day` begins."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def bounds(self, days_before: int = 0, days_after: int = 0) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the local range, widened by whole local days."""
        first = self.date_from - timedelta(days=days_before)
        last = self.date_to + timedelta(days=1 + days_after)
        return self.instant(first), self.instant(last)


class MetricQuery(RangeQuery):
    """One metric over the inclusive local dates `from`..`to` in `timezone`."""

    metric: str = Field(description="a metric name from the catalog")
    parameters: dict[str, Any] = Field(
        default_factory=dict, description="values for the metric's declared parameters"
    )


def _with_preset(data: dict[str, Any], today: date | None) -> dict[str, Any]:
    """`range: last_7_days` (and the other PRESETS) instead of `from` and `to`."""
    preset = data.get("range")
    if preset is None:
        return data
    rest = {k: v for k, v in data.items() if k != "range"}
    if preset not in PRESETS:
        raise InvalidInput(
            "range_unknown",
            f"unknown range {preset!r}; expected one of {', '.join(PRESETS)}",
            field="range",
        )
    if "from" in rest or "to" in rest or "date_from" in rest or "date_to" in rest:
        raise InvalidInput("range_and_dates", "give a range or from/to, not both", field="range")
    zone = rest.get("timezone", "UTC")
    try:
        today = today or datetime.now(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        today = today or datetime.now(UTC).date()  # the zone itself is reported by validation
    back, end = PRESETS[preset]
    first = today - timedelta(days=back if back else 0)
    last = today - timedelta(days=end)
    return rest | {"from": first, "to": last}
