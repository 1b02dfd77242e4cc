"""A plain-Python funnel (SEMANTICS F1-F7), with no SQL: each person's events in (timestamp,
event id) order, every chain of step events enumerated literally.

Sequential: every chain e1 < e2 < ... (positions increasing, so timestamps never decrease)
with ek.t - e1.t <= window; strict: consecutive positions among all the person's events;
any order: a maximum matching of steps to events inside the window of each start (by
augmenting paths). An attempt is a step-1 event (a start time, in any order) with its
furthest, earliest chain; exclusions void attempts (F5); the counted path is the attempt
reaching furthest, not voided, completing earliest, starting latest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.catalog.builders import Data, Event, quantile


@dataclass(frozen=True)
class Step:
    event: str
    test: Callable[[Event], bool] = lambda e: True  # the step's filters

    def matches(self, e: Event) -> bool:
        return e.event == self.event and self.test(e)


@dataclass
class Ask:
    steps: list[Step]
    date_from: date
    date_to: date
    timezone: str = "UTC"
    window: int = 14 * 86_400
    order: str = "sequential"
    entry: str = "latest"
    exclusions: list[tuple[Step, int, int]] = field(default_factory=list)
    breakdown: tuple[str, ...] = ()  # Event attribute names: country, plan, tenant_id
    attribution: str | int = "first_touch"
    tenants: tuple[str, ...] | None = None
    today: date = date(2024, 11, 15)

    def instant(self, day: date) -> datetime:
        return datetime.combine(day, time(), ZoneInfo(self.timezone)).astimezone(UTC)


@dataclass
class Attempt:
    start: tuple  # ordering key of the start: latest wins a tie
    t1: datetime
    events: list[Event | None]  # per step, None beyond the reach
    void: bool = False

    @property
    def reach(self) -> int:
        return sum(e is not None for e in self.events)

    @property
    def done(self) -> datetime:
        return self.events[self.reach - 1].timestamp


@dataclass
class Outcome:
    furthest: dict[tuple, dict[int, int]]  # bucket -> furthest step -> persons
    open: dict[tuple, dict[int, int]]  # incomplete persons, by furthest step
    excluded: int
    seconds: dict[int, list[float]]  # step -> seconds from step 1, over counted paths
    paths: dict[int, Attempt]


def funnel(data: Data, ask: Ask) -> Outcome:
    start, end = ask.instant(ask.date_from), ask.instant(ask.date_to + timedelta(days=1))
    window = timedelta(seconds=ask.window)
    persons: dict[int, list[Event]] = defaultdict(list)
    for e in data.events:
        if ask.tenants is not None and e.tenant_id not in ask.tenants:
            continue
        if start <= e.timestamp < end + window:
            persons[data.who(e.person_id)].append(e)
    out = Outcome(
        defaultdict(lambda: defaultdict(int)),
        defaultdict(lambda: defaultdict(int)),
        0,
        defaultdict(list),
        {},
    )
    today = ask.instant(ask.today)
    n = len(ask.steps)
    for who, events in persons.items():
        events.sort(key=lambda e: (e.timestamp, e.id))
        if ask.order == "any":
            attempts = _any(events, ask, start, end, window)
        else:
            attempts = _ordered(events, ask, start, end, window)
        if not attempts:
            continue
        for a in attempts:
            a.void = _void(a, events, ask, window)
        best = min(attempts, key=lambda a: (-a.reach, a.void, a.done, _neg(a.start)))
        if best.void:
            out.excluded += 1
            continue
        out.paths[who] = best
        key = tuple(_attributed(best, ask, name) for name in ask.breakdown)
        out.furthest[key][best.reach] += 1
        last = max(a.t1 for a in attempts)
        if best.reach < n and last + window >= today:
            out.open[key][best.reach] += 1
        for k in range(2, best.reach + 1):
            out.seconds[k].append((best.events[k - 1].timestamp - best.t1).total_seconds())
    return out


def _neg(key: tuple) -> tuple:
    return tuple(-x.timestamp() if isinstance(x, datetime) else -x for x in key)


def _ordered(events, ask: Ask, start, end, window) -> list[Attempt]:
    n = len(ask.steps)
    firsts = [
        i for i, e in enumerate(events) if ask.steps[0].matches(e) and start <= e.timestamp < end
    ]
    if ask.entry == "first":
        firsts = firsts[:1]
    attempts = []
    for i in firsts:
        deadline = events[i].timestamp + window
        best: tuple[int, ...] = (i,)

        def extend(chain: tuple[int, ...], deadline: datetime = deadline) -> None:
            nonlocal best
            if (len(chain), [-p for p in chain]) > (len(best), [-p for p in best]):
                best = chain
            k = len(chain)
            if k == n:
                return
            if ask.order == "strict":
                options = [chain[-1] + 1] if chain[-1] + 1 < len(events) else []
            else:
                options = range(chain[-1] + 1, len(events))
            for j in options:
                e = events[j]
                if e.timestamp <= deadline and ask.steps[k].matches(e):
                    extend((*chain, j), deadline)

        extend((i,))
        chosen = [events[p] for p in best] + [None] * (n - len(best))
        attempts.append(Attempt((i,), events[i].timestamp, chosen))
    return attempts


def _any(events, ask: Ask, start, end, window) -> list[Attempt]:
    n = len(ask.steps)
    starts = sorted(
        {
            e.timestamp
            for e in events
            if start <= e.timestamp < end and any(s.matches(e) for s in ask.steps)
        }
    )
    if ask.entry == "first":
        starts = starts[:1]
    attempts = []
    for t in starts:
        inside = [e for e in events if t <= e.timestamp <= t + window]
        chosen: list[Event | None] = [None] * n
        size = 0
        for m in range(1, len(inside) + 1):
            now = _matching(inside[:m], ask.steps)
            if now > size:  # the m-th event completes step `now`
                chosen[now - 1] = inside[m - 1]
                size = now
        if size:
            attempts.append(Attempt((t,), t, chosen))
    return attempts


def _matching(events: list[Event], steps: list[Step]) -> int:
    """Maximum number of steps matched to distinct events (augmenting paths)."""
    owner: dict[int, int] = {}

    def place(k: int, seen: set[int]) -> bool:
        for j, e in enumerate(events):
            if j in seen or not steps[k].matches(e):
                continue
            seen.add(j)
            if j not in owner or place(owner[j], seen):
                owner[j] = k
                return True
        return False

    return sum(place(k, set()) for k in range(len(steps)))


def _void(a: Attempt, events: list[Event], ask: Ask, window: timedelta) -> bool:
    for step, i, j in ask.exclusions:
        if a.reach < i:
            continue
        ti = a.events[i - 1].timestamp
        for x in events:
            if not step.matches(x) or x.timestamp <= ti:
                continue
            if a.reach >= j and x.timestamp < a.events[j - 1].timestamp:
                return True
            if a.reach < j and x.timestamp <= a.t1 + window:
                return True
    return False


def _attributed(a: Attempt, ask: Ask, name: str):
    values = [getattr(e, name) if e is not None else None for e in a.events]
    if isinstance(ask.attribution, int):
        return values[ask.attribution - 1]
    if ask.attribution == "last_touch":
        values = values[::-1]
    return next((v for v in values if v is not None), None)


def summary(out: Outcome, n: int) -> dict:
    """The numbers the analysis reports, in its own layout: persons reaching each step
    (in total and per bucket), incomplete and excluded persons, time to convert."""
    total: dict[int, int] = defaultdict(int)
    opened: dict[int, int] = defaultdict(int)
    buckets = {}
    for key, furthest in out.furthest.items():
        reached = [sum(furthest.get(j, 0) for j in range(k, n + 1)) for k in range(1, n + 1)]
        buckets[key] = reached
        for k, c in furthest.items():
            total[k] += c
    for counts in out.open.values():
        for k, c in counts.items():
            opened[k] += c
    reached = [sum(total.get(j, 0) for j in range(k, n + 1)) for k in range(1, n + 1)]
    times = {
        k: (sum(v) / len(v), quantile(v, 0.5), quantile(v, 0.95))
        for k, v in out.seconds.items()
        if v
    }
    return {
        "reached": reached,
        "incomplete": [opened.get(k, 0) for k in range(1, n)] + [0],
        "excluded": out.excluded,
        "buckets": buckets,
        "times": times,
    }
