"""Per-dialect building blocks the compiler assembles: local dates and hours in a time zone,
period starts, day arithmetic, exact quantiles, JSON property paths, literal instants,
a spine of days; and `render`, which refuses what a dialect cannot express.

Each function takes the target dialect and returns a sqlglot expression for it, so the
compiler stays dialect-neutral and every difference between engines lives here, expression
to expression (never edits to SQL text). Supported: duckdb and clickhouse (run and tested
here), postgres, snowflake and bigquery (rendered for warehouses; see the golden files).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from sqlglot import ErrorLevel, exp
from sqlglot.errors import UnsupportedError

from sextant.errors import Unsupported

DIALECTS = ("duckdb", "clickhouse", "postgres", "snowflake", "bigquery")
EPOCH = date(1970, 1, 1)  # a Thursday: weekday index 3 with Monday = 0


def check_dialect(dialect: str) -> str:
    if dialect not in DIALECTS:
        raise Unsupported(
            "dialect_unknown",
            f"unknown SQL dialect {dialect!r}; expected one of {', '.join(DIALECTS)}",
            field="dialect",
        )
    return dialect


def render(node: exp.Expression, dialect: str, *, pretty: bool = True) -> str:
    """SQL text for `dialect`; anything the dialect cannot express raises `sql_unsupported`."""
    try:
        return node.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        raise Unsupported(
            "sql_unsupported", f"cannot express this query in {dialect}: {exc}", field="dialect"
        ) from None


def _f(name: str, *args: exp.Expression) -> exp.Anonymous:
    return exp.Anonymous(this=name, expressions=list(args))


def _s(text: str) -> exp.Literal:
    return exp.Literal.string(text)


def _n(value: float) -> exp.Literal:
    return exp.Literal.number(value)


def instant(value: datetime, dialect: str) -> exp.Expression:
    """A literal UTC instant, comparable with stored timestamps."""
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if dialect == "clickhouse":
        return _f("toDateTime64", _s(text), _n(6), _s("UTC"))
    return exp.cast(_s(text + "+00"), "TIMESTAMPTZ")  # bigquery: TIMESTAMP


def day_literal(value: date, dialect: str) -> exp.Expression:
    if dialect == "clickhouse":
        return _f("toDate", _s(value.isoformat()))
    return exp.cast(_s(value.isoformat()), "DATE")


def local_date(
    ts: exp.Expression,
    tz: str,
    dialect: str,
    within: tuple[datetime, datetime] | None = None,
) -> exp.Expression:
    """The calendar date of instant `ts` in time zone `tz` (DST days are 23 or 25 hours).

    On DuckDB, for rows known to fall `within` [start, end), the date is integer arithmetic
    on the instant plus the zone's UTC offset, the offset's changes in that span worked out
    here: several times faster than a per-row time zone conversion (`timezone()`)."""
    if dialect == "duckdb" and within is not None:
        micros = _f("epoch_us", ts)
        changes = offsets(tz, *within)
        shift: exp.Expression = _n(changes[0][1] * 1_000_000)
        if len(changes) > 1:
            shift = exp.Case(
                ifs=[
                    exp.If(
                        this=exp.LT(this=micros.copy(), expression=_n(_epoch_us(at))),
                        true=_n(offset * 1_000_000),
                    )
                    for (_, offset), (at, _) in pairwise(changes)
                ],
                default=_n(changes[-1][1] * 1_000_000),
            )
        local = micros if changes == [(within[0], 0)] else exp.Add(this=micros, expression=shift)
        days = exp.IntDiv(this=local, expression=_n(DAY_US))
        return add_days(day_literal(EPOCH, dialect), days, dialect)
    if dialect == "duckdb":
        return exp.cast(_f("timezone", _s(tz), ts), "DATE")
    if dialect == "clickhouse":
        return _f("toDate", ts, _s(tz))
    if dialect == "postgres":
        return exp.cast(exp.AtTimeZone(this=ts, zone=_s(tz)), "DATE")
    if dialect == "snowflake":
        return exp.cast(_f("CONVERT_TIMEZONE", _s(tz), ts), "DATE")
    return _f("DATE", ts, _s(tz))


DAY_US = 86_400_000_000


def offsets(tz: str, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The UTC offset (seconds) of zone `tz` from `start`, and from each instant before
    `end` where it changes: [(start, offset), (change, offset), ...].

    >>> [(at.isoformat(), off) for at, off in offsets("Europe/Paris",
    ...     datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC))]
    [('2024-03-30T00:00:00+00:00', 3600), ('2024-03-31T01:00:00+00:00', 7200)]
    """
    zone = ZoneInfo(tz)

    def offset(at: datetime) -> int:
        return int(at.astimezone(zone).utcoffset().total_seconds())

    changes = [(start, offset(start))]
    at = start
    while at < end:
        step = min(at + timedelta(days=1), end)
        if offset(step) != changes[-1][1]:
            lo, hi = at, step  # the change lies in (lo, hi]: find it to the second
            while hi - lo > timedelta(seconds=1):
                mid = lo + (hi - lo) / 2
                lo, hi = (mid, hi) if offset(mid) == changes[-1][1] else (lo, mid)
            changes.append((hi.replace(microsecond=0), offset(hi)))
        at = step
    return changes


