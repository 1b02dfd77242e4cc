"""Product events of one block as an Arrow table: the planned sessions laid out event by
event, the anonymous page views before signup, invoices, and anonymous-only visitors.

Rows are first built as integer codes in numpy and sorted by time; strings (ids, names,
JSON properties) are made once per make_column with Arrow takes and joins.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.store.schema import EVENTS
from sextant.synth.config import COUNTRIES, DEVICES, EXPERIMENT_FLAG, PLANS, SynthConfig
from sextant.synth.ids import make_uuids, number_ids
from sextant.synth.journeys import MONTH, Journeys
from sextant.synth.people import People
from sextant.synth.profiles import conform_table, take_strings
from sextant.synth.sampling import EVENTS as EVENTS_STREAM
from sextant.synth.sampling import (
    choose_by_group,
    cumsum_within,
    rank_within,
    repeat_owners,
    stream,
)
from sextant.synth.timeline import SECOND, Timeline
from sextant.synth.vocab import (
    APP_URL,
    CODE,
    COLLABORATION_MIX,
    EVENT_NAMES,
    FEATURE_PROPERTIES,
    FEATURES,
    FIRST_APP_PATH,
    FIRST_COLLABORATION,
    FIRST_FEATURE,
    PATHS,
    PRICES,
    SITE_URL,
    weigh_features,
)

LIBRARIES = pa.array(['{"$lib":"web"', '{"$lib":"posthog-python"'])  # client, server
MAX_FEATURES = 150  # feature events in one session
MAX_GAP_S = 600  # seconds between events of a session: far below the 30-minute rule
FAVOURITE = 0.3  # share of a user's feature events that go to their favourite feature
# The steps of a session, in order, and the event each one writes.
PREFIX, OPEN, FLAG, ACT, SUB, FEATURE, COLLAB, LEAVE = range(8)
STEP_CODES = np.array(
    [
        CODE[name]
        for name in (
            "$identify",  # then signed_up: the signup session only
            "$pageview",
            "$feature_flag_called",
            "page_created",
            "subscription_started",
            "page_edited",  # replaced by the drawn feature
            "page_shared",  # replaced by the drawn collaboration event
            "$pageleave",
        )
    ],
    dtype=np.int16,
)
COLUMNS = [
    "ts",
    "code",
    "distinct",
    "person",
    "session",
    "tenant",
    "plan",
    "country",
    "channel",
    "device",
    "path",
    "fragment",
    "anon",
]


@dataclass(frozen=True)
class Vocab:
    """String tables that rows point into; fixed for a config."""

    fragments: pa.StringArray  # property fragments, each starting with a comma
    path_fragment: int
    signup_fragment: int
    flag_fragment: int
    plan_fragment: int  # index of plans[1]; plans[0] (free) has none
    feature_fragment: np.ndarray  # (F, 2): first fragment and count for each feature
    segments: int


def build_vocab(cfg: SynthConfig) -> Vocab:
    texts: list[str] = []

    def add(items: list[str]) -> int:
        texts.extend(items)
        return len(texts) - len(items)

    paths = add(
        [
            f',"$current_url":"{APP_URL if i >= FIRST_APP_PATH else SITE_URL}{p}","$pathname":"{p}"'
            for i, p in enumerate(PATHS)
        ]
    )
    signup = add([f',"channel":"{c}","segment":"{s}"' for c in cfg.channels for s in cfg.segments])
    flags = add(
        [
            f',"$feature_flag":"{EXPERIMENT_FLAG}","$feature_flag_response":"{v}"'
            for v in ("control", "test")
        ]
    )
    plans = add([f',"plan":"{p}","revenue":{PRICES[p]},"currency":"USD"' for p in PLANS[1:]])
    spans = np.zeros((len(FEATURES), 2), dtype=np.int64)
    for f, name in enumerate(FEATURES):
        if name in FEATURE_PROPERTIES:
            key, values = FEATURE_PROPERTIES[name]
            shown = [f'"{v}"' if isinstance(v, str) else str(v) for v in values]
            spans[f] = add([f',"{key}":{v}' for v in shown]), len(values)
    return Vocab(pa.array(texts), paths, signup, flags, plans, spans, len(cfg.segments))


def block_events(
    cfg: SynthConfig, people: People, journeys: Journeys, scale: float, tenant_first: int
) -> pa.Table:
    """All events of the block, sorted by time, with the canonical column types."""
    rng = stream(cfg.seed, people.block.index, EVENTS_STREAM)
    vocab = build_vocab(cfg)
    parts = [
        lay_out_sessions(rng, cfg, people, journeys, scale, vocab),
        lay_out_awareness(people, journeys, cfg.users),
        lay_out_invoices(people, journeys, vocab),
        lay_out_visitors(people, journeys, cfg.users),
    ]
    rows = {k: np.concatenate([p[k] for p in parts]) for k in COLUMNS}
    timeline = Timeline.of(cfg)
    ts = rows["ts"]
    inside = np.flatnonzero((ts >= timeline.start_us) & (ts < timeline.end_us))
    order = inside[np.argsort(ts[inside], kind="stable")]
    rows = {k: v[order] for k, v in rows.items()}
    return encode_events(rng, cfg, people, journeys, rows, vocab, tenant_first)


def lay_out_sessions(rng, cfg, people, journeys, scale, vocab) -> dict[str, np.ndarray]:
    """Events inside the planned sessions, with the user's tenant and its plan at the time."""
    session, pos, step, bounds = expand_sessions(rng, journeys, scale)
    user = journeys.user[session]
    code = name_session_events(rng, cfg, people, journeys, user, pos, step)
    ts = time_session_events(rng, journeys, session, pos, step, bounds[-1])
    tenant = people.tenant[user]
    opens = (step == OPEN) | (step == LEAVE)
    return fill_rows(
        people,
        user,
        ts=ts,
        code=code,
        distinct=user,
        person=people.pid[user],
        session=np.where(people.sdk[user], session, -1),
        tenant=tenant,
        plan=np.where(ts >= journeys.paid_us[tenant], people.tenants.tier[tenant], 0),
        path=np.where(opens, FIRST_APP_PATH + journeys.path[session], -1),
        fragment=fragment_session_events(
            rng, people, journeys, vocab, session, user, pos, step, code, bounds
        ),
        anon=np.where(code == CODE["$identify"], user, -1),
    )


