"""A plain-Python reference for the sessions analysis, read from SEMANTICS (Sessions) rather
than from the SQL: sessionise each person's events, keep sessions starting on a local day of
the range, and summarise them per slice."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

GAP, LONGEST = timedelta(minutes=30), timedelta(hours=24)
BINS = ((0, "0s"), (10, "<10s"), (30, "10-30s"), (60, "30-60s"), (180, "1-3m"), (600, "3-10m"))
BINS += ((1800, "10-30m"), (3600, "30-60m"), (math.inf, "1h+"))


def sessionise(events: list, who) -> list[tuple[int, list]]:
    """(person, events) per session: SDK id wins; else > 30 min idle or 24 h lasted splits.
    A session belongs to one tenant."""
    sdk, own = defaultdict(list), defaultdict(list)
    for e in events:
        if e.session_id:
            sdk[(e.session_id, e.tenant_id)].append(e)
        else:
            own[(who(e.person_id), e.tenant_id)].append(e)
    out = []
    for evs in sdk.values():
        evs.sort(key=lambda e: (e.timestamp, e.id))
        out.append((min(who(e.person_id) for e in evs), evs))
    for (person, _), evs in own.items():
        evs.sort(key=lambda e: (e.timestamp, e.id))
        current: list = []
        for e in evs:
            gap = current and e.timestamp - current[-1].timestamp > GAP
            if current and (gap or e.timestamp - current[0].timestamp >= LONGEST):
                out.append((person, current))
                current = []
            current.append(e)
        out.append((person, current))
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def expected(data: Any, body: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    """Per slice (tuple of breakdown values): sessions, persons, avg/p50/p95, bounced, the
    sessions of each local day, duration bins, top entry/exit events and paths."""
    tz = ZoneInfo(body.get("timezone", "UTC"))
    first, last = date.fromisoformat(body["from"]), date.fromisoformat(body["to"])
    tenants = body.get("tenants")
    breakdown = body.get("breakdown", [])
    slices: dict[tuple, list] = defaultdict(list)
    for person, evs in sessionise(data.events, data.who):
        head = evs[0]
        day = head.timestamp.astimezone(tz).date()
        if not first <= day <= last or (tenants is not None and head.tenant_id not in tenants):
            continue
        key = tuple({"tenant": head.tenant_id}.get(n, getattr(head, n, None)) for n in breakdown)
        slices[key].append((person, day, evs))
    out = {}
    for key, found in slices.items():
        durations = [(evs[-1].timestamp - evs[0].timestamp).total_seconds() for _, _, evs in found]
        bounced = sum(
            (len(evs) == 1 and evs[0].event == "$pageview") or dur < 10
            for (_, _, evs), dur in zip(found, durations, strict=True)
        )
        bins: Counter = Counter()
        for dur in durations:
            bins["0s" if dur == 0 else next(label for top, label in BINS[1:] if dur < top)] += 1
        out[key] = {
            "sessions": len(found),
            "persons": len({p for p, _, _ in found}),
            "avg": sum(durations) / len(durations),
            "p50": quantile(durations, 0.5),
            "p95": quantile(durations, 0.95),
            "bounced": bounced,
            "days": Counter(day for _, day, _ in found),
            "bins": {label: bins.get(label, 0) for _, label in BINS},
            "per_person": Counter(Counter(p for p, _, _ in found).values()),
            "entry_events": Counter(evs[0].event for _, _, evs in found),
            "exit_events": Counter(evs[-1].event for _, _, evs in found),
        }
    return out