def _epoch_us(at: datetime) -> int:
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000


def local_hour(ts: exp.Expression, tz: str, dialect: str) -> exp.Expression:
    """The local wall-clock hour of `ts` in `tz`, as a timestamp without zone."""
    if dialect == "duckdb":
        return _f("date_trunc", _s("hour"), _f("timezone", _s(tz), ts))
    if dialect == "clickhouse":
        # toString prints the local time; reading it back as UTC drops the zone.
        local = _f("toString", _f("toStartOfHour", _f("toTimeZone", ts, _s(tz))))
        return _f("toDateTime64", local, _n(0), _s("UTC"))
    if dialect == "postgres":
        return _f("date_trunc", _s("hour"), exp.AtTimeZone(this=ts, zone=_s(tz)))
    if dialect == "snowflake":
        local = _f("DATE_TRUNC", _s("HOUR"), _f("CONVERT_TIMEZONE", _s(tz), ts))
        return exp.cast(local, "TIMESTAMPNTZ")  # the local wall-clock time
    return _f("DATETIME_TRUNC", _f("DATETIME", ts, _s(tz)), exp.var("HOUR"))


def add_days(day: exp.Expression, days: int | exp.Expression, dialect: str) -> exp.Expression:
    amount = _n(days) if isinstance(days, int) else days
    if dialect == "clickhouse":
        return _f("addDays", day, amount)
    if dialect in ("duckdb", "postgres"):
        if not isinstance(days, int):
            amount = exp.cast(amount, "INTEGER")  # date + bigint is not defined
        return exp.Add(this=day, expression=amount)  # date + integer is a date
    return exp.DateAdd(this=day, expression=amount, unit=exp.var("DAY"))


def day_number(day: exp.Expression, dialect: str) -> exp.Expression:
    """Days since 1970-01-01, as an integer."""
    epoch = day_literal(EPOCH, dialect)
    if dialect == "clickhouse":
        return _f("toInt64", _f("toRelativeDayNum", day))
    if dialect in ("duckdb", "postgres"):
        return exp.Sub(this=day, expression=epoch)
    return exp.DateDiff(this=day, expression=epoch, unit=exp.var("DAY"))


def week_start(day: exp.Expression, first_weekday: int, dialect: str) -> exp.Expression:
    """The first day of the week holding `day`; weeks start on `first_weekday` (Monday 0)."""
    shifted = exp.Add(this=day_number(day, dialect), expression=_n(3 - first_weekday + 7))
    offset = exp.Mod(this=exp.paren(shifted), expression=_n(7))
    return add_days(day, exp.Neg(this=exp.paren(offset)), dialect)


def month_start(day: exp.Expression, dialect: str) -> exp.Expression:
    if dialect == "clickhouse":
        return _f("toStartOfMonth", day)
    if dialect == "bigquery":
        return _f("DATE_TRUNC", day, exp.var("MONTH"))
    return exp.cast(_f("DATE_TRUNC", _s("month"), day), "DATE")


