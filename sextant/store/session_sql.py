"""The SQL that derives sessions from events (SEMANTICS: Sessions), for any engine: visits
(runs of a person's events in one tenant without a gap over 30 minutes), the cuts of visits
lasting 24 hours or more (found in Python: they are sequential and rare), and one row per
session with the columns of `SESSIONS`. `sessions.py` decides what to derive and when.

Both statements are built from a *scope*: the SQL text of the events to derive from. Building
them with sqlglot costs about 0.15 s, more than storing a flush of events, so the text is
made once per scope and dialect; a scope's one varying value, the time it starts from, is
the marker `SINCE`, replaced in the finished text.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from sextant.catalog import dialects as d
from sextant.store.schema import SESSIONS

GAP_SECONDS = 30 * 60
MAX_SECONDS = 24 * 3600
# Session columns taken from its first event.
FIRST_EVENT_COLUMNS = ("tenant_id", "plan", "country", "channel", "device", "path", "properties")
CUTS = "__sextant_session_cuts"  # the scratch table of long visits' cuts
SINCE = "__sextant_since__"  # in a scope's text: the ISO time it starts from

_EVENT_COLUMNS = ("ts", "who", "id", "session_id", "event", *FIRST_EVENT_COLUMNS)
_UTC = pa.timestamp("us", tz="UTC")


def derive_into(engine: Any, scope: str, since: datetime | None = None) -> None:
    """Insert the sessions of the events `scope` selects (DuckDB text: `ts, who, id,
    session_id, event, ...`; `SINCE` in it stands for `since`) in start order, so that (as
    for events) a query over a date range reads only the row groups of those dates."""

    def bound(sql: str) -> str:
        return sql if since is None else sql.replace(SINCE, since.isoformat())

    cuts = long_visit_cuts(engine, bound(_cuts_sql(scope, engine.dialect)))
    with engine.scratch(CUTS, cuts):
        engine.execute(bound(_insert_sql(scope, engine.dialect)))


@functools.lru_cache(maxsize=32)
def _insert_sql(scope: str, dialect: str) -> str:
    derived = derivation(_parsed(scope), dialect).subquery("derived")
    insert = exp.insert(
        exp.select(exp.Star()).from_(derived).order_by(exp.column("started_at")),
        "sessions",
        columns=[c.name for c in SESSIONS.columns],
    )
    return insert.sql(dialect=dialect)


def _parsed(scope: str) -> exp.Expression:
    return sqlglot.parse_one(scope, read="duckdb")


def long_visit_cuts(engine: Any, sql: str) -> pa.Table:
    """(who, ts): session starts inside visits lasting 24 hours or more (not visit starts),
    from the rows of `_cuts_sql`.

    Events with equal timestamps always share a session, so a start is a (person, time).
    """
    rows = engine.execute(sql).to_pylist()
    cut_who, cut_tenant, cut_ts = [], [], []
    limit = timedelta(seconds=MAX_SECONDS)
    visit = lambda r: (r["who"], r["tenant_id"], r["visit_started_at"])  # noqa: E731
    for (who, tenant, _), events in groupby(rows, key=visit):
        start = None
        for row in events:
            if start is None:
                start = row["ts"]
            elif row["ts"] - start >= limit:
                cut_who.append(who)
                cut_tenant.append(tenant)
                cut_ts.append(row["ts"])
                start = row["ts"]
    return pa.table(
        {
            "who": pa.array(cut_who, pa.int64()),
            "tenant_id": pa.array(cut_tenant, pa.string()),
            "ts": pa.array(cut_ts, _UTC),
        }
    )


@functools.lru_cache(maxsize=32)
def _cuts_sql(scope_text: str, dialect: str) -> str:
    """The events of visits lasting 24 hours or more, in order (who, tenant, visit, ts)."""
    scope = _parsed(scope_text)
    visits = _visits(
        exp.select("ts", "who", "id", exp.alias_(_tk(), "tenant_id"))
        .from_(_sub(scope, "s"))
        .where(exp.column("session_id").is_(exp.Null())),
        dialect,
    )
    long = (
        exp.select("who", "tenant_id", "visit_started_at")
        .from_(_sub(visits, "v"))
        .group_by("who", "tenant_id", "visit_started_at")
        .having(
            exp.GTE(
                this=d.seconds_between(
                    exp.column("visit_started_at"), exp.func("MAX", exp.column("ts")), dialect
                ),
                expression=exp.Literal.number(MAX_SECONDS),
            )
        )
    )
    return (
        exp.select(
            exp.column("who", table="v"),
            exp.column("tenant_id", table="v"),
            exp.column("visit_started_at", table="v"),
            exp.column("ts", table="v"),
        )
        .distinct()
        .from_(_sub(visits, "v"))
        .join(
            _sub(long, "l"),
            on=exp.and_(
                *(
                    exp.column(c, table="l").eq(exp.column(c, table="v"))
                    for c in ("who", "tenant_id", "visit_started_at")
                )
            ),
        )
        .order_by("who", "tenant_id", "visit_started_at", "ts")
    ).sql(dialect=dialect)


def _tk(table: str | None = None) -> exp.Expression:
    """The tenant a session belongs to, '' for none (a key part that is never NULL)."""
    return exp.func("COALESCE", exp.column("tenant_id", table=table), exp.Literal.string(""))


def _owner() -> list[exp.Expression]:
    """Who a visit belongs to: the resolved person in one tenant."""
    return [exp.column("who"), _tk()]


def _visits(events: exp.Select, dialect: str) -> exp.Select:
    """`events` (ts, who, id, ...) with `visit_started_at`: the start of the run without a
    gap over 30 minutes that holds each event."""
    names = [e.alias_or_name for e in events.expressions]
    order = [exp.column("ts"), exp.column("id")]
    prev = d.lag(exp.column("ts"), 1, _owner(), order, dialect)
    marked = exp.select(
        *names,
        exp.alias_(_opens_visit(exp.column("prev_ts"), dialect), "opens_visit"),
    ).from_(_sub(exp.select(*names, exp.alias_(prev, "prev_ts")).from_(_sub(events, "e")), "p"))
    started = _running_max(
        exp.Case(ifs=[exp.If(this=exp.column("opens_visit"), true=exp.column("ts"))]), dialect
    )
    return exp.select(*names, "opens_visit", exp.alias_(started, "visit_started_at")).from_(
        _sub(marked, "m")
    )


def _opens_visit(prev: exp.Expression, dialect: str) -> exp.Expression:
    gap = d.seconds_between(prev, exp.column("ts"), dialect)
    return exp.or_(
        prev.is_(exp.Null()), exp.GT(this=gap, expression=exp.Literal.number(GAP_SECONDS))
    )


def _running_max(value: exp.Expression, dialect: str) -> exp.Window:
    return exp.Window(
        this=exp.func("MAX", value),
        partition_by=_owner(),
        order=exp.Order(
            expressions=[exp.Ordered(this=exp.column("ts")), exp.Ordered(this=exp.column("id"))]
        ),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING"),
    )


def _epoch_us(ts: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "clickhouse":
        return exp.Anonymous(this="toUnixTimestamp64Micro", expressions=[ts])
    return exp.Anonymous(this="epoch_us", expressions=[ts])


def derivation(scope: exp.Expression, dialect: str) -> exp.Select:
    """One row per session (the columns of `SESSIONS`) from `scope`'s events; the cuts of
    long visits are read from the table `CUTS`."""
    cols = list(_EVENT_COLUMNS)
    with_cut = (
        exp.select(
            *(exp.column(c, table="s") for c in cols),
            exp.alias_(exp.column("ts", table="c").is_(exp.Null()).not_(), "cut"),
        )
        .from_(_sub(scope, "s"))
        .join(
            exp.alias_(exp.table_(CUTS), "c", table=True),
            on=exp.and_(
                exp.column("who", table="c").eq(exp.column("who", table="s")),
                exp.column("tenant_id", table="c").eq(_tk("s")),
                exp.column("ts", table="c").eq(exp.column("ts", table="s")),
            ),
            join_type="LEFT",
        )
        .where(exp.column("session_id", table="s").is_(exp.Null()))
    )
    visits = _visits(with_cut, dialect)
    opens = exp.or_(exp.column("opens_visit"), exp.column("cut"))
    session_start = _running_max(exp.Case(ifs=[exp.If(this=opens, true=exp.column("ts"))]), dialect)
    starts = exp.select(
        *cols, "visit_started_at", exp.alias_(session_start, "session_start")
    ).from_(_sub(visits, "v"))
    key = exp.func(
        "CONCAT",
        exp.Literal.string("s:"),
        exp.cast(exp.column("who"), "TEXT"),
        exp.Literal.string(":"),
        _tk(),
        exp.Literal.string(":"),
        exp.cast(_epoch_us(exp.column("session_start"), dialect), "TEXT"),
    )
    derived = exp.select(*cols, "visit_started_at", exp.alias_(key, "session_key")).from_(
        _sub(starts, "k")
    )
    sdk = (
        exp.select(
            *cols,
            exp.alias_(exp.Null(), "visit_started_at"),
            exp.alias_(exp.column("session_id"), "session_key"),
        )
        .from_(_sub(scope, "s"))
        .where(exp.column("session_id").is_(exp.Null()).not_())
    )
    both = exp.union(derived, sdk, distinct=False)

    def numbered(descending: bool) -> exp.Window:
        return exp.Window(
            this=exp.func("ROW_NUMBER"),
            partition_by=[exp.column("session_key"), _tk()],
            order=exp.Order(
                expressions=[exp.Ordered(this=exp.column(c), desc=descending) for c in ("ts", "id")]
            ),
        )

    # Inner names carry a prefix: ClickHouse would read an output alias (`path`) in place
    # of the input column of the same name.
    ranked = exp.select(
        *(exp.alias_(exp.column(c), f"e_{c}") for c in (*cols, "visit_started_at")),
        "session_key",
        exp.alias_(numbered(False), "pos"),
        exp.alias_(numbered(True), "rpos"),
    ).from_(_sub(both, "u"))

    def at(position: str, name: str, alias: str) -> exp.Expression:
        is_it = exp.EQ(this=exp.column(position), expression=exp.Literal.number(1))
        return exp.alias_(
            exp.func("MAX", exp.Case(ifs=[exp.If(this=is_it, true=exp.column(f"e_{name}"))])),
            alias,
        )

    first_ts, last_ts = exp.func("MIN", exp.column("e_ts")), exp.func("MAX", exp.column("e_ts"))
    pageview = exp.EQ(this=exp.column("e_event"), expression=exp.Literal.string("$pageview"))
    values = {
        "session_id": exp.column("session_key"),
        "person_id": exp.func("MIN", exp.column("e_who")),
        "started_at": first_ts,
        "ended_at": last_ts.copy(),
        "duration_seconds": d.seconds_between(first_ts.copy(), last_ts.copy(), dialect),
        "events": exp.func("COUNT", exp.Star()),
        "pageviews": exp.func(
            "SUM",
            exp.Case(
                ifs=[exp.If(this=pageview, true=exp.Literal.number(1))],
                default=exp.Literal.number(0),
            ),
        ),
        "visit_started_at": exp.func("MIN", exp.column("e_visit_started_at")),
    }
    selected = []
    for column in SESSIONS.columns:
        name = column.name
        if name in values:
            selected.append(exp.alias_(values[name], name))
        elif name in FIRST_EVENT_COLUMNS:
            selected.append(at("pos", name, name))
        elif name == "entry_event":
            selected.append(at("pos", "event", name))
        elif name == "exit_event":
            selected.append(at("rpos", "event", name))
        elif name == "exit_path":
            selected.append(at("rpos", "path", name))
        else:
            raise AssertionError(f"sessions.{name} has no derivation")
    return (
        exp.select(*selected)
        .from_(_sub(ranked, "n"))
        .group_by(
            exp.column("session_key"),
            exp.func("COALESCE", exp.column("e_tenant_id"), exp.Literal.string("")),
        )
    )


def _sub(query: exp.Expression, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query.copy(), alias=exp.TableAlias(this=exp.to_identifier(alias)))