def expand_sessions(rng, journeys: Journeys, scale: float):
    """One row per event of each session, with its step (see STEP_CODES); `bounds[k]` is
    where step k+1 starts in each session, `bounds[-1]` the session's event count."""
    j = journeys
    features = np.minimum(j.forced + rng.poisson(scale * j.weight.astype(np.float64)), MAX_FEATURES)
    parts = [2 * j.first, np.ones_like(j.flags), j.flags, j.act, j.sub, features, j.collab, j.leave]
    bounds = np.cumsum(np.stack([p.astype(np.int64) for p in parts]), axis=0)
    session = repeat_owners(bounds[-1])
    pos = rank_within(bounds[-1])
    step = (pos[None, :] >= bounds[:-1, session]).sum(axis=0)
    return session, pos, step, bounds


def name_session_events(rng, cfg, people, journeys, user, pos, step) -> np.ndarray:
    code = STEP_CODES[step]
    code[(step == PREFIX) & (pos == 1)] = CODE["signed_up"]
    code[step == FEATURE] = draw_features(rng, cfg, people, journeys, user[step == FEATURE])
    code[step == COLLAB] = draw_collaboration(rng, cfg, people, user[step == COLLAB])
    return code


def time_session_events(rng, journeys, session, pos, step, count) -> np.ndarray:
    """Seconds to minutes between events (never near the 30-minute rule); the SDK's own
    events right after signup follow within a second or two."""
    seconds = np.clip(rng.lognormal(np.log(50), 1.0, len(pos)), 1, MAX_GAP_S)
    gap = (seconds * SECOND).astype(np.int64)
    quick = (step == PREFIX) | (step == FLAG) | ((step == OPEN) & journeys.first[session])
    gap = np.where(quick, rng.integers(50_000, 2 * SECOND, len(pos)), gap)
    gap[pos == 0] = 0
    return journeys.start_us[session] + cumsum_within(gap, count)