def next_month_start(day: exp.Expression, dialect: str) -> exp.Expression:
    first = month_start(day, dialect)
    if dialect == "clickhouse":
        return _f("addMonths", first, _n(1))
    if dialect in ("duckdb", "postgres"):
        return exp.cast(exp.Add(this=first, expression=exp.Interval(this=_s("1 month"))), "DATE")
    return exp.DateAdd(this=first, expression=_n(1), unit=exp.var("MONTH"))


def period_start(day: exp.Expression, grain: str, first_weekday: int, dialect: str):
    if grain == "day":
        return day
    if grain == "week":
        return week_start(day, first_weekday, dialect)
    return month_start(day, dialect)


def period_end(day: exp.Expression, grain: str, first_weekday: int, dialect: str):
    """The last day of the calendar period (day, week, month) holding `day`."""
    if grain == "day":
        return day
    if grain == "week":
        return add_days(week_start(day, first_weekday, dialect), 6, dialect)
    return add_days(next_month_start(day, dialect), -1, dialect)


def month_number(day: exp.Expression, dialect: str) -> exp.Expression:
    """year * 12 + month: consecutive months differ by one."""
    year = exp.Extract(this=exp.var("YEAR"), expression=day)
    month = exp.Extract(this=exp.var("MONTH"), expression=day)
    if dialect == "clickhouse":
        year, month = _f("toYear", day), _f("toMonth", day)
    return exp.Add(this=exp.Mul(this=year, expression=_n(12)), expression=month)


def seconds_between(start: exp.Expression, end: exp.Expression, dialect: str):
    """end - start in seconds, with microseconds."""
    if dialect == "clickhouse":
        micros = _f("dateDiff", _s("microsecond"), start, end)
    elif dialect == "duckdb":
        micros = _f("date_diff", _s("microsecond"), start, end)
    elif dialect == "postgres":
        return exp.Extract(this=exp.var("EPOCH"), expression=exp.Sub(this=end, expression=start))
    elif dialect == "bigquery":
        micros = _f("TIMESTAMP_DIFF", end, start, exp.var("MICROSECOND"))
    else:
        micros = exp.DateDiff(this=end, expression=start, unit=exp.var("MICROSECOND"))
    return exp.Div(this=micros, expression=_n(1e6))


def add_seconds(ts: exp.Expression, seconds: int, dialect: str) -> exp.Expression:
    if dialect == "clickhouse":
        return _f("addSeconds", ts, _n(seconds))
    if dialect in ("duckdb", "postgres"):
        return exp.Add(this=ts, expression=exp.Interval(this=_s(f"{seconds} seconds")))
    return exp.DateAdd(this=ts, expression=_n(seconds), unit=exp.var("SECOND"))


def quantile_cont(value: exp.Expression, q: float, dialect: str) -> exp.Expression:
    """Exact continuous (linearly interpolated, "R7") quantile as an aggregate."""
    if dialect == "duckdb":
        return _f("quantile_cont", value, _n(q))
    if dialect == "clickhouse":
        return exp.ParameterizedAgg(
            this=exp.to_identifier("quantileExactInclusive"), expressions=[_n(q)], params=[value]
        )
    return exp.WithinGroup(
        this=_f("PERCENTILE_CONT", _n(q)),
        expression=exp.Order(expressions=[exp.Ordered(this=value)]),
    )


def quantile_window(value: exp.Expression, q: float, partition: list[exp.Expression]):
    """The exact continuous quantile over a window (BigQuery has no such aggregate)."""
    return exp.Window(
        this=_f("PERCENTILE_CONT", value, _n(q)), partition_by=[p.copy() for p in partition]
    )


