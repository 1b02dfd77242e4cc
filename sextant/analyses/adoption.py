"""Feature adoption: the top features by distinct users, each with its adoption rate (users /
active persons in the range, both within the slice) and its rate in each bucket at `grain`
(SEMANTICS: Feature adoption). One scan of the active events, reduced at once to distinct
(bucket, person, feature), feeds every count.
"""

from __future__ import annotations

import builtins
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlglot import exp

from sextant.analyses.base import (
    AnalysisQuery,
    Facts,
    Rows,
    Statements,
    slice_order,
    unknown_event,
)
from sextant.analyses.registry import analysis
from sextant.catalog import dialects as d
from sextant.catalog.compiler import Plan, bucket
from sextant.catalog.definitions import Catalog
from sextant.catalog.models import EventSelector
from sextant.catalog.rows import Context, select_rows
from sextant.errors import Problem

MAX_TOP = 50


class Feature(BaseModel):
    """A feature that is one value of an event property, such as `view_opened` with
    `view` = `board`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: str = Field(min_length=1, description="the event name")
    property: str = Field(
        min_length=1, description="a property key of the event (dots for nested keys)"
    )
    value: str = Field(description="the property value that makes it this feature")
    label: str | None = Field(default=None, description="the name shown (default: generated)")

    @builtins.property  # the field `property` hides the builtin in this class
    def name(self) -> str:
        return self.label or f"{self.event} ({self.property} = {self.value})"


@analysis(
    "adoption",
    label="Feature adoption",
    summary="The most used features: distinct users of each and the share of the range's "
    "active persons who used it, overall and per period.",
    noun="active persons",
)
class AdoptionQuery(AnalysisQuery):
    grain: Literal["day", "week", "month"] = Field(
        default="day", description="the buckets of the rates over time: day, week or month"
    )
    top: int = Field(default=10, ge=1, le=MAX_TOP, description="how many features to show")
    features: tuple[str | Feature, ...] | None = Field(
        default=None,
        description="the features to measure: event names, or {event, property, value} "
        "(default: every event the catalog flags `feature`)",
    )
    over_time: bool = Field(default=True, description="also each top feature's rate per bucket")


def chosen(query: AdoptionQuery, catalog: Catalog) -> list[str | Feature]:
    if query.features is not None:
        return list(query.features)
    return list(catalog.event_flags.flagged("feature"))


def name_of(feature: str | Feature) -> str:
    return feature if isinstance(feature, str) else feature.name


def validate(query: AdoptionQuery, facts: Facts) -> list[Problem]:
    problems = []
    features = chosen(query, facts.catalog)
    if not features:
        field = "features" if query.features is not None else None
        message = "no features to measure: list some, or flag events `feature` in the catalog"
        return [*problems, Problem("adoption_no_features", message, field)]
    if query.features is None:
        return problems
    names: set[str] = set()
    plain = {f for f in features if isinstance(f, str)}
    for i, feature in enumerate(features):
        field = f"features.{i}"
        event = feature if isinstance(feature, str) else feature.event
        if (problem := unknown_event(event, field, facts)) is not None:
            problems.append(problem)
        elif not facts.catalog.event_flags.is_active(event):
            problems.append(
                Problem(
                    "adoption_feature_inactive",
                    f"{field}: {event!r} is flagged inactive, so its users are never active "
                    "persons; choose an event persons do",
                    field,
                )
            )
        if name_of(feature) in names:
            problems.append(
                Problem(
                    "adoption_feature_twice",
                    f"{field}: the feature {name_of(feature)!r} is listed twice",
                    field,
                )
            )
        names.add(name_of(feature))
        if isinstance(feature, Feature) and feature.event in plain:
            problems.append(
                Problem(
                    "adoption_features_overlap",
                    f"{field}: {feature.event!r} is also listed as a whole feature; an event "
                    "counts for one feature only",
                    field,
                )
            )
    return problems


def _label(ctx: Context, features: list[str | Feature]) -> exp.Expression:
    """The feature an event row is (NULL: none)."""
    event = exp.column("event", table="r")
    plain = [f for f in features if isinstance(f, str)]
    ifs = []
    if plain:
        listed = exp.In(this=event, expressions=[exp.Literal.string(f) for f in plain])
        ifs.append(exp.If(this=listed, true=event.copy()))
    for f in features:
        if isinstance(f, Feature):
            value = d.json_text(
                exp.column("properties", table="r"), tuple(f.property.split(".")), ctx.dialect
            )
            match = exp.and_(
                exp.EQ(this=event.copy(), expression=exp.Literal.string(f.event)),
                exp.EQ(this=value, expression=exp.Literal.string(f.value)),
            )
            ifs.append(exp.If(this=match, true=exp.Literal.string(f.name)))
    return exp.Case(ifs=ifs)


def build(ctx: Context) -> Statements:
    query: AdoptionQuery = ctx.query  # type: ignore[assignment]
    features = chosen(query, ctx.catalog)
    dims = [exp.column(n) for n in ctx.dim_names]
    over_time = [exp.column("bucket")] if query.over_time else []
    columns = [exp.alias_(_label(ctx, features), "feature")]
    if query.over_time:
        columns.insert(0, exp.alias_(bucket(ctx, exp.column("timestamp", table="r")), "bucket"))
    rows = select_rows(
        ctx,
        "events",
        query.bounds(),
        condition=ctx.selection(EventSelector(event_flag="active")),
        columns=columns,
    )
    plan = Plan()
    keys = [*dims, *over_time, exp.column("who"), exp.column("feature")]
    used = plan.add(
        "adoption_used",
        exp.select(*_copies(keys)).from_(rows.subquery("r")).group_by(*_copies(keys)),
        "adoption: each active person's features (NULL: active without one), "
        "persons resolved through merges",
    )
    who = exp.column("who")
    feature = exp.column("feature")
    is_feature = exp.Not(this=exp.Is(this=feature.copy(), expression=exp.Null()))
    distinct_who = exp.Count(this=exp.Distinct(expressions=[who.copy()]))
    users = plan.add(
        "adoption_users",
        exp.select(*_copies(dims), feature.copy(), exp.alias_(distinct_who.copy(), "persons"))
        .from_(used)
        .where(is_feature.copy())
        .group_by(*_copies(dims), feature.copy()),
        "adoption: distinct users of each feature in the range",
    )
    rank = exp.Window(
        this=exp.func("ROW_NUMBER"),
        partition_by=_copies(dims) or None,
        order=exp.Order(
            expressions=[
                exp.Ordered(this=exp.column("persons"), desc=True),
                exp.Ordered(this=feature.copy()),
            ]
        ),
    )
    ranked = plan.add(
        "adoption_ranked",
        exp.select(
            *_copies(dims), feature.copy(), exp.column("persons"), exp.alias_(rank, "rank")
        ).from_(users),
        "adoption: features ranked by distinct users, ties by name",
    )
    top = exp.LTE(this=exp.column("rank"), expression=exp.Literal.number(query.top))
    parts = [
        _part("active", dims, None, None, distinct_who.copy(), used, None),
        _part(
            "feature",
            dims,
            None,
            feature.copy(),
            exp.column("persons"),
            ranked,
            top,
        ),
    ]
    if query.over_time:
        parts.append(
            _part(
                "active",
                dims,
                exp.column("bucket"),
                None,
                distinct_who.copy(),
                used,
                None,
                grouped=True,
            )
        )
        leaders = plan.add(
            "adoption_top",
            exp.select(*_copies(dims), feature.copy()).from_(ranked).where(top.copy()),
            f"adoption: the top {query.top} features",
        )
        # Slices match null-safely: a slice without a value is a slice too.
        on = exp.and_(
            exp.EQ(this=exp.column("feature", table="u"), expression=exp.column("feature", "t")),
            *[
                exp.NullSafeEQ(this=exp.column(c.name, "u"), expression=exp.column(c.name, "t"))
                for c in dims
            ],
        )
        per_bucket = (
            exp.select(
                *[exp.alias_(exp.column(c.name, "u"), c.name) for c in dims],
                exp.alias_(exp.column("bucket", "u"), "bucket"),
                exp.alias_(exp.column("feature", "u"), "feature"),
                exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
            )
            .from_(exp.alias_(exp.table_(used), "u", table=True))
            .join(exp.alias_(exp.table_(leaders), "t", table=True), on=on, join_type="INNER")
            .group_by(
                *[exp.column(c.name, "u") for c in dims],
                exp.column("bucket", "u"),
                exp.column("feature", "u"),
            )
        )
        parts.append(
            exp.select(
                exp.alias_(exp.Literal.string("feature"), "part"),
                *_copies(dims),
                exp.column("bucket"),
                feature.copy(),
                exp.column("persons"),
            ).from_(per_bucket.subquery("pb"))
        )
    stacked = parts[0]
    for part in parts[1:]:
        stacked = exp.union(stacked, part, distinct=False)
    return {"adoption": plan.build(exp.select("*").from_(stacked.subquery("counts")))}


def _part(kind, dims, when, feature, persons, source, where, *, grouped=False) -> exp.Select:
    """One kind of count, in the shared layout: part, slice, bucket, feature, persons."""
    bucket_col = when.copy() if when is not None else exp.cast(exp.Null(), "DATE")
    select = exp.select(
        exp.alias_(exp.Literal.string(kind), "part"),
        *_copies(dims),
        exp.alias_(bucket_col, "bucket"),
        exp.alias_(feature if feature is not None else exp.cast(exp.Null(), "TEXT"), "feature"),
        exp.alias_(persons, "persons"),
    ).from_(source)
    if where is not None:
        select = select.where(where)
    if persons.find(exp.Count) is not None:
        group = [*_copies(dims), *([when.copy()] if grouped and when is not None else [])]
        if group:
            select = select.group_by(*group)
    return select


def _copies(columns: list[exp.Expression]) -> list[exp.Expression]:
    return [c.copy() for c in columns]


def shape(query: AdoptionQuery, rows: Rows, today: date) -> dict[str, Any]:
    names = list(query.breakdown)
    active: dict[tuple, int] = {}
    users: dict[tuple, dict[str, int]] = {}
    active_in: dict[tuple, dict[Any, int]] = {}
    users_in: dict[tuple, dict[tuple[str, Any], int]] = {}
    for row in rows["adoption"]:
        key = tuple(row[n] for n in names)
        persons = int(row["persons"])
        when = row["bucket"]
        if row["part"] == "active" and when is None:
            if persons:  # no active person at all still makes one row without breakdowns
                active[key] = persons
        elif row["part"] == "active":
            active_in.setdefault(key, {})[when] = persons
        elif when is None:
            users.setdefault(key, {})[row["feature"]] = persons
        else:
            users_in.setdefault(key, {})[(row["feature"], when)] = persons
    listed = [name_of(f) for f in query.features] if query.features is not None else []
    out = []
    for key in sorted(active, key=slice_order):
        counts = users.get(key, {})
        # Chosen features nobody used still show, at 0 %, after the used ones.
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ranked += sorted((n, 0) for n in listed if n not in counts)
        ranked = ranked[: query.top]
        total = active[key]
        features = [
            {"feature": name, "users": n, "rate": n / total, "rank": i}
            for i, (name, n) in enumerate(ranked, start=1)
        ]
        item: dict[str, Any] = {
            **dict(zip(names, key, strict=True)),
            "active": total,
            "features": features,
        }
        if query.over_time:
            buckets = active_in.get(key, {})
            item["over_time"] = [
                {
                    "bucket": when,
                    "active": buckets[when],
                    "rates": {
                        name: users_in.get(key, {}).get((name, when), 0) / buckets[when]
                        for name, _ in ranked
                    },
                }
                for when in sorted(buckets)
            ]
        out.append(item)
    return {"top": query.top, "slices": out, "empty": not out}
