"""The definition models: one pydantic class per metric type, plus dimensions and event flags.

A metric is `Metric` (the fields every type shares) and the parameters of its `type`; the
classes are listed in `METRIC_TYPES`. Field descriptions double as the "expected ..." part
of load errors, so they say what a valid value looks like.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlglot import exp

from sextant.catalog.expressions import (
    ExpressionError,
    parse_filter,
    parse_formula,
    parse_source,
)
from sextant.catalog.tables import TABLES, table_columns
from sextant.errors import InvalidInput, Problem

Unit = Literal[
    "persons", "tenants", "sessions", "orders", "events", "count", "ratio", "percent",
    "seconds", "currency",
]  # fmt: skip
# "active" selects every event not flagged inactive (SEMANTICS: Identity and activity).
Selection = Literal["active", "feature", "collaboration"]

SNAKE_CASE = r"^[a-z][a-z0-9_]*$"


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _selector_shorthand(value: Any) -> Any:
    return {"events": value} if isinstance(value, str | list | tuple) else value


def refusal(code: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(code, message)


class Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class EventSelector(Definition):
    """Which events: listed names, or every event with a flag ("active" = not inactive).
    In YAML a plain name or list stands for `events`: `start: signed_up`."""

    events: tuple[str, ...] = Field(default=(), description="event names, such as [signed_up]")
    event_flag: Selection | None = Field(
        default=None, description="active, feature or collaboration (instead of events)"
    )

    @field_validator("events", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("event_flag")
    @classmethod
    def _not_both(cls, value: Selection | None, info: Any) -> Selection | None:
        if value is not None and info.data.get("events"):
            raise refusal("catalog_events_and_flag", "give events or event_flag, not both")
        return value


class Metric(Definition):
    """Fields every metric has. `parameters` names fields a query may set (`with_parameters`)."""

    kind: ClassVar[str] = ""
    events_only: ClassVar[bool] = False  # the type's rules are about events and persons
    name: str = Field(pattern=SNAKE_CASE, description="a snake_case name such as daily_signups")
    label: str = Field(min_length=1, description="a short title such as 'Daily active users'")
    description: str = Field(
        min_length=20, description="the tooltip: what is counted and the rules, in plain words"
    )
    owner: str = Field(min_length=1, description="the owning team, such as product or growth")
    unit: Unit = Field(description=f"one of {', '.join(Unit.__args__)}")
    type: str
    table: str = Field(default="events", description="a table such as events, orders, sessions")
    filter: str | None = Field(
        default=None, description="a SQL condition on the table's columns, such as plan = 'free'"
    )
    parameters: tuple[str, ...] = Field(
        default=(), description="names of this type's fields that a query may set"
    )

    @property
    def references(self) -> tuple[str, ...]:
        """Other metrics this one is computed from."""
        return ()

    @field_validator("table")
    @classmethod
    def _known_table(cls, value: str) -> str:
        if value not in TABLES:
            known = ", ".join(sorted(TABLES))
            raise refusal("catalog_unknown_table", f"unknown table {value!r}; known: {known}")
        if cls.events_only and value != "events":
            raise refusal("catalog_events_table_only", f"{cls.kind} metrics read table events only")
        return value

    @field_validator("filter")
    @classmethod
    def _predicate(cls, value: str | None, info: Any) -> str | None:
        if value is None:
            return None
        try:
            node = parse_filter(value)
        except ExpressionError as exc:
            raise refusal(exc.code, exc.message) from None
        check_columns(info.data.get("table"), [c.name for c in node.find_all(exp.Column)])
        return value

    @field_validator("parameters")
    @classmethod
    def _own_fields(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        own = sorted(set(cls.model_fields) - set(Metric.model_fields))
        for name in value:
            if name not in own:
                raise refusal(
                    "catalog_unknown_parameter",
                    f"{name!r} is not a parameter of {cls.kind} metrics; expected one of "
                    f"{', '.join(own) or '(none)'}",
                )
        return value

    def with_parameters(self, values: Mapping[str, Any]) -> Metric:
        """This metric with query-time values for the fields listed in `parameters`."""
        for name in values:
            if name not in self.parameters:
                raise InvalidInput(
                    "metric_parameter_unknown",
                    f"metric {self.name!r} takes no parameter {name!r}; it takes "
                    f"{', '.join(self.parameters) or 'none'}",
                    field=name,
                )
        data = self.model_dump(by_alias=True, exclude_unset=True) | dict(values)
        try:
            return type(self).model_validate(data)
        except ValidationError as exc:
            problems = [
                Problem("metric_parameter_invalid", f"{e['loc'][0]}: {e['msg']}", str(e["loc"][0]))
                for e in exc.errors()
            ]
            raise InvalidInput.from_problems(problems) from None


def check_columns(table: str | None, names: list[str]) -> None:
    if table is None:  # the table itself was refused; that error is reported already
        return
    known = table_columns(table)
    for name in names:
        if name not in known:
            raise refusal(
                "catalog_unknown_column",
                f"table {table} has no column {name!r}; columns: {', '.join(sorted(known))}",
            )


class EventMetric(Metric):
    """A metric over rows of its table; on events, optionally only some events."""

    events: tuple[str, ...] = Field(default=(), description="event names, such as [signed_up]")
    event_flag: Selection | None = Field(
        default=None, description="active, feature or collaboration (instead of events)"
    )

    @field_validator("events", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return _one_or_many(value)

    @field_validator("events", "event_flag")
    @classmethod
    def _events_table(cls, value: Any, info: Any) -> Any:
        if value and info.data.get("table", "events") != "events":
            raise refusal("catalog_events_need_events_table", "events apply to table events only")
        if info.field_name == "event_flag" and value and info.data.get("events"):
            raise refusal("catalog_events_and_flag", "give events or event_flag, not both")
        return value


class _Measured(EventMetric):
    of: str = Field(description="a column or property path, such as total_price")

    @field_validator("of")
    @classmethod
    def _source(cls, value: str, info: Any) -> str:
        try:
            source = parse_source(value)
        except ExpressionError as exc:
            raise refusal(exc.code, exc.message) from None
        if source.entity == "row":
            check_columns(info.data.get("table"), [source.column])
        return value


class CountMetric(EventMetric):
    """Rows (events, sessions, orders) matching the events and filter."""

    kind: ClassVar[str] = "count"
    type: Literal["count"]


class CountDistinctMetric(_Measured):
    """Distinct values of `of` (persons by default, resolved through identity merges)."""

    kind: ClassVar[str] = "count_distinct"
    type: Literal["count_distinct"]
    of: str = Field(default="person_id", description="a column or property path to count")


class SumMetric(_Measured):
    kind: ClassVar[str] = "sum"
    type: Literal["sum"]


class AverageMetric(_Measured):
    kind: ClassVar[str] = "average"
    type: Literal["average"]


class PercentileMetric(_Measured):
    """Exact continuous quantile (quantile_cont), identical on every engine."""

    kind: ClassVar[str] = "percentile"
    type: Literal["percentile"]
    quantile: float = Field(gt=0, lt=1, description="a fraction between 0 and 1, such as 0.95")


class _Composite(Metric):
    """Computed from other metrics: table and filter belong to those, not to this one."""

    @field_validator("table", "filter")
    @classmethod
    def _none(cls, value: Any, info: Any) -> Any:
        if value not in (None, "events"):
            raise refusal(
                "catalog_field_not_allowed",
                f"{cls.kind} metrics take no {info.field_name}; set it on the metrics used",
            )
        return value


class RatioMetric(_Composite):
    """numerator / denominator in each bucket and slice; None where the denominator is 0."""

    kind: ClassVar[str] = "ratio"
    type: Literal["ratio"]
    numerator: str = Field(pattern=SNAKE_CASE, description="a metric name")
    denominator: str = Field(pattern=SNAKE_CASE, description="a metric name")

    @property
    def references(self) -> tuple[str, ...]:
        return (self.numerator, self.denominator)


class DerivedMetric(_Composite):
    """A formula over other metrics' values in each bucket and slice."""

    kind: ClassVar[str] = "derived"
    type: Literal["derived"]
    expression: str = Field(description="arithmetic over metric names, such as a / NULLIF(b, 0)")

    @field_validator("expression")
    @classmethod
    def _formula(cls, value: str) -> str:
        try:
            parse_formula(value)
        except ExpressionError as exc:
            raise refusal(exc.code, exc.message) from None
        return value

    @property
    def references(self) -> tuple[str, ...]:
        return parse_formula(self.expression)[1]


