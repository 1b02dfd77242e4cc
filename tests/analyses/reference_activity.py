"""Plain-Python references for the stickiness, lifecycle, adoption and paths analyses.

They read SEMANTICS.md directly and never build SQL: local days through `zoneinfo`, persons
through `Data.overrides`, active = not one of the catalog's inactive events (INACTIVE, an
independent list), features from the generator's vocabulary. Each returns the part of the
analysis result it checks, in the same layout, so a test compares with `==`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from sextant.analyses.run import compile_analysis, parse
from sextant.catalog import load_catalog
from tests.catalog.builders import (
    FEATURES,
    INACTIVE,
    WEEKDAYS,
    Data,
    Event,
    load,
    local,
    next_month,
)

GAP = timedelta(minutes=30)


@dataclass(frozen=True)
class Frame:
    """The shared query fields, as the references read them."""

    date_from: date
    date_to: date
    timezone: str = "UTC"
    week_start: str = "monday"
    breakdown: tuple[str, ...] = ()
    tenants: tuple[str, ...] | None = None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Frame:
        tenants = body.get("tenants")
        breakdown = body.get("breakdown", ())
        return cls(
            date.fromisoformat(str(body["from"])),
            date.fromisoformat(str(body["to"])),
            body.get("timezone", "UTC"),
            body.get("week_start", "monday"),
            (breakdown,) if isinstance(breakdown, str) else tuple(breakdown),
            tuple(tenants) if tenants is not None else None,
        )

    def day(self, e: Event) -> date:
        return e.timestamp.astimezone(ZoneInfo(self.timezone)).date()

    def start(self, day: date, grain: str) -> date:
        if grain == "week":
            return day - timedelta(days=(day.weekday() - WEEKDAYS.index(self.week_start)) % 7)
        if grain == "month":
            return day.replace(day=1)
        return day

    def following(self, start: date, grain: str) -> date:
        if grain == "month":
            return next_month(start)
        return start + timedelta(days=7 if grain == "week" else 1)

    def scoped(self, e: Event) -> bool:
        return self.tenants is None or e.tenant_id in self.tenants

    def in_range(self, e: Event) -> bool:
        return self.date_from <= self.day(e) <= self.date_to

    def slice(self, e: Event) -> tuple:
        return tuple(
            {"tenant": e.tenant_id, "plan": e.plan, "country": e.country}[n] for n in self.breakdown
        )

    def labelled(self, key: tuple) -> dict[str, Any]:
        return dict(zip(self.breakdown, key, strict=True))


def active(e: Event) -> bool:
    return e.event not in INACTIVE


def slice_order(key: tuple) -> tuple:
    return tuple((v is None, str(v)) for v in key)


# --- stickiness -------------------------------------------------------------------------------


def stickiness(data: Data, body: dict[str, Any]) -> list[dict[str, Any]]:
    f = Frame.of(body)
    unit = body.get("unit", "day")
    event = body.get("event")
    keep: Callable[[Event], bool] = (lambda e: e.event == event) if event else active
    seen: dict[tuple, dict[int, set]] = defaultdict(lambda: defaultdict(set))
    for e in data.events:
        if keep(e) and f.scoped(e) and f.in_range(e):
            seen[f.slice(e)][data.who(e.person_id)].add(f.start(f.day(e), unit))
    first = f.start(f.date_from, unit)
    most = (f.date_to - first).days // (7 if unit == "week" else 1) + 1
    out = []
    for key in sorted(seen, key=slice_order):
        counts = Counter(len(p) for p in seen[key].values())
        total = sum(counts.values())
        bars = []
        for n in range(1, most + 1):
            if body.get("cumulative"):
                persons = sum(c for k, c in counts.items() if k >= n)
            else:
                persons = counts.get(n, 0)
            bars.append({"periods": n, "persons": persons, "share": persons / total})
        out.append({**f.labelled(key), "persons": total, "bars": bars})
    return out


# --- lifecycle --------------------------------------------------------------------------------


def lifecycle(data: Data, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Statuses per period, reading each person's whole history up to the end of `to`."""
    f = Frame.of(body)
    grain = body.get("grain", "week")
    event = body.get("event")
    keep: Callable[[Event], bool] = (lambda e: e.event == event) if event else active
    periods: dict[tuple, dict[int, set[date]]] = defaultdict(lambda: defaultdict(set))
    for e in data.events:
        if keep(e) and f.scoped(e) and f.day(e) <= f.date_to:
            periods[f.slice(e)][data.who(e.person_id)].add(f.start(f.day(e), grain))
    shown = [f.start(f.date_from, grain)]
    while f.following(shown[-1], grain) <= f.date_to:
        shown.append(f.following(shown[-1], grain))
    out = []
    for key in sorted(periods, key=slice_order):
        series = []
        for p in shown:
            counts = dict.fromkeys(("new", "returning", "resurrecting", "dormant"), 0)
            for active_in in periods[key].values():
                before = [q for q in active_in if f.following(q, grain) == p]
                if p in active_in:
                    if p == min(active_in):
                        counts["new"] += 1
                    elif before:
                        counts["returning"] += 1
                    else:
                        counts["resurrecting"] += 1
                elif before:
                    counts["dormant"] -= 1
            series.append({"period": p.isoformat(), **counts})
        if any(v for cell in series for k, v in cell.items() if k != "period"):
            out.append({**f.labelled(key), "periods": series})
    return out


