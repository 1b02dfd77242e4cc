"""Sessions: how many sessions started in the range, how long they lasted (average and exact
p50/p95), how often they bounced, how many each person had, where they started and ended,
over time at the query's grain and per breakdown slice (SEMANTICS: Sessions). Rows come from
the stored `sessions` table through `select_rows`, so tenant scope and filters apply.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from pydantic import Field
from sqlglot import exp

from sextant.analyses.base import AnalysisQuery, Facts, Rows, Statements
from sextant.analyses.registry import analysis
from sextant.catalog import dialects as d
from sextant.catalog.compiler import bucket
from sextant.catalog.results import buckets
from sextant.catalog.rows import Context, select_rows
from sextant.errors import Problem, SextantError
from sextant.store.schema import SESSIONS

# Duration bins: (label, lower bound in seconds, inclusive); "0s" is exactly zero.
DURATION_BINS = (
    ("0s", 0),
    ("<10s", 0),
    ("10-30s", 10),
    ("30-60s", 30),
    ("1-3m", 60),
    ("3-10m", 180),
    ("10-30m", 600),
    ("30-60m", 1800),
    ("1h+", 3600),
)
PER_PERSON_MAX = 10  # the sessions-per-person distribution ends with "10 or more"
TOP_KINDS = ("entry_event", "exit_event", "path", "exit_path")
TOP_NAMES = {
    "entry_event": "entry_events",
    "exit_event": "exit_events",
    "path": "entry_paths",
    "exit_path": "exit_paths",
}


@analysis(
    "sessions",
    label="Sessions",
    summary="Sessions started in the range: count, duration (average, median, 95th "
    "percentile), bounce rate, sessions per person, top entry and exit events and pages.",
    noun="sessions",
)
class SessionsQuery(AnalysisQuery):
    top: int = Field(default=10, ge=1, le=100, description="entry/exit events and paths listed")


def validate(query: SessionsQuery, facts: Facts) -> list[Problem]:
    problems = []
    columns = {c.name for c in SESSIONS.columns}
    for name in query.breakdown:
        try:
            source = facts.catalog.dimension(name).parsed_source
        except SextantError:  # an unknown name is reported when compiling
            continue
        if source.entity == "row" and source.column not in columns:
            problems.append(
                Problem(
                    "sessions_breakdown_unavailable",
                    f"breakdown {name!r} reads events.{source.column}, which sessions do not "
                    "keep; slice by tenant, plan, country, channel, device, path or a person "
                    "dimension",
                    "breakdown",
                )
            )
    return problems


def _bounced() -> exp.Expression:
    one = exp.Literal.number(1)
    single = exp.and_(
        exp.EQ(this=exp.column("pageviews"), expression=one),
        exp.EQ(this=exp.column("events"), expression=one.copy()),
    )
    short = exp.LT(this=exp.column("duration"), expression=exp.Literal.number(10))
    return exp.Case(
        ifs=[exp.If(this=exp.or_(single, short), true=exp.Literal.number(1))],
        default=exp.Literal.number(0),
    )


def _duration_bin() -> exp.Expression:
    duration = exp.column("duration")
    ifs = [
        exp.If(
            this=exp.EQ(this=duration.copy(), expression=exp.Literal.number(0)),
            true=exp.Literal.number(0),
        )
    ]
    for index, (_, low) in enumerate(DURATION_BINS[2:], start=1):
        ifs.append(
            exp.If(
                this=exp.LT(this=duration.copy(), expression=exp.Literal.number(low)),
                true=exp.Literal.number(index),
            )
        )
    return exp.Case(ifs=ifs, default=exp.Literal.number(len(DURATION_BINS) - 1))


def _stats(dialect: str) -> list[exp.Expression]:
    duration = exp.column("duration")
    return [
        exp.alias_(exp.func("COUNT", exp.Star()), "sessions"),
        exp.alias_(exp.func("AVG", duration.copy()), "avg_duration"),
        exp.alias_(d.quantile_cont(duration.copy(), 0.5, dialect), "p50_duration"),
        exp.alias_(d.quantile_cont(duration.copy(), 0.95, dialect), "p95_duration"),
        exp.alias_(exp.func("SUM", exp.column("bounced")), "bounced"),
    ]


def build(ctx: Context) -> Statements:
    query: SessionsQuery = ctx.query  # type: ignore[assignment]
    dialect = ctx.dialect
    r = lambda name: exp.column(name, table="r")  # noqa: E731
    rows = select_rows(
        ctx,
        "sessions",
        query.bounds(),
        columns=[
            exp.alias_(bucket(ctx, r("started_at")), "bucket"),
            exp.alias_(r("duration_seconds"), "duration"),
            exp.alias_(r("events"), "events"),
            exp.alias_(r("pageviews"), "pageviews"),
            *(exp.alias_(r(kind), f"top_{kind}") for kind in TOP_KINDS),
        ],
    )
    dims = [exp.column(name) for name in ctx.dim_names]
    marked = exp.select(
        "*",
        exp.alias_(_bounced(), "bounced"),
        exp.alias_(_duration_bin(), "duration_bin"),
    ).from_(rows.subquery("s"))

    def grouped(*keys: exp.Expression, values: list[exp.Expression]) -> exp.Select:
        keys = tuple(k.copy() for k in (*dims, *keys))
        return (
            exp.select(*keys, *values)
            .from_(marked.subquery("m"))
            .group_by(*(k.copy() for k in keys))
        )

    persons = exp.Count(this=exp.Distinct(expressions=[exp.column("who")]))
    summary = grouped(values=[*_stats(dialect), exp.alias_(persons, "persons")])
    series = grouped(exp.column("bucket"), values=_stats(dialect))
    bins = grouped(
        exp.column("duration_bin"), values=[exp.alias_(exp.func("COUNT", exp.Star()), "sessions")]
    )
    per_person = grouped(exp.column("who"), values=[exp.alias_(exp.func("COUNT", exp.Star()), "n")])
    capped = exp.func("LEAST", exp.column("n"), exp.Literal.number(PER_PERSON_MAX))
    distribution = (
        exp.select(
            *(k.copy() for k in dims),
            exp.alias_(capped, "per_person"),
            exp.alias_(exp.func("COUNT", exp.Star()), "persons"),
        )
        .from_(per_person.subquery("pp"))
        .group_by(*(k.copy() for k in dims), capped.copy())
    )
    return {
        "summary": summary,
        "series": series,
        "durations": bins,
        "per_person": distribution,
        "top": _top(dims, marked, query.top),
    }


def _top(dims: list[exp.Expression], marked: exp.Select, top: int) -> exp.Select:
    """The `top` most frequent values of each of TOP_KINDS per slice (ties by name)."""
    parts = [
        exp.select(
            *(k.copy() for k in dims),
            exp.alias_(exp.Literal.string(kind), "kind"),
            exp.alias_(exp.column(f"top_{kind}"), "name"),
            exp.alias_(exp.func("COUNT", exp.Star()), "sessions"),
        )
        .from_(marked.subquery("m"))
        .group_by(*(k.copy() for k in dims), exp.column(f"top_{kind}"))
        for kind in TOP_KINDS
    ]
    union = parts[0]
    for part in parts[1:]:
        union = exp.union(union, part, distinct=False)
    rank = exp.Window(
        this=exp.func("ROW_NUMBER"),
        partition_by=[*(k.copy() for k in dims), exp.column("kind")],
        order=exp.Order(
            expressions=[
                exp.Ordered(this=exp.column("sessions"), desc=True),
                exp.Ordered(this=exp.column("name"), nulls_first=False),
            ]
        ),
    )
    ranked = exp.select("*", exp.alias_(rank, "rank")).from_(union.subquery("u"))
    return (
        exp.select("*")
        .from_(ranked.subquery("t"))
        .where(exp.LTE(this=exp.column("rank"), expression=exp.Literal.number(top)))
    )


# --- shape -------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _local(value: Any) -> Any:
    """An hour bucket as a naive local wall-clock time (an engine may attach UTC)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _durations(row: dict | None) -> dict[str, float | None]:
    row = row or {}
    return {q: _num(row.get(f"{q}_duration")) for q in ("avg", "p50", "p95")}