class ActiveUsersMetric(EventMetric):
    """Distinct persons (or tenants) active in the window ending on each day."""

    kind: ClassVar[str] = "active_users"
    events_only: ClassVar[bool] = True
    type: Literal["active_users"]
    event_flag: Selection | None = Field(
        default="active", description="active, feature or collaboration (instead of events)"
    )
    window_days: int = Field(ge=1, le=90, description="days in the window, 1 to 90 (1, 7, 30)")
    window: Literal["rolling", "calendar"] = Field(
        default="rolling", description="rolling (days d-N+1..d) or calendar (day, week, month)"
    )
    of: Literal["person_id", "tenant_id"] = Field(
        default="person_id", description="person_id or tenant_id: who is counted"
    )
    min_days: int = Field(default=1, ge=1, description="distinct active days needed, >= 1")
    min_persons: int = Field(
        default=1, ge=1, description="for of: tenant_id, distinct active persons needed, >= 1"
    )

    @field_validator("window")
    @classmethod
    def _calendar(cls, value: str, info: Any) -> str:
        if value == "calendar" and info.data.get("window_days") not in (1, 7, 30):
            raise refusal("catalog_calendar_window", "a calendar window needs window_days 1, 7, 30")
        return value

    @field_validator("min_days")
    @classmethod
    def _fits(cls, value: int, info: Any) -> int:
        if value > info.data.get("window_days", value):
            raise refusal("catalog_min_days_too_large", "min_days may not exceed window_days")
        return value

    @field_validator("min_persons")
    @classmethod
    def _tenants_only(cls, value: int, info: Any) -> int:
        if value > 1 and info.data.get("of") != "tenant_id":
            raise refusal("catalog_min_persons_needs_tenants", "min_persons needs of: tenant_id")
        return value


