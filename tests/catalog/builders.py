"""Hand-built data for metric tests and a plain-Python reference for every built-in metric.

The reference reads the rules of SEMANTICS.md (and the catalog descriptions) directly:
local calendar days through `zoneinfo`, persons resolved through the override map, sessions
cut by walking each person's events in order. It never calls the compiler, so a test that
compares the two checks the SQL against an independent reading of the rules.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from sextant.store.schema import TABLES
from sextant.synth import vocab

PARIS = "Europe/Paris"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
INACTIVE = frozenset(
    {
        "$pageleave",
        "$feature_flag_called",
        "$identify",
        "$create_alias",
        "$groupidentify",
        "$set",
        "invoice_paid",
    }
)
COLLABORATION = frozenset({"page_shared", "comment_added", "member_invited"})
SESSION_GAP = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=24)


def local(text: str, tz: str = PARIS) -> datetime:
    """The UTC instant of a local wall-clock time (unambiguous times only)."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: str
    event: str
    timestamp: datetime
    person_id: int
    tenant_id: str | None = None
    plan: str | None = None
    country: str | None = None
    session_id: str | None = None

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": self.event,
            "timestamp": self.timestamp,
            "distinct_id": f"d{self.person_id}",
            "person_id": self.person_id,
            "session_id": self.session_id,
            "tenant_id": self.tenant_id,
            "plan": self.plan,
            "country": self.country,
        }


@dataclass(frozen=True)
class Order:
    tenant_id: str
    order_id: int
    currency: str
    total: Decimal
    created_at: datetime
    test: bool | None = False
    cancelled_at: datetime | None = None

    def row(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "order_id": self.order_id,
            "currency": self.currency,
            "total_price": self.total,
            "created_at": self.created_at,
            "test": self.test,
            "cancelled_at": self.cancelled_at,
        }


@dataclass(frozen=True)
class Refund:
    tenant_id: str
    refund_id: int
    order_id: int
    currency: str
    amount: Decimal
    created_at: datetime

    def row(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "refund_id": self.refund_id,
            "order_id": self.order_id,
            "currency": self.currency,
            "amount": self.amount,
            "created_at": self.created_at,
        }


@dataclass
class Data:
    events: list[Event] = field(default_factory=list)
    segments: dict[int, str | None] = field(default_factory=dict)  # surviving persons
    overrides: dict[int, int] = field(default_factory=dict)  # old person -> survivor
    orders: list[Order] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)

    def who(self, person_id: int) -> int:
        return self.overrides.get(person_id, person_id)

    def tables(self) -> dict[str, list[dict[str, Any]]]:
        created = datetime(2024, 1, 1, tzinfo=UTC)
        tenants = sorted({e.tenant_id for e in self.events if e.tenant_id} | {"t1", "t2"})
        return {
            "tenants": [{"tenant_id": t, "name": t, "created_at": created} for t in tenants],
            "persons": [
                {"person_id": p, "created_at": created, "segment": s}
                for p, s in self.segments.items()
            ],
            "person_overrides": [
                {"old_person_id": old, "person_id": new, "merged_at": created}
                for old, new in self.overrides.items()
            ],
            "events": [e.row() for e in self.events],
            "orders": [o.row() for o in self.orders],
            "refunds": [r.row() for r in self.refunds],
        }