# --- adoption ---------------------------------------------------------------------------------


def adoption(data: Data, body: dict[str, Any]) -> list[dict[str, Any]]:
    """Top features per slice with users, rate and rank; per bucket rates when over_time."""
    f = Frame.of(body)
    grain = body.get("grain", "day")
    top = body.get("top", 10)
    chosen = body.get("features")
    features = list(chosen) if chosen is not None else sorted(FEATURES)
    actives: dict[tuple, set] = defaultdict(set)
    actives_in: dict[tuple, dict[date, set]] = defaultdict(lambda: defaultdict(set))
    users: dict[tuple, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    users_in: dict[tuple, dict[tuple, set]] = defaultdict(lambda: defaultdict(set))
    for e in data.events:
        if not (active(e) and f.scoped(e) and f.in_range(e)):
            continue
        key, who, when = f.slice(e), data.who(e.person_id), f.start(f.day(e), grain)
        actives[key].add(who)
        actives_in[key][when].add(who)
        if e.event in features:
            users[key][e.event].add(who)
            users_in[key][(e.event, when)].add(who)
    out = []
    for key in sorted(actives, key=slice_order):
        used = {name: len(who) for name, who in users[key].items()}
        ranked = sorted(used.items(), key=lambda kv: (-kv[1], kv[0]))
        if chosen is not None:
            ranked += sorted((n, 0) for n in chosen if n not in used)
        ranked = ranked[:top]
        total = len(actives[key])
        item = {
            **f.labelled(key),
            "active": total,
            "features": [
                {"feature": name, "users": n, "rate": n / total, "rank": i}
                for i, (name, n) in enumerate(ranked, start=1)
            ],
        }
        if body.get("over_time", True):
            item["over_time"] = [
                {
                    "bucket": when.isoformat(),
                    "active": len(who),
                    "rates": {
                        name: len(users_in[key][(name, when)]) / len(who) for name, _ in ranked
                    },
                }
                for when, who in sorted(actives_in[key].items())
            ]
        out.append(item)
    return out


# --- paths ------------------------------------------------------------------------------------


def paths(data: Data, body: dict[str, Any]) -> dict[str, Any]:
    """Nodes and links as the paths analysis shows them (see its module docstring)."""
    f = Frame.of(body)
    chosen, depth, top = body["event"], body.get("depth", 3), body.get("top", 5)
    exclude = set(body.get("exclude", ()))
    by_person: dict[int, list[Event]] = defaultdict(list)
    for e in data.events:
        if e.event not in exclude and f.scoped(e) and f.in_range(e):
            by_person[data.who(e.person_id)].append(e)
    journeys: list[list[tuple[int, str]]] = []
    for events in by_person.values():
        events.sort(key=lambda e: (e.timestamp, e.id))
        visits: list[list[Event]] = []
        for e in events:
            if not visits or e.timestamp - visits[-1][-1].timestamp > GAP:
                visits.append([])
            visits[-1].append(e)
        if body.get("collapse_repeats", True):
            visits = [
                [e for i, e in enumerate(v) if i == 0 or v[i - 1].event != e.event] for v in visits
            ]
        for visit in visits:
            names = [e.event for e in visit]
            if chosen in names:
                at = names.index(chosen)
                if body.get("direction", "after") == "after":
                    journeys.append([(i, n) for i, n in enumerate(names[at : at + depth + 1])])
                else:
                    part = names[max(0, at - depth) : at + 1]
                    journeys.append([(i - len(part) + 1, n) for i, n in enumerate(part)])
                break
    reached: dict[int, Counter] = defaultdict(Counter)
    for journey in journeys:
        for level, name in journey:
            reached[level][name] += 1
    shown = {
        level: {n for n, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:top]}
        for level, c in reached.items()
    }

    def ident(level: int, name: str) -> str:
        return f"{level}:{name if name in shown[level] else '(other)'}"

    nodes: Counter = Counter()
    links: Counter = Counter()
    for journey in journeys:
        for i, (level, name) in enumerate(journey):
            nodes[ident(level, name)] += 1
            if i:
                links[(ident(*journey[i - 1]), ident(level, name))] += 1
    return {
        "persons": len(journeys),
        "nodes": dict(nodes),
        "links": dict(links),
    }