def fragment_session_events(
    rng, people, journeys, vocab, session, user, pos, step, code, bounds
) -> np.ndarray:
    """Which property fragment each event carries (-1: none)."""
    tenant = people.tenant[user]
    fragment = np.full(len(pos), -1, dtype=np.int64)
    opens = (step == OPEN) | (step == LEAVE)
    fragment[opens] = vocab.path_fragment + FIRST_APP_PATH + journeys.path[session[opens]]
    signed = code == CODE["signed_up"]
    fragment[signed] = vocab.signup_fragment + (
        people.channel[user[signed]].astype(np.int64) * vocab.segments
        + people.segment[user[signed]]
    )
    flag = step == FLAG
    # A polluted user's second flag call in the signup session answers the other variant.
    flipped = people.polluted[user] & journeys.first[session] & (pos == bounds[1, session] + 1)
    fragment[flag] = vocab.flag_fragment + (people.variant[user] ^ flipped)[flag].astype(np.int64)
    sub = step == SUB
    fragment[sub] = vocab.plan_fragment + people.tenants.tier[tenant[sub]] - 1
    feature = step == FEATURE
    fragment[feature] = pick_feature_fragments(rng, vocab, code[feature])
    return fragment


def draw_features(rng, cfg, people, journeys, user) -> np.ndarray:
    """Feature events: Zipf-like popularity bent by segment, paying and device, and a
    favourite feature per user."""
    segments, devices = list(cfg.segments), list(DEVICES)
    table = weigh_features(segments, devices)
    group = (people.segment * 2 + journeys.payer) * len(devices) + people.device
    favourite = choose_by_group(rng, table, group)
    drawn = choose_by_group(rng, table, group[user])
    chosen = np.where(rng.random(len(user)) < FAVOURITE, favourite[user], drawn)
    return (FIRST_FEATURE + chosen).astype(np.int16)


def draw_collaboration(rng, cfg, people, user) -> np.ndarray:
    default = COLLABORATION_MIX["individual"]
    table = np.array([COLLABORATION_MIX.get(s, default) for s in cfg.segments])
    kind = choose_by_group(rng, table, people.segment[user])
    return (FIRST_COLLABORATION + kind).astype(np.int16)


def pick_feature_fragments(rng, vocab: Vocab, code: np.ndarray) -> np.ndarray:
    first, count = vocab.feature_fragment[code - FIRST_FEATURE].T
    value = np.floor(rng.random(len(code)) * count).astype(np.int64)
    return np.where(count > 0, first + value, -1)


def lay_out_awareness(people: People, journeys: Journeys, users: int) -> dict[str, np.ndarray]:
    """Marketing page views before signup, under the anonymous id and person."""
    views = people.awareness
    user = views.owner
    signup_session = np.flatnonzero(journeys.first)
    session = np.where(views.early, len(journeys.user) + user, signup_session[user])
    return fill_rows(
        people,
        user,
        ts=views.ts,
        code=CODE["$pageview"],
        distinct=people.size + user,
        person=users + people.pid[user],
        session=np.where(people.sdk[user], session, -1),
        path=views.path,
        fragment=views.path,
    )


def lay_out_invoices(people: People, journeys: Journeys, vocab: Vocab) -> dict[str, np.ndarray]:
    """A server-side invoice every month of a subscription; no session, no page."""
    user = repeat_owners(journeys.invoices)
    tenant = people.tenant[user]
    tier = people.tenants.tier[tenant]
    return fill_rows(
        people,
        user,
        ts=journeys.sub_us[user] + (rank_within(journeys.invoices) + 1) * MONTH,
        code=CODE["invoice_paid"],
        distinct=user,
        person=people.pid[user],
        tenant=tenant,
        plan=tier,
        fragment=vocab.plan_fragment + tier - 1,
    )