def arrow(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as an Arrow table with the canonical types of table `name`."""
    schema = TABLES[name].arrow_schema()
    present = [f for f in schema if any(f.name in r for r in rows)]
    return pa.Table.from_pylist(rows, schema=pa.schema(present))


def load(engine: Any, data: Data, order: Callable[[list], list] | None = None) -> None:
    """Append every table of `data` (rows in `order(rows)` when given)."""
    for name, rows in data.tables().items():
        if rows:
            engine.append(name, arrow(name, order(rows) if order else rows))


# --- the hand-built data set ------------------------------------------------------------------


def hand_built() -> Data:
    """Events around March 2024 and October 2024 in Paris: the cases every test relies on.

    Persons: 1 (with old id 11), 2, 3, 4 (with old id 12) activity; 5 a power user; 6 the
    sessions case; 7, 8 North Star in t3; 9 SDK sessions; 10 a 24-hour visit; 20-28 sign-ups
    (23 with old id 24); 30 has no persons row. Tenants t1, t2, t3, and a few events without
    a tenant.
    """
    ev: list[Event] = []

    def add(i, name, when, person, tenant, plan="free", country="FR", session=None):
        ev.append(Event(i, name, when, person, tenant, plan, country, session))

    # Activity, with merges: 11 -> 1 and 12 -> 4, events before and after the merge.
    add("a01", "$pageview", local("2024-02-28 10:00"), 3, "t2")
    add("a02", "$pageview", local("2024-03-01 10:00"), 1, "t1")
    add("a03", "$pageview", local("2024-03-01 11:00"), 11, "t1")
    add("a04", "page_edited", local("2024-03-01 12:00"), 2, "t1", "plus", "DE")
    add("a05", "$pageview", local("2024-03-02 10:00"), 1, "t1")
    add("a06", "search_performed", local("2024-03-03 09:00"), 11, "t1")
    add("a07", "$pageleave", local("2024-03-04 10:00"), 2, "t1", "plus", "DE")
    add("a08", "$feature_flag_called", local("2024-03-06 10:00"), 3, "t2")
    add("a09", "page_edited", local("2024-03-06 15:00"), 4, "t2", "business", "US")
    add("a10", "page_edited", local("2024-03-07 15:00"), 12, "t2", "business", "US")
    add("a11", "search_performed", local("2024-03-07 16:00"), 3, "t2")
    add("a12", "$pageview", local("2024-03-05 10:00"), 1, "t1", "plus")
    # Spring forward: Paris 2024-03-31 has 23 hours (UTC+1 until 02:00, then UTC+2).
    add("a13", "$pageview", local("2024-03-31 00:30"), 1, "t1")  # 2024-03-30 23:30 UTC
    add("a14", "search_performed", local("2024-03-31 23:30"), 2, "t1", "plus", "DE")  # 21:30Z
    add("a15", "$pageview", local("2024-04-01 00:30"), 3, "t2")  # 2024-03-31 22:30 UTC
    add("a16", "$pageview", local("2024-03-30 23:30"), 4, "t2", "business", "US")  # 22:30Z
    add("a17", "page_edited", local("2024-03-31 03:10"), 4, "t2", "business", "US")  # 01:10Z
    # A person without a persons row: no segment (a slice of its own).
    add("a18", "block_added", local("2024-03-08 10:00"), 30, "t1", None)
    # A power user: active every day from March 3 to March 20 (18 days).
    for n in range(18):
        day = date(2024, 3, 3) + timedelta(days=n)
        add(f"p{n:02}", "$pageview", local(f"{day} 10:00"), 5, "t1")
    # North Star: t1 has two persons within 7 days (March 14-16); t2 one person under two
    # ids (never); t3 two persons exactly 6 days apart (March 26 only).
    add("n1", "page_shared", local("2024-03-10 10:00"), 1, "t1")
    add("n2", "comment_added", local("2024-03-14 10:00"), 2, "t1", "plus", "DE")
    add("n3", "page_shared", local("2024-03-10 11:00"), 4, "t2", "business", "US")
    add("n4", "comment_added", local("2024-03-11 11:00"), 12, "t2", "business", "US")
    add("n5", "member_invited", local("2024-03-20 10:00"), 7, "t3")
    add("n6", "member_invited", local("2024-03-26 10:00"), 8, "t3")
    # Two persons sharing outside any workspace (no tenant): no workspace is collaborative.
    add("n7", "page_shared", local("2024-03-22 10:00"), 1, None)
    add("n8", "comment_added", local("2024-03-22 11:00"), 5, None)
    # Sessions (SEMANTICS case): 13:00, 13:10 | 13:50, 14:10, 14:25 -> 10 min and 35 min.
    add("s01", "$pageview", local("2024-03-12 13:00"), 6, "t1")
    add("s02", "block_added", local("2024-03-12 13:10"), 6, "t1")
    add("s03", "$pageview", local("2024-03-12 13:50"), 6, "t1")
    add("s04", "block_added", local("2024-03-12 14:10"), 6, "t1")
    add("s05", "$pageleave", local("2024-03-12 14:25"), 6, "t1")
    # Exactly 30:00 continues (09:00-09:30, 1800 s); 30:01 starts a new one-event session.
    add("s06", "$pageview", local("2024-03-13 09:00"), 6, "t1")
    add("s07", "block_added", local("2024-03-13 09:30"), 6, "t1")
    add("s08", "$pageview", local("2024-03-13 10:00:01"), 6, "t1")
    # Bounces: a lone page view; two events 5 s apart (under 10 s, no page view).
    add("s09", "$pageview", local("2024-03-14 09:00"), 6, "t1", "plus")
    add("s10", "block_added", local("2024-03-14 18:00:00"), 6, "t1")
    add("s11", "block_added", local("2024-03-14 18:00:05"), 6, "t1")
    # SDK session ids win over gaps; events without one are sessions of their own.
    add("k1", "$pageview", local("2024-03-12 10:00"), 9, "t2", "plus", "US", "sdk-A")
    add("k2", "block_added", local("2024-03-12 12:00"), 9, "t2", "plus", "US", "sdk-A")
    add("k3", "block_added", local("2024-03-12 10:30"), 9, "t2", "plus", "US")
    add("k4", "$pageview", local("2024-03-30 23:50"), 9, "t2", "plus", "US", "sdk-B")
    add("k5", "$pageview", local("2024-03-31 00:20"), 9, "t2", "plus", "US", "sdk-B")
    # A visit without a 30-minute gap is cut after 24 hours: 06:00 to 05:30, then 06:00.
    for n in range(51):
        add(f"v{n:02}", "$pageview", local("2024-03-20 06:00") + n * SESSION_GAP, 10, "t2")
    # Growth: sign-ups, activation within 7 days, month-1 retention.
    add("g01", "signed_up", local("2024-03-02 10:00"), 20, "t1")
    add("g02", "page_created", local("2024-03-09 10:00"), 20, "t1")  # exactly 7 days
    add("g03", "signed_up", local("2024-03-25 10:00"), 21, "t1", "plus", "DE")  # 09:00Z
    add("g04", "page_created", local("2024-04-01 10:00"), 21, "t1", "plus", "DE")  # 08:00Z
    add("g05", "signed_up", utc("2024-03-26 11:00"), 22, "t2")
    add("g06", "page_created", utc("2024-04-02 11:00:01"), 22, "t2")  # 7 days + 1 s
    add("g07", "signed_up", local("2024-03-03 09:00"), 24, "t2", "business", "US")
    add("g08", "signed_up", local("2024-03-20 09:00"), 23, "t2", "business", "US")
    add("g09", "page_created", local("2024-03-21 09:00"), 23, "t2", "business", "US")
    add("g10", "page_created", local("2024-03-01 09:00"), 25, "t1")
    add("g11", "signed_up", local("2024-03-04 09:00"), 25, "t1")
    add("g12", "signed_up", local("2024-02-27 10:00"), 26, "t1")
    add("g13", "signed_up", local("2024-03-06 10:00"), 26, "t1")
    add("g14", "signed_up", local("2024-02-10 10:00"), 27, "t2")
    add("g15", "$pageview", local("2024-02-28 10:00"), 27, "t2")
    add("g16", "$pageview", local("2024-04-01 10:00"), 27, "t2")
    add("g17", "signed_up", local("2024-02-29 23:30"), 28, "t1")  # 22:30Z
    add("g18", "$pageview", local("2024-03-01 00:10"), 28, "t1")  # 2024-02-29 23:10 UTC
    add("g19", "$pageview", local("2024-04-05 10:00"), 20, "t1")
    add("g20", "$pageleave", local("2024-04-06 10:00"), 25, "t1")
    add("g21", "signed_up", local("2024-03-02 10:00:30"), 20, "t1")  # sent twice
    # Fall back: Paris 2024-10-27 has 25 hours (02:00-03:00 happens twice).
    add("d1", "$pageview", utc("2024-10-26 22:30"), 1, "t1")  # 00:30 CEST, October 27
    add("d2", "$pageview", utc("2024-10-27 22:30"), 2, "t1", "plus", "DE")  # 23:30 CET
    add("d3", "$pageview", utc("2024-10-27 23:30"), 3, "t2")  # 00:30, October 28
    add("d4", "$pageview", utc("2024-10-26 21:30"), 4, "t2", "business", "US")  # 23:30, 26th
    add("d5", "$pageview", utc("2024-10-27 00:40"), 6, "t1")  # 02:40 CEST
    add("d6", "block_added", utc("2024-10-27 01:20"), 6, "t1")  # 02:20 CET, 40 min later
    add("d7", "block_added", utc("2024-10-27 01:45"), 6, "t1")  # 02:45 CET

    orders = [
        Order("t1", 1, "EUR", Decimal("100.00"), local("2024-03-05 10:00")),
        Order("t1", 2, "EUR", Decimal("50.00"), local("2024-03-05 23:30")),
        Order("t1", 3, "EUR", Decimal("30.00"), local("2024-03-06 10:00"), test=True),
        Order("t1", 4, "EUR", Decimal("40.00"), local("2024-03-06 11:00"), None, utc("2024-03-07")),
        Order("t1", 5, "USD", Decimal("10.00"), local("2024-03-10 10:00"), test=None),
        Order("t2", 1, "USD", Decimal("300.00"), local("2024-03-15 10:00")),  # same id as t1's
        Order("t2", 5, "USD", Decimal("200.00"), local("2024-03-31 00:30")),
        Order("t2", 6, "USD", Decimal("60.00"), local("2024-04-01 00:15")),  # March 31 UTC
        Order("t2", 7, "USD", Decimal("70.00"), local("2024-03-10 12:00")),
        Order("t2", 8, "USD", Decimal("25.00"), local("2024-02-29 23:30")),
        Order("t1", 9, "EUR", Decimal("12.50"), utc("2024-10-26 22:30")),
    ]
    refunds = [
        Refund("t1", 1, 1, "EUR", Decimal("20.00"), local("2024-03-20 10:00")),
        Refund("t1", 2, 2, "EUR", Decimal("10.00"), local("2024-04-02 10:00")),
        Refund("t1", 3, 2, "EUR", Decimal("5.00"), local("2024-04-03 10:00")),
        Refund("t2", 1, 7, "USD", Decimal("70.00"), local("2024-03-11 10:00")),
        Refund("t2", 2, 8, "USD", Decimal("5.00"), local("2024-03-01 00:30")),  # 02-29 UTC
        Refund("t1", 4, 3, "EUR", Decimal("30.00"), local("2024-03-08 10:00")),  # a test order
    ]
    segments = {
        1: "individual",
        2: "small_team",
        3: "enterprise",
        4: "small_team",
        5: "individual",
        6: "education",
        7: "individual",
        8: "small_team",
        9: "enterprise",
        10: "individual",
        20: "individual",
        21: "small_team",
        22: "education",
        23: "enterprise",
        25: "individual",
        26: "small_team",
        27: None,
        28: "individual",
    }
    return Data(ev, segments, {11: 1, 12: 4, 24: 23}, orders, refunds)


# --- the reference ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ask:
    """A metric query as the reference reads it."""

    metric: str
    date_from: date
    date_to: date
    grain: str = "day"
    timezone: str = "UTC"
    week_start: str = "monday"
    breakdown: tuple[str, ...] = ()
    where: tuple[tuple[str, str], ...] = ()  # (dimension, value) equalities
    tenants: tuple[str, ...] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, body: dict[str, Any]) -> Ask:
        where = []
        for text in body.get("where", ()):
            match = re.fullmatch(r"\s*(\w+)\s*=\s*'([^']*)'\s*", text)
            assert match, f"the reference reads only dimension = 'value' filters: {text}"
            where.append((match[1], match[2]))
        tenants = body.get("tenants")
        return cls(
            metric=body["metric"],
            date_from=date.fromisoformat(str(body["from"])),
            date_to=date.fromisoformat(str(body["to"])),
            grain=body.get("grain", "day"),
            timezone=body.get("timezone", "UTC"),
            week_start=body.get("week_start", "monday"),
            breakdown=tuple(body.get("breakdown", ())),
            where=tuple(where),
            tenants=tuple(tenants) if tenants is not None else None,
            parameters=dict(body.get("parameters", {})),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def day(self, ts: datetime) -> date:
        return ts.astimezone(self.zone).date()

    def hour(self, ts: datetime) -> datetime:
        return ts.astimezone(self.zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)

    def in_range(self, ts: datetime) -> bool:
        return self.date_from <= self.day(ts) <= self.date_to

    def start(self, day: date, grain: str | None = None) -> date:
        grain = grain or self.grain
        if grain == "week":
            return day - timedelta(days=(day.weekday() - WEEKDAYS.index(self.week_start)) % 7)
        if grain == "month":
            return day.replace(day=1)
        return day

    def end(self, day: date, grain: str | None = None) -> date:
        grain = grain or self.grain
        first = self.start(day, grain)
        if grain == "week":
            return first + timedelta(days=6)
        if grain == "month":
            return next_month(first) - timedelta(days=1)
        return first

    def bucket(self, ts: datetime, grain: str | None = None) -> date | datetime:
        if (grain or self.grain) == "hour":
            return self.hour(ts)
        return self.start(self.day(ts), grain)

    def buckets(self) -> list[date | datetime]:
        if self.grain == "hour":  # every local hour that exists in the range, once
            out: dict[datetime, None] = {}
            at = datetime.combine(self.date_from, datetime.min.time(), self.zone)
            while at.astimezone(self.zone).date() <= self.date_to:
                out.setdefault(self.hour(at))
                at = (at.astimezone(UTC) + timedelta(minutes=15)).astimezone(self.zone)
            return list(out)
        seen = []
        day = self.date_from
        while day <= self.date_to:
            if not seen or seen[-1] != self.start(day):
                seen.append(self.start(day))
            day += timedelta(days=1)
        return seen

    def last_day(self, bucket: date) -> date:
        """The bucket's last day inside the range (where windowed values are read)."""
        return min(self.end(bucket), self.date_to)

    def scoped(self, tenant: str | None) -> bool:
        return self.tenants is None or tenant in self.tenants


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def quantile(values: list[float], q: float) -> float:
    """Continuous quantile with linear interpolation (numpy's default, "R7")."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


@dataclass
class Session:
    events: list[Event]
    person: int

    @property
    def first(self) -> Event:
        return self.events[0]

    @property
    def duration(self) -> float:
        return (self.events[-1].timestamp - self.events[0].timestamp).total_seconds()

    @property
    def bounced(self) -> bool:
        views = sum(e.event == "$pageview" for e in self.events)
        return (views == 1 and len(self.events) == 1) or self.duration < 10


def sessions_of(data: Data, ask: Ask) -> list[Session]:
    """SEMANTICS: SDK session id wins; else a gap over 30 min, or 24 h lasted, starts one.
    Sessions belong to one tenant (a person's events in two tenants are two sessions)."""
    by_sdk: dict[tuple, list[Event]] = defaultdict(list)
    by_person: dict[tuple, list[Event]] = defaultdict(list)
    for e in data.events:
        if not ask.scoped(e.tenant_id):
            continue
        if e.session_id:
            by_sdk[(e.session_id, e.tenant_id)].append(e)
        else:
            by_person[(data.who(e.person_id), e.tenant_id)].append(e)
    out = []
    for events in by_sdk.values():
        events.sort(key=lambda e: (e.timestamp, e.id))
        out.append(Session(events, min(data.who(e.person_id) for e in events)))
    for (person, _), events in by_person.items():
        events.sort(key=lambda e: (e.timestamp, e.id))
        current: list[Event] = []
        for e in events:
            if current and (
                e.timestamp - current[-1].timestamp > SESSION_GAP
                or e.timestamp - current[0].timestamp >= SESSION_MAX
            ):
                out.append(Session(current, person))
                current = []
            current.append(e)
        if current:
            out.append(Session(current, person))
    return out


class Reference:
    """Expected rows of a query: {(bucket, *breakdown, [currency | feature]): value}."""

    def __init__(self, data: Data, ask: Ask, today: date) -> None:
        self.data, self.ask, self.today = data, ask, today

    # The value of dimension `name` for an event, a session or an order.
    def event_dim(self, e: Event, name: str) -> Any:
        if name == "segment":
            return self.data.segments.get(self.data.who(e.person_id))
        if name == "tenant":
            return e.tenant_id
        return getattr(e, name)

    def session_dim(self, s: Session, name: str) -> Any:
        if name == "segment":
            return self.data.segments.get(s.person)
        return self.event_dim(s.first, name)

    def event_slice(self, e: Event) -> tuple:
        return tuple(self.event_dim(e, n) for n in self.ask.breakdown)

    def kept(self, e: Event) -> bool:
        """In the tenant scope and every `where`."""
        ask = self.ask
        return ask.scoped(e.tenant_id) and all(self.event_dim(e, n) == v for n, v in ask.where)

    def active(self, e: Event) -> bool:
        return e.event not in INACTIVE

    def grouped(self, items: Iterable[tuple[datetime, tuple, Any]]) -> dict[tuple, list]:
        groups: dict[tuple, list] = defaultdict(list)
        for ts, key, value in items:
            if self.ask.in_range(ts):
                groups[(self.ask.bucket(ts), *key)].append(value)
        return groups

    def filled(self, values: dict[tuple, Any], empty: Any) -> dict[tuple, Any]:
        """Every bucket for every slice seen (and the whole when unsliced)."""
        slices = {k[1:] for k in values} or ({()} if not self.ask.breakdown else set())
        out = {(b, *s): empty for b in self.ask.buckets() for s in slices}
        return out | values

    # --- metric kinds ----------------------------------------------------------------------

    def windowed(
        self, window: int, min_days: int = 1, flag: str = "active", min_persons: int = 0
    ) -> dict[tuple, int]:
        """Persons (or, with min_persons, tenants with that many persons) active on at least
        `min_days` distinct local days of the `window` days ending on each day."""
        days: dict[tuple, dict[Any, set[date]]] = defaultdict(lambda: defaultdict(set))
        for e in self.data.events:
            ok = self.active(e) if flag == "active" else e.event in COLLABORATION
            if ok and self.kept(e):
                who = self.data.who(e.person_id)
                key = (e.tenant_id, who) if min_persons else who
                days[self.event_slice(e)][key].add(self.ask.day(e.timestamp))

        def on(slice_: tuple, d: date) -> int:
            since = d - timedelta(days=window - 1)
            counted = [
                k for k, ds in days[slice_].items() if sum(since <= a <= d for a in ds) >= min_days
            ]
            if not min_persons:
                return len(counted)
            per_tenant: dict[Any, set] = defaultdict(set)
            for tenant, person in counted:
                if tenant is not None:  # an event without a workspace is no workspace's
                    per_tenant[tenant].add(person)
            return sum(len(p) >= min_persons for p in per_tenant.values())

        values = {
            (b, *s): on(s, self.ask.last_day(b)) for b in self.ask.buckets() for s in list(days)
        }
        return self.filled(values, 0)

    def distinct(self, pick: Callable[[Event], Any], keep: Callable[[Event], bool]):
        groups = self.grouped(
            (e.timestamp, self.event_slice(e), pick(e))
            for e in self.data.events
            if keep(e) and self.kept(e)
        )
        values = {k: len({v for v in vs if v is not None}) for k, vs in groups.items()}
        return self.filled(values, 0)

    def session_values(self, value: Callable[[Session], Any], agg, empty):
        sessions = [
            s
            for s in sessions_of(self.data, self.ask)
            if all(self.session_dim(s, n) == v for n, v in self.ask.where)
        ]
        groups = self.grouped(
            (
                s.first.timestamp,
                tuple(self.session_dim(s, n) for n in self.ask.breakdown),
                value(s),
            )
            for s in sessions
        )
        return self.filled({k: agg(vs) for k, vs in groups.items() if vs}, empty)

    def commerce(self) -> tuple[dict, dict]:
        """(orders per key, net revenue per key with currency last)."""
        refunded: dict[tuple, Decimal] = defaultdict(Decimal)
        for r in self.data.refunds:
            refunded[(r.tenant_id, r.order_id)] += r.amount
        kept = [
            o
            for o in self.data.orders
            if not o.test and o.cancelled_at is None and self.ask.scoped(o.tenant_id)
        ]
        tenant = self.ask.breakdown == ("tenant",)
        assert self.ask.breakdown in ((), ("tenant",)), "orders slice by tenant only"

        def key(o: Order) -> tuple:
            return ((o.tenant_id,) if tenant else ()) + (o.currency,)

        counts = self.grouped((o.created_at, key(o), 1) for o in kept)
        sums = self.grouped(
            (o.created_at, key(o), o.total - refunded[(o.tenant_id, o.order_id)]) for o in kept
        )
        return (
            {k: len(v) for k, v in counts.items()},
            {k: float(sum(v)) for k, v in sums.items()},
        )

    def cohorts(self, unit: str) -> dict[int, tuple[Event, date | datetime]]:
        """Each person's first sign-up in the range and its bucket."""
        first: dict[int, Event] = {}
        for e in sorted(self.data.events, key=lambda e: e.timestamp):
            if e.event == "signed_up" and self.kept(e) and self.ask.in_range(e.timestamp):
                first.setdefault(self.data.who(e.person_id), e)
        return {w: (e, self.ask.bucket(e.timestamp, unit)) for w, e in first.items()}

    def shares(self, cohort, hit: Callable[[int, Event], bool]) -> dict[tuple, float]:
        members: dict[tuple, list[bool]] = defaultdict(list)
        for who, (e, bucket) in cohort.items():
            members[(bucket, *self.event_slice(e))].append(hit(who, e))
        return {k: sum(v) / len(v) for k, v in members.items()}

    def person_events(self, keep: Callable[[Event], bool]) -> dict[int, list[Event]]:
        out: dict[int, list[Event]] = defaultdict(list)
        for e in self.data.events:
            if keep(e) and self.kept(e):
                out[self.data.who(e.person_id)].append(e)
        return out

    def activation(self) -> tuple[dict, dict]:
        cohort = self.cohorts(self.ask.grain)
        pages = self.person_events(lambda e: e.event == "page_created")
        week = timedelta(days=7)

        def hit(who: int, start: Event) -> bool:
            return any(start.timestamp <= p.timestamp <= start.timestamp + week for p in pages[who])

        values = self.shares(cohort, hit)
        incomplete = {k: self.ask.end(k[0]) + week >= self.today for k in values}
        return values, incomplete

    def retention(self) -> tuple[dict, dict]:
        cohort = self.cohorts("month")
        returns = self.person_events(self.active)

        def month(d: date) -> int:
            return d.year * 12 + d.month

        def hit(who: int, start: Event) -> bool:
            first = month(self.ask.day(start.timestamp))
            return any(month(self.ask.day(r.timestamp)) - first == 1 for r in returns[who])

        values = self.shares(cohort, hit)
        incomplete = {k: next_month(next_month(k[0])) > self.today for k in values}
        return values, incomplete

    def adoption(self) -> dict[tuple, float]:
        features = FEATURES
        actives: dict[tuple, set] = defaultdict(set)
        users: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
        for e in self.data.events:
            if self.active(e) and self.kept(e) and self.ask.in_range(e.timestamp):
                key = (self.ask.bucket(e.timestamp), *self.event_slice(e))
                who = self.data.who(e.person_id)
                actives[key].add(who)
                if e.event in features:
                    users[key][e.event].add(who)
        # Every feature in every bucket and slice with active persons; unused ones are 0 %.
        return {
            (*k, f): len(users[k][f]) / len(who) for k, who in actives.items() for f in features
        }

    # --- dispatch ----------------------------------------------------------------------------

    def values(self) -> dict[tuple, Any]:
        m = self.ask.metric
        windows = {"dau": 1, "wau": 7, "mau": 30}
        if m in windows:
            return self.windowed(windows[m])
        if m == "power_users":
            return self.windowed(28, min_days=int(self.ask.parameters.get("min_days", 16)))
        if m == "north_star":
            return self.windowed(7, flag="collaboration", min_persons=2)
        if m == "stickiness":
            dau, mau = self.windowed(1), self.windowed(30)
            ratio = {k: dau.get(k, 0) / v if v else None for k, v in mau.items()}
            return self.filled({k: v for k, v in ratio.items() if v is not None}, None)
        if m == "active_persons":
            return self.distinct(lambda e: self.data.who(e.person_id), self.active)
        if m == "active_tenants":
            return self.distinct(lambda e: e.tenant_id, self.active)
        if m == "signups":
            return self.distinct(
                lambda e: self.data.who(e.person_id), lambda e: e.event == "signed_up"
            )
        if m == "activation_rate":
            return self.activation()[0]
        if m == "retention_m1":
            return self.retention()[0]
        if m == "feature_adoption":
            values = self.adoption()
            if chosen := self.ask.parameters.get("feature"):
                values = {k[:-1]: v for k, v in values.items() if k[-1] == chosen}
            return self.filled(values, None)
        if m == "sessions":
            return self.session_values(lambda s: 1, len, 0)
        if m == "bounced_sessions":
            return self.session_values(lambda s: s.bounced, sum, 0)
        if m == "bounce_rate":
            return self.session_values(lambda s: s.bounced, lambda v: sum(v) / len(v), None)
        if m == "session_duration_avg":
            return self.session_values(lambda s: s.duration, lambda v: sum(v) / len(v), None)
        if m in ("session_duration_p50", "session_duration_p95"):
            q = 0.5 if m.endswith("50") else 0.95
            return self.session_values(lambda s: s.duration, lambda v: quantile(v, q), None)
        if m in ("orders", "revenue", "aov", "refunds"):
            return self.money(m)
        raise AssertionError(f"no reference for {m}")

    def money(self, m: str) -> dict[tuple, Any]:
        if m == "refunds":
            tenant = self.ask.breakdown == ("tenant",)
            groups = self.grouped(
                (r.created_at, ((r.tenant_id,) if tenant else ()) + (r.currency,), r.amount)
                for r in self.data.refunds
                if self.ask.scoped(r.tenant_id)
            )
            return self.filled({k: float(sum(v)) for k, v in groups.items()}, 0)
        counts, sums = self.commerce()
        if m == "revenue":
            return self.filled(sums, 0)
        if m == "aov":
            return self.filled({k: sums[k] / n for k, n in counts.items()}, None)
        # Orders are counted whatever their currency.
        merged: dict[tuple, int] = defaultdict(int)
        for k, n in counts.items():
            merged[k[:-1]] += n
        return self.filled(dict(merged), 0)

    def incomplete(self) -> dict[tuple, bool]:
        if self.ask.metric == "activation_rate":
            return self.activation()[1]
        return self.retention()[1]


# The generated product's features, which events.yaml flags `feature` (an independent list:
# the reference does not read the catalog).
FEATURES = frozenset(vocab.FEATURES)

ADDITIVE = {
    "dau",
    "wau",
    "mau",
    "power_users",
    "north_star",
    "active_persons",
    "active_tenants",
    "signups",
    "sessions",
    "bounced_sessions",
    "orders",
    "revenue",
    "refunds",
}


def observed(rows: list[dict[str, Any]], keys: list[str]) -> dict[tuple, Any]:
    out = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        assert key not in out, f"two rows for {key}"
        out[key] = row["value"]
    return out


def differences(got: dict[tuple, Any], want: dict[tuple, Any], empty: Any) -> list[str]:
    """Keys whose values differ (a key missing on one side reads as `empty`)."""
    out = []
    for key in sorted(set(got) | set(want), key=repr):
        a, b = got.get(key, empty), want.get(key, empty)
        same = (a is None and b is None) or (
            a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        )
        if not same:
            out.append(f"{key}: got {a!r}, expected {b!r}")
    return out
