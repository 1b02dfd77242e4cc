"""What a store holds: tables, row counts, time ranges, size, versions and headline numbers.

The headline numbers follow SEMANTICS.md (persons resolved through merges, active means
an event not flagged inactive, days in the given time zone). DAU, WAU, MAU and stickiness
are the catalog's metrics; the all-time totals are single portable queries.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlglot import exp

from sextant.catalog import load_catalog
from sextant.catalog.batch import run_batch
from sextant.catalog.query import MetricQuery
from sextant.store.engine import Engine
from sextant.store.identity import events_with_persons
from sextant.store.schema import TABLES

SIGNUP_EVENT = "signed_up"
PAID_EVENT = "subscription_started"


@dataclass
class TableSummary:
    name: str
    rows: int
    first: datetime | None = None
    last: datetime | None = None


@dataclass
class Headline:
    """Key numbers; None where the store has no data for them."""

    last_day: date | None = None
    dau: int | None = None
    wau: int | None = None
    mau: int | None = None
    stickiness: float | None = None  # DAU / MAU on last_day
    persons: int = 0
    identified_persons: int = 0
    tenants: int = 0
    signups: int | None = None
    paid_conversion: float | None = None  # paid persons / signed-up persons
    events_per_person: float | None = None
    orders: int | None = None
    revenue: dict[str, float] = field(default_factory=dict)  # by currency, net of refunds


@dataclass
class StoreSummary:
    path: str | None
    file_bytes: int | None
    schema_version: int
    data_version: int
    timezone: str
    tables: list[TableSummary]
    headline: Headline

    def as_dict(self) -> dict:
        return _jsonable(asdict(self))


def summarize(engine: Engine, timezone: str = "UTC", path: Path | None = None) -> StoreSummary:
    return StoreSummary(
        path=str(path) if path else None,
        file_bytes=_file_bytes(path),
        schema_version=engine.schema_version(),
        data_version=engine.data_version,
        timezone=timezone,
        tables=[_table_summary(engine, name) for name in TABLES],
        headline=headline(engine, timezone),
    )


def headline(engine: Engine, timezone: str) -> Headline:
    h = Headline()
    counts = _row(
        engine,
        "SELECT (SELECT count(*) FROM persons) AS persons,"
        " (SELECT count(*) FROM persons WHERE is_identified) AS identified_persons,"
        " (SELECT count(*) FROM tenants) AS tenants",
    )
    h.persons, h.identified_persons, h.tenants = (
        counts["persons"],
        counts["identified_persons"],
        counts["tenants"],
    )
    _activity(engine, timezone, h)
    _conversion(engine, h)
    _commerce(engine, h)
    return h


def _activity(engine: Engine, timezone: str, h: Headline) -> None:
    """DAU, WAU, MAU and stickiness on the last day with events: the catalog's metrics."""
    last = _row(engine, "SELECT max(timestamp) AS last FROM events")["last"]
    if last is None:
        return
    h.last_day = last.astimezone(ZoneInfo(timezone)).date()
    catalog = load_catalog()
    names = ("dau", "wau", "mau", "stickiness")
    queries = [
        MetricQuery.parse(
            {"metric": name, "from": h.last_day, "to": h.last_day, "timezone": timezone},
            today=max(h.last_day, date.today()),
        )
        for name in names
    ]
    for name, result in zip(names, run_batch(engine, catalog, queries), strict=True):
        setattr(h, name, result.rows[0]["value"])
    resolved = events_with_persons(["person_id"])
    per = exp.select(
        exp.alias_(
            exp.Div(
                this=exp.cast(exp.func("COUNT", exp.Star()), "DOUBLE"),
                expression=exp.func(
                    "NULLIF",
                    exp.Count(this=exp.Distinct(expressions=[exp.column("person_id")])),
                    exp.Literal.number(0),
                ),
            ),
            "v",
        )
    ).from_(resolved.subquery("r"))
    h.events_per_person = _row(engine, per)["v"]


def _conversion(engine: Engine, h: Headline) -> None:
    def persons_doing(event: str) -> exp.Expression:
        doing = exp.EQ(this=exp.column("event"), expression=exp.Literal.string(event))
        case = exp.Case(ifs=[exp.If(this=doing, true=exp.column("person_id"))])
        return exp.Count(this=exp.Distinct(expressions=[case]))

    query = exp.select(
        exp.alias_(persons_doing(SIGNUP_EVENT), "signups"),
        exp.alias_(persons_doing(PAID_EVENT), "paid"),
    ).from_(events_with_persons(["person_id", "event"]).subquery("r"))
    row = _row(engine, query)
    if row["signups"]:
        h.signups = row["signups"]
        h.paid_conversion = row["paid"] / row["signups"]


def _commerce(engine: Engine, h: Headline) -> None:
    rows = engine.execute(
        """
        SELECT o.currency, count(*) AS orders,
               sum(o.total_price) - coalesce(sum(r.refunded), 0) AS revenue
        FROM orders o
        LEFT JOIN (SELECT tenant_id, order_id, sum(amount) AS refunded
                   FROM refunds GROUP BY ALL) r USING (tenant_id, order_id)
        WHERE NOT coalesce(o.test, false) AND o.cancelled_at IS NULL
        GROUP BY o.currency ORDER BY o.currency
        """
    ).to_pylist()
    if rows:
        h.orders = sum(r["orders"] for r in rows)
        h.revenue = {r["currency"] or "?": float(r["revenue"]) for r in rows}


def _table_summary(engine: Engine, name: str) -> TableSummary:
    spec = TABLES[name]
    if spec.time is None:
        return TableSummary(name, _row(engine, f'SELECT count(*) AS n FROM "{name}"')["n"])
    row = _row(
        engine,
        f'SELECT count(*) AS n, min("{spec.time}") AS first, max("{spec.time}") AS last '
        f'FROM "{name}"',
    )
    return TableSummary(name, row["n"], row["first"], row["last"])


def _row(engine: Engine, query: str | exp.Expression) -> dict:
    return engine.execute(query).to_pylist()[0]


def _file_bytes(path: Path | None) -> int | None:
    if path is None or not path.exists():
        return None
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
