"""Funnels (SEMANTICS F1-F7): of the persons who did step 1 in the range, how many went on to
each later step within the window, in order (sequential), with nothing in between (strict)
or in any order; with exclusions, breakdown attribution, time to convert, incomplete
persons, a conversion trend and the persons who dropped off after each step.

The query names its steps or a saved funnel: built-in ones in `funnels.yaml` beside this
module, overridden or added to by a `funnels:` section in the catalog directory. The SQL
lives in `funnel_sql.py`.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sextant.analyses import funnel_sql
from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements, unknown_events
from sextant.analyses.registry import analysis
from sextant.catalog.definitions import Catalog
from sextant.catalog.rows import Context
from sextant.errors import InvalidInput, Problem, SextantError

DEFAULT_WINDOW = 14 * 86_400
MAX_WINDOW = 366 * 86_400
MIN_STEPS, MAX_STEPS = 2, 10
UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86_400, "week": 7 * 86_400}
SAVED_FILE = Path(__file__).with_name("funnels.yaml")


class Matcher(BaseModel):
    """An event name and `where`-style filters over its own columns and properties."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(description="the event name")
    where: tuple[str, ...] = Field(
        default=(), description="conditions such as properties.path = '/pricing'"
    )
    label: str | None = Field(default=None, description="a name to show for the step")

    @field_validator("where", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value


class Exclusion(Matcher):
    between: tuple[int, int] | None = Field(
        default=None, description="steps i and j (1-based) it may not fall between; default all"
    )


class Window(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: float
    unit: Literal["second", "minute", "hour", "day", "week"] = "day"

    @field_validator("unit", mode="before")
    @classmethod
    def _singular(cls, value: Any) -> Any:
        return value.lower().rstrip("s") if isinstance(value, str) else value


def _matcher(value: Any) -> Any:
    return {"event": value} if isinstance(value, str) else value


@analysis(
    "funnel",
    label="Funnel",
    summary="Of the persons who did the first step in the range, how many went on to each "
    "later step within the window, and how long it took.",
    noun="persons entering the funnel",
)
class FunnelQuery(AnalysisQuery):
    steps: tuple[Matcher, ...] = Field(
        default=(), description="2 to 10 steps, each an event name and optional filters"
    )
    saved: str | None = Field(default=None, description="the name of a saved funnel")
    order: Literal["sequential", "strict", "any"] = Field(
        default="sequential", description="sequential, strict (nothing in between) or any"
    )
    window: int | float | Window = Field(
        default=DEFAULT_WINDOW, description="seconds, or {value, unit}; 1 s to 366 days"
    )
    exclusions: tuple[Exclusion, ...] = Field(
        default=(), description="events that void an attempt between two steps"
    )
    attribution: Literal["first_touch", "last_touch"] | int = Field(
        default="first_touch", description="breakdown value: first_touch, last_touch or a step"
    )
    entry: Literal["latest", "first"] = Field(
        default="latest",
        description="latest: any step-1 event may start the counted attempt; first: only "
        "the person's first one in the range (Mixpanel)",
    )
    trend: bool = Field(default=False, description="conversion by period of the step-1 event")
    persons: bool = Field(default=False, description="list the persons dropping after each step")

    @field_validator("steps", mode="before")
    @classmethod
    def _steps(cls, value: Any) -> Any:
        return [_matcher(v) for v in value] if isinstance(value, list | tuple) else value

    @property
    def window_seconds(self) -> int:
        if isinstance(self.window, Window):
            return round(self.window.value * UNITS[self.window.unit])
        return round(self.window)


# --- saved funnels --------------------------------------------------------------------------


@cache
def _builtin() -> dict[str, dict]:
    data = yaml.safe_load(SAVED_FILE.read_text(encoding="utf-8"))
    return {f["name"]: f for f in data["funnels"]}


def saved_funnels(catalog: Catalog | None = None) -> dict[str, dict]:
    """Every saved funnel by name: the built-in ones, then the catalog directory's
    (`funnels:` section), which override them by name. Each: name, label, description,
    steps, and optionally window, order, exclusions."""
    out = dict(_builtin())
    if catalog is not None:
        out.update(getattr(catalog, "funnels", {}))
    return dict(sorted(out.items()))


_SAVED_KEYS = ("steps", "window", "order", "exclusions", "entry")


def resolve(query: FunnelQuery, catalog: Catalog | None) -> FunnelQuery:
    """The query with a saved funnel's steps (and its window, order, exclusions and entry
    unless the query sets them)."""
    if query.saved is None:
        return query
    if query.steps:
        raise InvalidInput("funnel_steps_and_saved", "give steps or saved, not both", field="steps")
    funnels = saved_funnels(catalog)
    if query.saved not in funnels:
        names = ", ".join(funnels)
        raise InvalidInput(
            "unknown_saved_funnel",
            f"saved: no saved funnel called {query.saved!r}; known: {names}",
            field="saved",
        )
    definition = funnels[query.saved]
    given = query.model_fields_set
    data = {k: definition[k] for k in _SAVED_KEYS if k in definition and k not in given}
    try:
        return query.model_validate(query.model_dump(by_alias=True) | data)
    except ValidationError as exc:
        raise InvalidInput(
            "saved_funnel_invalid",
            f"saved funnel {query.saved!r} is not a valid funnel: {exc.errors()[0]['msg']}",
            field="saved",
        ) from None


# --- validation -----------------------------------------------------------------------------


def validate(query: FunnelQuery, facts: Facts) -> list[Problem]:
    problems = []
    n = len(query.steps)
    if n < MIN_STEPS:
        problems.append(
            Problem(
                "funnel_needs_two_steps",
                f"steps: a funnel needs at least {MIN_STEPS} steps, got {n}",
                "steps",
            )
        )
    if n > MAX_STEPS:
        problems.append(
            Problem(
                "funnel_too_many_steps",
                f"steps: a funnel has at most {MAX_STEPS} steps, got {n}",
                "steps",
            )
        )
    if not 1 <= query.window_seconds <= MAX_WINDOW:
        problems.append(
            Problem(
                "funnel_window_out_of_range",
                f"window: {query.window_seconds} s is outside 1 second to 366 days",
                "window",
            )
        )
    names = [(s.event, f"steps.{i}.event") for i, s in enumerate(query.steps)]
    names += [(x.event, f"exclusions.{i}.event") for i, x in enumerate(query.exclusions)]
    problems += unknown_events(names, facts)
    problems += _exclusion_problems(query)
    if isinstance(query.attribution, int) and not 1 <= query.attribution <= max(n, 1):
        problems.append(
            Problem(
                "funnel_attribution_invalid",
                f"attribution: step {query.attribution} is not a step of this {n}-step funnel",
                "attribution",
            )
        )
    problems += _name_problems(query, facts.catalog)
    return problems


def _exclusion_problems(query: FunnelQuery) -> list[Problem]:
    n = len(query.steps)
    problems = []
    for x, exclusion in enumerate(query.exclusions):
        field = f"exclusions.{x}"
        if query.order == "any":
            message = f"{field}: exclusions apply to ordered funnels, not order any"
        elif exclusion.between is not None and not 1 <= exclusion.between[0] < exclusion.between[
            1
        ] <= max(n, 1):
            i, j = exclusion.between
            message = f"{field}.between: steps {i} and {j} are not two steps of 1..{n} in order"
            field += ".between"
        elif any(
            (s.event, s.where) == (exclusion.event, exclusion.where)
            for s in query.steps[_span(exclusion, n)[0] - 1 : _span(exclusion, n)[1]]
        ):
            message = f"{field}: {exclusion.event!r} is also a step it would exclude"
        else:
            continue
        problems.append(Problem("funnel_exclusion_invalid", message, field))
    return problems


def _span(exclusion: Exclusion, n: int) -> tuple[int, int]:
    return exclusion.between or (1, n)


def _name_problems(query: FunnelQuery, catalog: Catalog) -> list[Problem]:
    """Breakdowns and step filters the catalog cannot read, with their fields (the catalog
    itself names the dimension)."""
    problems = []
    ctx = Context(catalog, query.model_copy(update={"breakdown": ()}), "duckdb")
    for field, matcher in _matchers(query):
        try:
            funnel_sql.matcher_condition(ctx, matcher, field)
        except SextantError as exc:
            problems += [Problem(p.code, p.message, p.field or field) for p in exc.problems]
    return problems


def _matchers(query: FunnelQuery) -> list[tuple[str, Matcher]]:
    return [(f"steps.{i}", s) for i, s in enumerate(query.steps)] + [
        (f"exclusions.{i}", x) for i, x in enumerate(query.exclusions)
    ]


# --- SQL ------------------------------------------------------------------------------------


def build(ctx: Context) -> Statements:
    query: FunnelQuery = ctx.query  # type: ignore[assignment]
    n = len(query.steps)
    exclusions = tuple(x.model_copy(update={"between": _span(x, n)}) for x in query.exclusions)
    query = query.model_copy(update={"exclusions": exclusions})
    return funnel_sql.build_statements(Context(ctx.catalog, query, ctx.dialect), query)


# --- result ---------------------------------------------------------------------------------


def shape(query: FunnelQuery, rows: Rows, today: date) -> dict[str, Any]:
    steps = query.steps
    n = len(steps)
    names = list(query.breakdown)
    slices: dict[tuple, dict[str, Any]] = {}
    total = _empty_slice(n)
    parts = {"count": [], "time": []}
    for row in rows["funnel"]:
        parts[row["part"]].append(row)
    # Counted persons first: an excluded person is in no breakdown bucket (F7), so a
    # bucket holding only excluded persons is not shown; its exclusions count in the total.
    for row in sorted(parts["count"], key=lambda r: bool(r["excluded"])):
        key = tuple(row[name] for name in names)
        persons = int(row["persons"])
        if row["excluded"]:
            for target in (slices.get(key), total):
                if target is not None:
                    target["excluded"] += persons
            continue
        reach = int(row["reach"])
        closes = row["closes_on"]
        for target in (slices.setdefault(key, _empty_slice(n)), total):
            target["furthest"][reach] += persons
            if closes is not None and _as_date(closes) >= today:
                target["open"][reach] += persons
    times: dict[tuple, dict[int, dict]] = {}
    for row in parts["time"]:
        key = ("total",) if row["total"] else tuple(row[name] for name in names)
        times.setdefault(key, {})[int(row["step"])] = row
    result = {
        "order": query.order,
        "window_seconds": query.window_seconds,
        "entry": query.entry,
        "attribution": query.attribution,
        "steps": [
            {"step": k, "event": s.event, "where": list(s.where), "label": s.label or s.event}
            for k, s in enumerate(steps, 1)
        ],
        "total": _finish(total, times.get(("total",) if names else (), {}), n),
        "breakdown": [
            {**dict(zip(names, key, strict=True)), **_finish(slices[key], times.get(key, {}), n)}
            for key in sorted(slices, key=lambda k: tuple((v is None, str(v)) for v in k))
        ]
        if names
        else [],
        "empty": sum(total["furthest"].values()) == 0,
    }
    if "trend" in rows:
        result["trend"] = _trend(rows["trend"], n)
    if "dropped" in rows:
        result["dropped_persons"] = _dropped(rows["dropped"], n)
    return result


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _empty_slice(n: int) -> dict[str, Any]:
    return {
        "furthest": dict.fromkeys(range(1, n + 1), 0),
        "open": dict.fromkeys(range(1, n + 1), 0),
        "excluded": 0,
    }


def _stat(row: dict | None, suffix: str = "") -> dict[str, float | None]:
    if row is None:
        return {"mean": None, "median": None, "p95": None}
    return {
        name: None if row[name + suffix] is None else float(row[name + suffix])
        for name in ("mean", "median", "p95")
    }


def _finish(counts: dict[str, Any], times: dict[int, dict], n: int) -> dict[str, Any]:
    furthest, open_ = counts["furthest"], counts["open"]
    reached = {k: sum(furthest[j] for j in range(k, n + 1)) for k in range(1, n + 1)}
    first = reached[1]
    steps = []
    for k in range(1, n + 1):
        previous = reached[k - 1] if k > 1 else first
        steps.append(
            {
                "step": k,
                "persons": reached[k],
                "conversion": reached[k] / first if first else None,
                "step_conversion": reached[k] / previous if previous else None,
                "dropped": furthest[k] if k < n else 0,
                "incomplete": open_[k] if k < n else 0,
                "time_to_convert": _stat(times.get(k)) if k > 1 else None,
                "time_from_previous": _stat(times.get(k), "_step") if k > 1 else None,
            }
        )
    return {
        "persons": first,
        "converted": reached[n],
        "conversion": reached[n] / first if first else None,
        "incomplete": sum(open_[k] for k in range(1, n)),
        "excluded": counts["excluded"],
        "steps": steps,
    }


def _trend(rows: list[dict], n: int) -> list[dict[str, Any]]:
    periods: dict[Any, dict[int, int]] = {}
    for row in rows:
        periods.setdefault(row["period"], {})[int(row["reach"])] = int(row["persons"])
    out = []
    for period in sorted(periods):
        counts = periods[period]
        entered = sum(counts.values())
        converted = counts.get(n, 0)
        out.append(
            {
                "period": period,
                "persons": entered,
                "converted": converted,
                "conversion": converted / entered if entered else None,
            }
        )
    return out


def _dropped(rows: list[dict], n: int) -> list[dict[str, Any]]:
    by_step: dict[int, list] = {k: [] for k in range(1, n)}
    for row in rows:
        by_step[int(row["step"])].append(row["who"])
    cap = funnel_sql.DROPPED_CAP
    return [
        {"step": k, "persons": ids[:cap], "truncated": len(ids) > cap} for k, ids in by_step.items()
    ]