_SELECTOR = {"description": "an event name, a list, or {event_flag: active}"}


class RetentionMetric(Metric):
    """Share of a start cohort active again exactly in period N (SEMANTICS: Retention)."""

    kind: ClassVar[str] = "retention"
    events_only: ClassVar[bool] = True
    type: Literal["retention"]
    unit: Unit = Field(default="ratio", description="ratio")
    start: EventSelector = Field(**_SELECTOR)
    return_: EventSelector = Field(
        default=EventSelector(event_flag="active"), alias="return", **_SELECTOR
    )
    period: int = Field(ge=0, le=366, description="the period N counted, 0 to 366")
    period_unit: Literal["day", "week", "month"] = Field(description="day, week or month")
    criterion: Literal["on", "on_or_after"] = Field(default="on", description="on or on_or_after")
    cohort: Literal["first_time", "recurring"] = Field(
        default="first_time", description="first_time or recurring"
    )
    periods: Literal["calendar", "rolling"] = Field(
        default="calendar", description="calendar, or rolling 24-hour windows (day unit only)"
    )

    @field_validator("start", "return_", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _selector_shorthand(value)


class ConversionMetric(Metric):
    """Share of persons doing `start` in the range who do `target` within N days after."""

    kind: ClassVar[str] = "conversion"
    events_only: ClassVar[bool] = True
    type: Literal["conversion"]
    unit: Unit = Field(default="ratio", description="ratio")
    start: EventSelector = Field(**_SELECTOR)
    target: EventSelector = Field(**_SELECTOR)
    within_days: int = Field(ge=1, le=366, description="days after the start event, 1 to 366")

    @field_validator("start", "target", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return _selector_shorthand(value)


class AdoptionMetric(Metric):
    """Distinct users of a feature / distinct active persons (SEMANTICS: Feature adoption)."""

    kind: ClassVar[str] = "adoption"
    events_only: ClassVar[bool] = True
    type: Literal["adoption"]
    unit: Unit = Field(default="ratio", description="ratio")
    feature: str | None = Field(
        default=None, description="an event flagged feature; unset gives one row per feature"
    )


METRIC_TYPES: dict[str, type[Metric]] = {
    cls.kind: cls
    for cls in (
        CountMetric,
        CountDistinctMetric,
        SumMetric,
        AverageMetric,
        PercentileMetric,
        RatioMetric,
        ActiveUsersMetric,
        RetentionMetric,
        ConversionMetric,
        AdoptionMetric,
        DerivedMetric,
    )
}
