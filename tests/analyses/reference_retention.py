"""A plain-Python reading of SEMANTICS: Retention, for tests: local days through `zoneinfo`,
persons resolved through `Data.overrides`, each member's returns walked one by one. No SQL
and no code of the analysis: a test comparing the two checks the SQL against the rules.

`expected(data, sales, body, today)` gives flat dictionaries; `flatten(result)` reads an
analysis result into the same form.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tests.catalog.builders import INACTIVE, WEEKDAYS, Data, Event, arrow

PERIODS = {"day": 30, "week": 8, "month": 12}
HOURS = {"day": 24, "week": 168, "month": 720}  # rolling windows
DAY_N = (1, 7, 14, 30, 60, 90)


@dataclass(frozen=True)
class Sale:
    """An order tied to a person, with what was refunded of it."""

    order_id: int
    person_id: int | None
    total: Decimal
    created_at: datetime
    tenant_id: str = "t1"
    currency: str = "EUR"
    refunded: Decimal = Decimal(0)
    test: bool | None = False
    cancelled: bool = False


def load_sales(engine: Any, sales: list[Sale]) -> None:
    orders = [
        {
            "tenant_id": s.tenant_id,
            "order_id": s.order_id,
            "person_id": s.person_id,
            "currency": s.currency,
            "total_price": s.total,
            "created_at": s.created_at,
            "test": s.test,
            "cancelled_at": s.created_at if s.cancelled else None,
        }
        for s in sales
    ]
    refunds = [
        {
            "tenant_id": s.tenant_id,
            "refund_id": s.order_id,
            "order_id": s.order_id,
            "currency": s.currency,
            "amount": s.refunded,
            "created_at": s.created_at,
        }
        for s in sales
        if s.refunded
    ]
    if orders:
        engine.append("orders", arrow("orders", orders))
    if refunds:
        engine.append("refunds", arrow("refunds", refunds))


class Rules:
    def __init__(self, body: dict[str, Any], today: date) -> None:
        self.zone = ZoneInfo(body.get("timezone", "UTC"))
        self.first = date.fromisoformat(body["from"])
        self.last = date.fromisoformat(body["to"])
        self.week_start = WEEKDAYS.index(body.get("week_start", "monday"))
        self.unit = body.get("period", "week")
        self.periods = body.get("periods") or PERIODS[self.unit]
        self.recurring = body.get("cohort", "first_time") == "recurring"
        self.after = body.get("criterion", "on") == "on_or_after"
        self.rolling = body.get("window", "calendar") == "rolling"
        self.start_event = body.get("start_event")
        self.return_event = body.get("return_event")
        self.breakdown = tuple(body.get("breakdown", ()))
        self.tenants = body.get("tenants")
        self.day_n = tuple(sorted(set(body.get("day_n", DAY_N))))
        self.today = today

    def day(self, ts: datetime) -> date:
        return ts.astimezone(self.zone).date()

    def midnight(self, day: date) -> datetime:
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    def start_of(self, day: date, unit: str) -> date:
        if unit == "week":
            return day - timedelta(days=(day.weekday() - self.week_start) % 7)
        return day.replace(day=1) if unit == "month" else day

    def plus(self, start: date, unit: str, n: int) -> date:
        if unit == "day":
            return start + timedelta(days=n)
        if unit == "week":
            return start + timedelta(weeks=n)
        month = start.month - 1 + n
        return date(start.year + month // 12, month % 12 + 1, 1)

    def number(self, unit: str, cohort: date, started: datetime, ts: datetime) -> int:
        """Period N of instant `ts` for a member of `cohort` who started at `started`."""
        if self.rolling:
            return (ts - started) // timedelta(hours=HOURS[unit])
        n = 0
        target = self.start_of(self.day(ts), unit)
        while self.plus(cohort, unit, n) < target:
            n += 1
        while self.plus(cohort, unit, n) > target:
            n -= 1
        return n

    def incomplete(self, unit: str, cohort: date, n: int) -> bool:
        """Period n has not fully elapsed by the end of yesterday (rolling: for a member
        starting at the last instant of the cohort's period inside the range)."""
        if self.rolling:
            last_day = min(self.plus(cohort, unit, 1) - timedelta(days=1), self.last)
            ends = self.midnight(last_day + timedelta(days=1)) + timedelta(
                hours=HOURS[unit] * (n + 1)
            )
            return ends > self.midnight(self.today)
        return self.plus(cohort, unit, n + 1) > self.today

    def selected(self, event: Event, name: str | None) -> bool:
        scoped = self.tenants is None or event.tenant_id in self.tenants
        return scoped and (event.event == name if name else event.event not in INACTIVE)

    def slice_of(self, event: Event) -> tuple:
        values = {"plan": event.plan, "country": event.country, "tenant": event.tenant_id}
        return tuple(values[b] for b in self.breakdown)


def members(data: Data, rules: Rules, unit: str) -> list[tuple[int, date, datetime, tuple]]:
    """(who, cohort, started, slice) for each cohort member."""
    seen: dict[tuple, tuple] = {}
    ordered = sorted(data.events, key=lambda e: (e.timestamp, e.id))
    for e in ordered:
        if not rules.selected(e, rules.start_event):
            continue
        if not rules.first <= rules.day(e.timestamp) <= rules.last:
            continue
        who = data.who(e.person_id)
        cohort = rules.start_of(rules.day(e.timestamp), unit)
        key = (who, cohort) if rules.recurring else (who,)
        seen.setdefault(key, (who, cohort, e.timestamp, rules.slice_of(e)))
    return list(seen.values())


def returned(data: Data, rules: Rules, unit: str, shown: tuple[int, ...]) -> dict:
    """(slice, cohort) -> {"size": n, N: persons}."""
    backs: dict[int, list[datetime]] = defaultdict(list)
    for e in data.events:
        if rules.selected(e, rules.return_event):
            backs[data.who(e.person_id)].append(e.timestamp)
    out: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    for who, cohort, started, slice_ in members(data, rules, unit):
        cells = out[(slice_, cohort)]
        cells["size"] += 1
        ns = {rules.number(unit, cohort, started, ts) for ts in backs[who]}
        ns = {n for n in ns if n >= 1}
        for n in shown:
            if (max(ns, default=0) >= n) if rules.after else (n in ns):
                cells[n] += 1
    return out


def expected(data: Data, sales: list[Sale], body: dict[str, Any], today: date) -> dict:
    """{"cells": {(slice, cohort, N): (persons, size, incomplete)}, "average": {(slice, N):
    rate}, "day_n": {(slice, D): rate}, "ltv": {(slice, cohort, currency, N): cumulative}}."""
    rules = Rules(body, today)
    shown = tuple(range(1, rules.periods + 1))
    cells, average = {}, {}
    matrix = returned(data, rules, rules.unit, shown)
    for (slice_, cohort), found in matrix.items():
        size = found["size"]
        for n in range(rules.periods + 1):
            persons = size if n == 0 else found.get(n, 0)
            cells[(slice_, cohort, n)] = (persons, size, rules.incomplete(rules.unit, cohort, n))
    slices = {s for s, _ in matrix}
    for slice_ in slices:
        for n in range(rules.periods + 1):
            average[(slice_, n)] = _weighted(rules, rules.unit, matrix, slice_, n)
    days = returned(data, rules, "day", rules.day_n)
    day_n = {(s, n): _weighted(rules, "day", days, s, n) for s in slices for n in rules.day_n}
    ltv = _ltv(data, sales, rules) if body.get("revenue") else {}
    return {"cells": cells, "average": average, "day_n": day_n, "ltv": ltv}


def _weighted(rules: Rules, unit: str, matrix: dict, slice_: tuple, n: int) -> float | None:
    done = [
        found
        for (s, cohort), found in matrix.items()
        if s == slice_ and not rules.incomplete(unit, cohort, n)
    ]
    size = sum(f["size"] for f in done)
    if not size:
        return None
    return 1.0 if n == 0 else sum(f.get(n, 0) for f in done) / size


def _ltv(data: Data, sales: list[Sale], rules: Rules) -> dict:
    spent: dict[tuple, float] = defaultdict(float)
    for who, cohort, started, slice_ in members(data, rules, rules.unit):
        for s in sales:
            if s.person_id is None or data.who(s.person_id) != who or s.test or s.cancelled:
                continue
            if rules.tenants is not None and s.tenant_id not in rules.tenants:
                continue
            n = rules.number(rules.unit, cohort, started, s.created_at)
            if s.created_at < started or n > rules.periods:
                continue
            for later in range(n, rules.periods + 1):
                spent[(slice_, cohort, s.currency, later)] += float(s.total - s.refunded)
    return {k: v for k, v in spent.items() if v}


def flatten(result: dict[str, Any], breakdown: tuple[str, ...] = ()) -> dict:
    """An analysis result (as the API answers) in the form of `expected`."""
    cells, average, day_n, ltv = {}, {}, {}, {}
    for one in result["slices"]:
        slice_ = tuple(one[b] for b in breakdown)
        for c in one["cohorts"]:
            cohort = date.fromisoformat(c["cohort"])
            for cell in c["cells"]:
                key = (slice_, cohort, cell["period"])
                cells[key] = (cell["persons"], c["size"], cell["incomplete"])
            for cell in c.get("ltv", []):
                if cell["revenue"]:
                    ltv[(slice_, cohort, cell["currency"], cell["period"])] = cell["revenue"]
        for point in one["average"]:
            average[(slice_, point["period"])] = point["rate"]
        for point in one["day_n"]:
            day_n[(slice_, point["day"])] = point["rate"]
    return {"cells": cells, "average": average, "day_n": day_n, "ltv": ltv}