def shape(query: SessionsQuery, rows: Rows, today: date) -> dict[str, Any]:
    names = list(query.breakdown)

    def key(row: dict) -> tuple:
        return tuple(row[n] for n in names)

    # Without a breakdown an empty range still gives one row, with 0 sessions.
    summary = {key(row): row for row in rows["summary"] if row["sessions"]}
    order = sorted(summary, key=lambda k: tuple((v is None, str(v)) for v in k))
    series: dict[tuple, dict] = {}
    for row in rows["series"]:
        series.setdefault(key(row), {})[_local(row["bucket"])] = row
    spans = buckets(SimpleNamespace(query=query, grain=query.grain))
    out = []
    for k in order:
        head = summary[k]
        count = int(head["sessions"])
        persons = int(head["persons"])
        bounced = int(head["bounced"])
        points = []
        for at in spans:
            row = series.get(k, {}).get(at)
            n = int(row["sessions"]) if row else 0
            points.append(
                {
                    "bucket": at,
                    "sessions": n,
                    **_durations(row),
                    "bounce_rate": int(row["bounced"]) / n if row else None,
                }
            )
        bins = {
            int(r["duration_bin"]): int(r["sessions"]) for r in rows["durations"] if key(r) == k
        }
        spread = {
            int(r["per_person"]): int(r["persons"]) for r in rows["per_person"] if key(r) == k
        }
        tops: dict[str, list] = {name: [] for name in TOP_NAMES.values()}
        for r in sorted(
            (r for r in rows["top"] if key(r) == k),
            key=lambda r: (-int(r["sessions"]), r["name"] is None, r["name"] or ""),
        ):
            tops[TOP_NAMES[r["kind"]]].append({"name": r["name"], "sessions": int(r["sessions"])})
        out.append(
            {
                **dict(zip(names, k, strict=True)),
                "sessions": count,
                "persons": persons,
                "duration": _durations(head),
                "bounced": bounced,
                "bounce_rate": bounced / count,
                "sessions_per_person": {
                    "avg": count / persons,
                    "distribution": [
                        {
                            "sessions": f"{n}+" if n == PER_PERSON_MAX else str(n),
                            "persons": spread.get(n, 0),
                        }
                        for n in range(1, PER_PERSON_MAX + 1)
                    ],
                },
                "series": points,
                "durations": [
                    {"bin": label, "sessions": bins.get(i, 0), "share": bins.get(i, 0) / count}
                    for i, (label, _) in enumerate(DURATION_BINS)
                ],
                **tops,
            }
        )
    return {"grain": query.grain, "top": query.top, "slices": out, "empty": not out}