def json_text(column: exp.Expression, path: tuple[str, ...], dialect: str) -> exp.Expression:
    """The value at `path` in a JSON object stored as text, as text (NULL when absent)."""
    quoted = ".".join('"' + key.replace('"', '\\"') + '"' for key in path)
    if dialect == "duckdb":
        return _f("json_extract_string", column, _s("$." + quoted))
    if dialect == "clickhouse":
        keys = [_s(key) for key in path]
        kind = _f("JSONType", column, *keys)
        return exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=kind, expression=_s("String")),
                    true=_f("JSONExtractString", column, *keys),
                ),
                exp.If(
                    this=exp.In(this=kind, expressions=[_s("Null"), _s("Object"), _s("Array")]),
                    true=exp.Null(),
                ),
            ],
            default=_f("nullIf", _f("JSONExtractRaw", column, *keys), _s("")),
        )
    if dialect == "postgres":
        return exp.JSONBExtractScalar(
            this=exp.cast(column, "JSONB"), expression=_s("{" + ",".join(path) + "}")
        )
    if dialect == "snowflake":
        return _f("JSON_EXTRACT_PATH_TEXT", column, _s(quoted))
    return _f("JSON_VALUE", column, _s("$." + quoted))


def day_spine(first: date, last: date, dialect: str) -> exp.Select:
    """One row per day from `first` to `last` inclusive, in a column named `day`."""
    count = (last - first).days + 1
    start = day_literal(first, dialect)
    if dialect == "clickhouse":
        numbers = exp.Table(this=_f("numbers", _n(count)))
        return exp.select(exp.alias_(add_days(start, exp.column("number"), dialect), "day")).from_(
            numbers
        )
    if dialect == "duckdb":
        series = exp.Table(
            this=_f("range", _n(0), _n(count)),
            alias=exp.TableAlias(this=exp.to_identifier("n"), columns=[exp.to_identifier("i")]),
        )
        return exp.select(exp.alias_(add_days(start, exp.column("i"), dialect), "day")).from_(
            series
        )
    if dialect == "postgres":
        series = exp.Table(
            this=_f("generate_series", _n(0), _n(count - 1)),
            alias=exp.TableAlias(this=exp.to_identifier("n"), columns=[exp.to_identifier("i")]),
        )
        return exp.select(exp.alias_(add_days(start, exp.column("i"), dialect), "day")).from_(
            series
        )
    if dialect == "snowflake":
        generator = exp.Table(
            this=_f(
                "TABLE", _f("GENERATOR", exp.Kwarg(this=exp.var("ROWCOUNT"), expression=_n(count)))
            )
        )
        index = exp.Sub(
            this=exp.Window(
                this=_f("ROW_NUMBER"), order=exp.Order(expressions=[exp.Ordered(this=_f("SEQ4"))])
            ),
            expression=_n(1),
        )
        return exp.select(exp.alias_(add_days(start, index, dialect), "day")).from_(generator)
    dates = _f("GENERATE_DATE_ARRAY", start, day_literal(last, dialect))
    return exp.select(exp.column("day")).from_(
        exp.Unnest(expressions=[dates], alias=exp.TableAlias(this=exp.to_identifier("day")))
    )


def lag(
    value: exp.Expression,
    offset: int,
    partition: list[exp.Expression],
    order: list[exp.Expression],
    dialect: str,
    *,
    lead: bool = False,
) -> exp.Window:
    """LAG/LEAD over a window; NULL where there is no such row (ClickHouse would give the
    type's default, such as 1970-01-01, unless the value is nullable)."""
    if dialect == "clickhouse":
        value = _f("toNullable", value)
    node = (exp.Lead if lead else exp.Lag)(this=value, offset=_n(offset) if offset != 1 else None)
    return exp.Window(
        this=node,
        partition_by=[p.copy() for p in partition] or None,
        order=exp.Order(expressions=[exp.Ordered(this=o.copy()) for o in order]),
    )


def running_sum(
    value: exp.Expression,
    partition: list[exp.Expression],
    order: list[exp.Expression],
    dialect: str,
) -> exp.Window:
    """SUM over the rows so far (ROWS UNBOUNDED PRECEDING: ties in `order` never merge).

    `order` holds no NULLs; BigQuery (whose ascending order puts NULLs first and which
    refuses NULLS LAST in aggregate windows) is told so, to keep its own default."""
    nulls_first = True if dialect == "bigquery" else None
    return exp.Window(
        this=exp.func("SUM", value),
        partition_by=[p.copy() for p in partition] or None,
        order=exp.Order(
            expressions=[exp.Ordered(this=o.copy(), nulls_first=nulls_first) for o in order]
        ),
        spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING"),
    )
