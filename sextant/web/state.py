"""What a dashboard view shows, read from and written to its URL: the date range (a preset or
custom dates), the filters (tenant, plan, country, segment, channel), the time zone and the
page's own options. Any view is a shareable link; a bad value gets the seed's message beside
its control instead of a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlglot import exp

from sextant.catalog.query import PRESETS, RangeQuery
from sextant.errors import InvalidInput

RANGES = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
}
DEFAULT_RANGE = "last_7_days"  # the seed's Monday question: last week's sessions
FILTERS = {  # URL parameter -> (label, catalog dimension)
    "plan": ("Plan", "plan"),
    "country": ("Country", "country"),
    "segment": ("Segment", "segment"),
    "channel": ("Channel", "channel"),
}
MAX_VALUE = 200  # characters of a filter value


@dataclass(frozen=True)
class FieldError:
    field: str  # the URL parameter at fault, which names the control
    message: str


@dataclass(frozen=True)
class ViewState:
    range: str  # a RANGES key or "custom"
    date_from: date
    date_to: date
    timezone: str
    today: date
    tenant: str | None = None
    filters: dict[str, str] = field(default_factory=dict)  # FILTERS key -> value
    options: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the page's own
    errors: tuple[FieldError, ...] = ()

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    def option(self, name: str, default: str | None = None) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else default

    def error(self, name: str) -> str | None:
        return next((e.message for e in self.errors if e.field == name), None)

    def body(self) -> dict[str, Any]:
        """The range, time zone and filters as an analysis or metric query body."""
        where = [
            exp.EQ(this=exp.column(FILTERS[k][1]), expression=exp.Literal.string(v)).sql()
            for k, v in sorted(self.filters.items())
        ]
        return {
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "timezone": self.timezone,
            "where": where,
            "tenants": None if self.tenant is None else [self.tenant],
        }

    def previous(self) -> ViewState:
        """The same number of days just before this range (for "change vs previous")."""
        return replace(
            self,
            date_from=self.date_from - timedelta(days=self.days),
            date_to=self.date_from - timedelta(days=1),
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """This view's URL parameters with `changes` (None removes one)."""
        out: dict[str, Any] = {"range": self.range}
        if self.range == "custom":
            out |= {"from": self.date_from.isoformat(), "to": self.date_to.isoformat()}
        if self.tenant:
            out["tenant"] = self.tenant
        out |= self.filters
        out["tz"] = self.timezone
        out |= {k: list(v) for k, v in self.options.items()}
        out |= changes
        return {k: v for k, v in out.items() if v not in (None, "", [])}

    def query_string(self, **changes: Any) -> str:
        return urlencode(self.params(**changes), doseq=True)

    def shared_query(self) -> str:
        """The range, filters and time zone only: what a link to another page carries."""
        return replace(self, options={}).query_string()


def read_state(
    params: Mapping[str, list[str]],
    *,
    default_timezone: str,
    today: date | None = None,
    page_options: tuple[str, ...] = (),
) -> ViewState:
    """The view in `params` (each URL parameter with all its values). A bad value becomes an
    error on the state, shown beside its control; a page with errors computes nothing."""
    errors: list[FieldError] = []

    def one(name: str) -> str | None:
        values = [v.strip() for v in params.get(name, ()) if v.strip()]
        return values[-1] if values else None

    zone_name = one("tz") or default_timezone
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        errors.append(FieldError("tz", f"Unknown time zone {zone_name!r}: pick one from the list"))
        zone_name, zone = default_timezone, ZoneInfo(default_timezone)
    today = today or datetime.now(zone).date()

    preset = one("range") or DEFAULT_RANGE
    if one("from") or one("to"):
        preset = "custom"
    if preset not in (*RANGES, "custom"):
        errors.append(FieldError("range", f"Unknown range {preset!r}: pick a preset or dates"))
        preset = DEFAULT_RANGE
    date_from, date_to = _preset_dates(DEFAULT_RANGE if preset == "custom" else preset, today)
    if preset == "custom":
        date_from, date_to, problem = _custom_dates(one("from"), one("to"), zone_name, today)
        if problem:
            errors.append(problem)

    filters = {}
    for name in FILTERS:
        value = one(name)
        if value is not None:
            if len(value) > MAX_VALUE:
                errors.append(
                    FieldError(name, f"{FILTERS[name][0]}: at most {MAX_VALUE} characters")
                )
            else:
                filters[name] = value
    tenant = one("tenant")
    if tenant is not None and len(tenant) > MAX_VALUE:
        errors.append(FieldError("tenant", f"Workspace: at most {MAX_VALUE} characters"))
        tenant = None
    options = {
        name: tuple(v.strip() for v in params[name] if v.strip())
        for name in page_options
        if params.get(name)
    }
    return ViewState(
        range=preset,
        date_from=date_from,
        date_to=date_to,
        timezone=zone_name,
        today=today,
        tenant=tenant,
        filters=filters,
        options={k: v for k, v in options.items() if v},
        errors=tuple(errors),
    )


def _preset_dates(preset: str, today: date) -> tuple[date, date]:
    """The dates of a preset (SEMANTICS: Time): complete days ending yesterday.

    >>> _preset_dates("last_7_days", date(2024, 11, 18))
    (datetime.date(2024, 11, 11), datetime.date(2024, 11, 17))
    """
    first, last = PRESETS[preset]
    return today - timedelta(days=first), today - timedelta(days=last)


def _custom_dates(
    raw_from: str | None, raw_to: str | None, zone: str, today: date
) -> tuple[date, date, FieldError | None]:
    """Custom dates with the checks of SEMANTICS: Time (the seed's messages)."""
    fallback = _preset_dates(DEFAULT_RANGE, today)
    parsed = {}
    for name, raw in (("from", raw_from), ("to", raw_to)):
        try:
            parsed[name] = date.fromisoformat(raw or "")
        except ValueError:
            shown = "missing" if raw is None else f"{raw!r} is not a date"
            message = f"Invalid date range: {name} is {shown} (expected YYYY-MM-DD)"
            return *fallback, FieldError(name, message)
    try:
        RangeQuery(**{"from": parsed["from"], "to": parsed["to"], "timezone": zone}).check_range(
            today
        )
    except InvalidInput as exc:
        return *fallback, FieldError(exc.field or "from", exc.message)
    return parsed["from"], parsed["to"], None