def lay_out_visitors(people: People, journeys: Journeys, users: int) -> dict[str, np.ndarray]:
    """Page views of visitors who never sign up: their own anonymous persons."""
    visitors = people.visitors
    owner = visitors.views.owner
    sessions = len(journeys.user) + people.size + owner
    n = len(owner)
    return {
        "ts": visitors.views.ts,
        "code": np.full(n, CODE["$pageview"]),
        "distinct": 2 * people.size + owner,
        "person": 2 * users + people.block.visitor_first + 1 + owner,
        "session": np.where(visitors.sdk[owner], sessions, -1),
        "tenant": np.full(n, -1),
        "plan": np.full(n, -1),
        "country": visitors.country[owner],
        "channel": visitors.channel[owner],
        "device": visitors.device[owner],
        "path": visitors.views.path,
        "fragment": visitors.views.path,
        "anon": np.full(n, -1),
    }


def fill_rows(people: People, user: np.ndarray, **columns) -> dict[str, np.ndarray]:
    """Rows of users' events: the given columns, the user's country, channel and device,
    and -1 (null) for whatever is not given."""
    n = len(user)
    rows = {k: np.broadcast_to(np.asarray(v), (n,)) for k, v in columns.items()}
    rows.update(
        country=people.country[user], channel=people.channel[user], device=people.device[user]
    )
    return {k: rows.get(k, np.full(n, -1)) for k in COLUMNS}


def encode_events(rng, cfg, people, journeys, rows, vocab, tenant_first) -> pa.Table:
    n = len(rows["ts"])
    distinct = pa.concat_arrays(
        [number_ids("user_", people.block.first + 1, people.size), people.anon_ids]
    )
    sessions = make_uuids(rng, len(journeys.user) + people.size + people.block.visitors)
    tenants = number_ids("ws_", tenant_first + 1, len(people.tenants.size), width=6)
    session_id = take_strings(sessions, rows["session"])
    delay = rng.lognormal(np.log(0.4), 0.8, n) + (rows["device"] > 0) * rng.exponential(2.0, n)
    received = rows["ts"] + (np.minimum(delay, 60.0) * SECOND).astype(np.int64)
    columns = {
        "id": make_uuids(rng, n),
        "event": take_strings(EVENT_NAMES, rows["code"]),
        "timestamp": rows["ts"],
        "received_at": received,
        "distinct_id": take_strings(distinct, rows["distinct"]),
        "person_id": rows["person"],
        "session_id": session_id,
        "tenant_id": take_strings(tenants, rows["tenant"]),
        "source": take_strings(["synth"], np.zeros(n, dtype=np.int8)),
        "plan": take_strings(PLANS, rows["plan"]),
        "country": take_strings(list(COUNTRIES), rows["country"]),
        "channel": take_strings(list(cfg.channels), rows["channel"]),
        "device": take_strings(list(DEVICES), rows["device"]),
        "path": take_strings(PATHS, rows["path"]),
        "properties": build_properties(
            rows["code"] == CODE["invoice_paid"],
            session_id,
            take_strings(vocab.fragments, rows["fragment"]),
            take_strings(distinct, rows["anon"] + people.size * (rows["anon"] >= 0)),
        ),
    }
    return conform_table(EVENTS, **columns)


def build_properties(
    server: np.ndarray, session_id: pa.Array, fragment: pa.Array, anon_id: pa.Array
) -> pa.Array:
    """The JSON object of each event: the sending library first (so every optional part
    can start with a comma), then the session, the event's own properties, the anonymous
    id of an `$identify`."""
    return pc.binary_join_element_wise(
        take_strings(LIBRARIES, server.astype(np.int8)),
        pc.binary_join_element_wise(',"$session_id":"', session_id, '"', ""),
        fragment,
        pc.binary_join_element_wise(',"$anon_distinct_id":"', anon_id, '"', ""),
        "}",
        "",
        null_handling="replace",
        null_replacement="",
    )