# --- shared by the tests ----------------------------------------------------------------------

TODAY = date(2024, 11, 15)
NAMES = ("$pageview", "$pageleave", "page_edited", "search_performed", "block_added")


def golden_sql(kind: str, case: str, body: dict[str, Any], dialect: str) -> str:
    """The statements of an analysis case for `dialect`, headed by the case."""
    catalog = load_catalog()
    analysis, query = parse(kind, body, catalog, today=TODAY)
    _, sql = compile_analysis(analysis, catalog, query, dialect)
    parts = [f"-- case: {kind} {case}: {body}"]
    parts += [f"-- statement {name}\n{text};" for name, text in sql.items()]
    return "\n".join(parts) + "\n"


@st.composite
def small_logs(draw: Any, names: tuple[str, ...] = NAMES) -> Data:
    """A few persons' events over March-April 2024 in Paris (across the spring DST change),
    some under an old id merged into another person, in two tenants and plans."""
    count = draw(st.integers(0, 30))
    events = []
    for i in range(count):
        day = draw(st.integers(0, 45))
        minute = draw(st.sampled_from([0, 10, 29, 30, 31, 45, 90, 23 * 60 + 50]))
        when = local("2024-03-01 00:05") + timedelta(days=day, minutes=minute)
        events.append(
            Event(
                f"e{i:03}",
                draw(st.sampled_from(names)),
                when,
                draw(st.integers(1, 6)),
                draw(st.sampled_from(["t1", "t2"])),
                draw(st.sampled_from(["free", "plus", None])),
            )
        )
    merged = draw(st.dictionaries(st.sampled_from([5, 6]), st.integers(1, 2), max_size=2))
    return Data(events, {}, merged)


def reload(engine: Any, data: Data) -> None:
    """Replace every table `data` fills (one store serves many hypothesis examples)."""
    for name in ("events", "person_overrides", "persons", "tenants"):
        verb = "DELETE FROM" if engine.dialect == "duckdb" else "TRUNCATE TABLE"
        engine.execute(f"{verb} {name}")
    load(engine, data)
    engine.mark_written()
