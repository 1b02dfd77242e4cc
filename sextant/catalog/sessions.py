"""The derived sessions table, built from events (SEMANTICS: Sessions) until the sessions
analysis stores it: the SDK's `$session_id` wins; otherwise a person's session breaks after
more than 30 minutes without events, and a visit without such a break is cut every 24 hours
from its first event. Columns are listed in `tables.DERIVED_TABLES["sessions"]`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.catalog.rows import Context, in_bounds, scope

SESSION_GAP_SECONDS = 30 * 60
SESSION_MAX_SECONDS = 24 * 3600
# Session columns taken from its first event.
FIRST_EVENT_COLUMNS = ("tenant_id", "plan", "country", "channel", "device", "path", "properties")


def sessions(ctx: Context, bounds: tuple[datetime, datetime]) -> exp.Select:
    """Sessions starting in [start, end), derived from events (SEMANTICS: Sessions).

    The SDK's session id wins; otherwise a session breaks after more than 30 minutes idle,
    and a visit without such a break is cut every 24 hours from its first event. Events are
    read from 48 hours before the start (to find where sessions begin) to 24 hours after
    the end (a session starting in range may run on).
    """
    dialect = ctx.dialect
    lo, hi = bounds
    wide = (lo - timedelta(hours=48), hi + timedelta(hours=24))
    ts = exp.column("timestamp", table="r")
    who = exp.func(
        "COALESCE", exp.column("person_id", table="o"), exp.column("person_id", table="r")
    )
    tagged = (
        exp.select(
            exp.alias_(ts, "ts"),
            exp.alias_(who, "who"),
            exp.column("id", table="r"),
            exp.column("session_id", table="r"),
            exp.column("event", table="r"),
            *(exp.column(c, table="r") for c in FIRST_EVENT_COLUMNS),
        )
        .from_(exp.alias_(exp.table_("events"), "r", table=True))
        .join(
            exp.alias_(exp.table_("person_overrides"), "o", table=True),
            on=exp.EQ(
                this=exp.column("old_person_id", table="o"),
                expression=exp.column("person_id", table="r"),
            ),
            join_type="LEFT",
        )
        .where(exp.and_(in_bounds(ctx, "events", wide), *scope(ctx)))
    )
    by_person = [exp.column("who"), exp.Is(this=exp.column("session_id"), expression=exp.Null())]
    order = exp.Order(
        expressions=[exp.Ordered(this=exp.column("ts")), exp.Ordered(this=exp.column("id"))]
    )
    gap = d.seconds_between(
        d.lag(exp.column("ts"), 1, by_person, [exp.column("ts"), exp.column("id")], dialect),
        exp.column("ts"),
        dialect,
    )
    breaks = exp.select(
        "*",
        exp.alias_(
            exp.Case(
                ifs=[
                    exp.If(
                        this=exp.GT(this=gap, expression=exp.Literal.number(SESSION_GAP_SECONDS)),
                        true=exp.Literal.number(1),
                    )
                ],
                default=exp.Literal.number(0),
            ),
            "is_break",
        ),
    ).from_(tagged.subquery("ev"))
    # Visits: the running count of gap breaks (a person's first event starts visit 0).
    running = d.running_sum(
        exp.column("is_break"), by_person, [exp.column("ts"), exp.column("id")], dialect
    )
    visits = exp.select("*", exp.alias_(running, "visit")).from_(breaks.subquery("b"))
    visit_key = [
        exp.column("who"),
        exp.column("visit"),
        exp.Is(this=exp.column("session_id"), expression=exp.Null()),
    ]
    since_visit = d.seconds_between(
        exp.Window(this=exp.func("MIN", exp.column("ts")), partition_by=visit_key),
        exp.column("ts"),
        dialect,
    )
    chunk = exp.Floor(
        this=exp.Div(this=since_visit, expression=exp.Literal.number(SESSION_MAX_SECONDS))
    )
    derived_key = exp.func(
        "CONCAT",
        exp.Literal.string("s:"),
        exp.cast(exp.column("who"), "TEXT"),
        exp.Literal.string(":"),
        exp.cast(exp.column("visit"), "TEXT"),
        exp.Literal.string(":"),
        exp.cast(exp.cast(chunk, "BIGINT"), "TEXT"),
    )
    keyed = exp.select(
        "*", exp.alias_(exp.func("COALESCE", exp.column("session_id"), derived_key), "session_key")
    ).from_(visits.subquery("v"))
    ordered = exp.Window(
        this=exp.func("ROW_NUMBER"), partition_by=[exp.column("session_key")], order=order.copy()
    )
    numbered = exp.select("*", exp.alias_(ordered, "pos")).from_(keyed.subquery("k"))

    def at_first(name: str) -> exp.Expression:
        is_first = exp.EQ(this=exp.column("pos"), expression=exp.Literal.number(1))
        return exp.alias_(
            exp.func("MAX", exp.Case(ifs=[exp.If(this=is_first, true=exp.column(name))])), name
        )

    pageview = exp.EQ(this=exp.column("event"), expression=exp.Literal.string("$pageview"))
    grouped = (
        exp.select(
            exp.alias_(exp.column("session_key"), "session_id"),
            exp.alias_(exp.func("MIN", exp.column("who")), "person_id"),
            exp.alias_(exp.func("MIN", exp.column("ts")), "started_at"),
            exp.alias_(exp.func("MAX", exp.column("ts")), "ended_at"),
            exp.alias_(
                d.seconds_between(
                    exp.func("MIN", exp.column("ts")), exp.func("MAX", exp.column("ts")), dialect
                ),
                "duration_seconds",
            ),
            exp.alias_(exp.func("COUNT", exp.Star()), "events"),
            exp.alias_(
                exp.func(
                    "SUM",
                    exp.Case(
                        ifs=[exp.If(this=pageview, true=exp.Literal.number(1))],
                        default=exp.Literal.number(0),
                    ),
                ),
                "pageviews",
            ),
            *(at_first(c) for c in FIRST_EVENT_COLUMNS),
        )
        .from_(numbered.subquery("n"))
        .group_by(exp.column("session_key"))
    )
    return grouped
