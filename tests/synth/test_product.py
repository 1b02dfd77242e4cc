"""The product-analytics data set (seed 003): shapes and types, determinism, the mixes
and distributions it promises, identity consistency and the planted experiment effect."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from itertools import pairwise

import pyarrow as pa
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import TABLES
from sextant.synth import dataset
from sextant.synth.config import EXPERIMENT_FLAG, SynthConfig
from sextant.synth.product import product_tables
from sextant.synth.vocab import COLLABORATION, FEATURES

SMALL = SynthConfig(users=3_000, events=45_000)
TINY = SynthConfig(users=600, events=9_000, chunk_rows=2_500)
PRODUCT_TABLES = ("tenants", "persons", "person_distinct_ids", "person_overrides", "events")
INACTIVE = "('$pageleave', '$feature_flag_called', 'invoice_paid')"
NOT_FEATURES = ", ".join(
    f"'{e}'"
    for e in (
        "$pageview",
        "$pageleave",
        "$identify",
        "signed_up",
        "$feature_flag_called",
        "page_created",
        "subscription_started",
        "invoice_paid",
        *COLLABORATION,
    )
)


def generate(cfg: SynthConfig) -> dict[str, pa.Table]:
    return dataset.collect(product_tables(cfg))


def load(tables: dict[str, pa.Table]) -> DuckDBEngine:
    """The tables in an in-memory store, plus `ev`: events with the person they resolve to."""
    engine = DuckDBEngine(":memory:")
    for name, table in tables.items():
        engine.append(name, table, dedupe=False)
    engine.execute(
        "CREATE VIEW ev AS SELECT e.*, coalesce(o.person_id, e.person_id) AS pid "
        "FROM events e LEFT JOIN person_overrides o ON o.old_person_id = e.person_id"
    )
    return engine


def one(engine: DuckDBEngine, sql: str) -> dict:
    return engine.execute(sql).to_pylist()[0]


def rows(engine: DuckDBEngine, sql: str) -> list[dict]:
    return engine.execute(sql).to_pylist()


@pytest.fixture(scope="module")
def small() -> dict[str, pa.Table]:
    return generate(SMALL)


@pytest.fixture(scope="module")
def db(small):
    engine = load(small)
    yield engine
    engine.close()


# --- shape, types, determinism --------------------------------------------------------------


def test_chunks_have_canonical_types_and_bounded_rows_when_chunk_rows_is_small():
    seen = []
    for name, chunk in product_tables(TINY):
        canonical = TABLES[name].arrow_schema()
        assert all(f.type == canonical.field(f.name).type for f in chunk.schema), name
        assert set(canonical.names) >= set(chunk.schema.names)
        assert chunk.num_rows <= TINY.chunk_rows
        seen.append(name)
    order = [n for i, n in enumerate(seen) if i == 0 or seen[i - 1] != n]
    assert order == list(PRODUCT_TABLES)


def test_output_is_identical_when_seed_is_the_same():
    first, second = generate(TINY), generate(TINY)
    assert all(first[name].equals(second[name]) for name in PRODUCT_TABLES)


def test_output_differs_when_seed_differs():
    first, other = generate(TINY), generate(SynthConfig(**{**TINY.__dict__, "seed": 7}))
    assert not first["events"].equals(other["events"])
    assert first["persons"]["segment"] != other["persons"]["segment"]


def test_data_does_not_depend_on_chunk_rows():
    chunked = generate(TINY)
    whole = generate(SynthConfig(**{**TINY.__dict__, "chunk_rows": 1_000_000}))
    assert all(chunked[name].equals(whole[name]) for name in PRODUCT_TABLES)


def test_event_ids_are_unique_uuid4(small):
    ids = small["events"]["id"]
    assert ids.null_count == 0
    assert len(set(ids.to_pylist())) == len(ids)
    assert {uuid.UUID(i).version for i in ids.slice(0, 500).to_pylist()} == {4}


def test_properties_are_json_objects_with_pii_keys_on_persons(small):
    for prop in small["events"]["properties"].slice(0, 5_000).to_pylist():
        assert isinstance(json.loads(prop), dict)
    person = json.loads(small["persons"]["properties"][0].as_py())
    assert {"email", "name", "role"} <= set(person)
    assert "@" in person["email"]


# --- volumes and mixes ---------------------------------------------------------------------


def test_event_total_is_within_ten_percent_of_config(small):
    assert abs(small["events"].num_rows / SMALL.events - 1) < 0.10


def test_events_stay_inside_the_date_range(db):
    span = one(db, "SELECT min(timestamp) AS lo, max(timestamp) AS hi FROM events")
    assert span["lo"] >= datetime(2023, 1, 1, tzinfo=UTC)
    assert span["hi"] < datetime(2026, 1, 1, tzinfo=UTC)


def test_events_are_received_shortly_after_they_happen(db):
    got = one(
        db,
        "SELECT min(epoch(received_at - timestamp)) AS lo, max(epoch(received_at - timestamp)) "
        "AS hi, count(*) FILTER (WHERE source <> 'synth') AS other FROM events",
    )
    assert got["lo"] > 0 and got["hi"] <= 60
    assert got["other"] == 0


def test_persons_are_the_configured_users_with_ids_from_one(db):
    got = one(db, "SELECT count(*) AS n, min(person_id) AS lo, max(person_id) AS hi FROM persons")
    assert got == {"n": SMALL.users, "lo": 1, "hi": SMALL.users}


def test_segment_shares_match_config(db):
    shares = {
        r["segment"]: r["share"]
        for r in rows(db, "SELECT segment, count(*) / 3000 AS share FROM persons GROUP BY 1")
    }
    assert shares.keys() == SMALL.segments.keys()
    assert all(abs(shares[s] - w) < 0.03 for s, w in SMALL.segments.items())


def test_six_channels_are_present_in_their_shares(db):
    shares = {
        r["channel"]: r["share"]
        for r in rows(db, "SELECT channel, count(*) / 3000 AS share FROM persons GROUP BY 1")
    }
    assert len(shares) == 6
    assert all(abs(shares[c] - w) < 0.03 for c, w in SMALL.channels.items())


def test_paid_conversion_is_near_config_and_highest_for_enterprise(db):
    paid = one(db, "SELECT avg((plan <> 'free')::int) AS p FROM persons")["p"]
    assert abs(paid - SMALL.paid_conversion) <= 0.02
    by_segment = {
        r["segment"]: r["p"]
        for r in rows(db, "SELECT segment, avg((plan <> 'free')::int) AS p FROM persons GROUP BY 1")
    }
    assert by_segment["enterprise"] > 3 * by_segment["individual"]
    assert by_segment["small_team"] > 2 * by_segment["individual"]
    mismatched = one(
        db,
        "SELECT count(*) AS n FROM persons p FULL JOIN (SELECT DISTINCT pid FROM ev "
        "WHERE event = 'subscription_started') s ON s.pid = p.person_id "
        "WHERE (p.plan <> 'free') <> (s.pid IS NOT NULL)",
    )
    assert mismatched["n"] == 0


def test_subscriptions_carry_plan_revenue_and_currency(db):
    sub = one(db, "SELECT properties FROM events WHERE event = 'subscription_started' LIMIT 1")
    props = json.loads(sub["properties"])
    assert props["plan"] in ("plus", "business", "enterprise")
    assert props["currency"] == "USD"
    assert isinstance(props["revenue"], int | float)


def test_events_per_user_have_a_heavy_tail(db):
    got = one(
        db,
        "SELECT avg(n) AS mean, median(n) AS med, quantile_cont(n, 0.99) AS p99 FROM "
        "(SELECT pid, count(*) AS n FROM ev WHERE pid <= 3000 GROUP BY 1)",
    )
    assert 12 <= got["mean"] <= 18
    assert got["p99"] >= 5 * got["med"]


def test_feature_usage_has_a_long_tail(db):
    counts = [
        r["n"]
        for r in rows(
            db,
            f"SELECT event, count(*) AS n FROM events WHERE event NOT IN ({NOT_FEATURES}) "
            "GROUP BY 1 ORDER BY n DESC",
        )
    ]
    assert 25 <= len(counts) <= len(FEATURES)
    assert counts[0] >= 10 * counts[-1]
    assert sum(counts[:5]) > sum(counts[5:])


def test_signups_grow_and_dip_on_weekends(db):
    got = one(
        db,
        "SELECT count(*) FILTER (WHERE year(timestamp) = 2025) AS late, "
        "count(*) FILTER (WHERE year(timestamp) = 2023) AS early, "
        "count(*) FILTER (WHERE isodow(timestamp) >= 6) / 2 AS weekend_day, "
        "count(*) FILTER (WHERE isodow(timestamp) < 6) / 5 AS weekday "
        "FROM events WHERE event = 'signed_up'",
    )
    assert got["late"] > 1.5 * got["early"]
    assert got["weekend_day"] < 0.8 * got["weekday"]


def test_team_users_share_workspaces_and_individuals_have_their_own(db):
    sizes = {
        r["segment"]: r
        for r in rows(
            db,
            "SELECT segment, count(*) / count(DISTINCT tenant_id) AS mean, "
            "count(DISTINCT tenant_id) AS tenants FROM persons GROUP BY 1",
        )
    }
    assert sizes["individual"]["mean"] == 1
    assert 2 <= sizes["small_team"]["mean"] <= SMALL.users_per_tenant
    assert sizes["enterprise"]["mean"] > 2 * sizes["small_team"]["mean"]
    team = one(
        db,
        "SELECT count(*) / count(DISTINCT tenant_id) AS mean FROM persons "
        "WHERE segment <> 'individual'",
    )
    assert abs(team["mean"] - SMALL.users_per_tenant) < 1.0
    orphans = one(
        db,
        "SELECT count(*) AS n FROM persons p LEFT JOIN tenants t USING (tenant_id) "
        "WHERE t.tenant_id IS NULL",
    )
    assert orphans["n"] == 0


def test_user_events_carry_their_tenant_and_its_plan(db):
    wrong = one(
        db,
        "SELECT count(*) FILTER (WHERE e.tenant_id IS DISTINCT FROM p.tenant_id) AS tenant, "
        "count(*) FILTER (WHERE e.plan NOT IN ('free', t.plan)) AS plan, "
        "count(*) FILTER (WHERE e.country <> p.country OR e.channel <> p.channel) AS slice "
        "FROM events e JOIN persons p USING (person_id) "
        "JOIN tenants t ON t.tenant_id = p.tenant_id",
    )
    assert wrong == {"tenant": 0, "plan": 0, "slice": 0}
    anonymous = one(
        db,
        "SELECT count(*) AS n FROM events WHERE person_id > 3000 AND tenant_id IS NOT NULL",
    )
    assert anonymous["n"] == 0


# --- identity --------------------------------------------------------------------------------


def test_every_event_person_and_distinct_id_is_known(db):
    unknown = one(
        db,
        "SELECT count(*) FILTER (WHERE d.distinct_id IS NULL) AS distinct_ids, "
        "count(*) FILTER (WHERE d.person_id <> e.pid) AS mismatched, "
        "count(*) FILTER (WHERE e.person_id NOT IN (SELECT person_id FROM persons) "
        "  AND e.person_id NOT IN (SELECT old_person_id FROM person_overrides) "
        "  AND e.person_id <= 6000) AS persons "
        "FROM ev e LEFT JOIN person_distinct_ids d USING (distinct_id)",
    )
    assert unknown == {"distinct_ids": 0, "mismatched": 0, "persons": 0}


def test_pre_signup_pageviews_resolve_to_the_user_when_overrides_apply(db):
    got = one(
        db,
        "WITH s AS (SELECT pid, min(timestamp) AS t FROM ev WHERE event = 'signed_up' GROUP BY 1)"
        " SELECT count(DISTINCT e.pid) AS users, "
        " count(*) FILTER (WHERE e.distinct_id NOT LIKE 'anon_%') AS named, "
        " max(s.t - e.timestamp) AS longest "
        " FROM ev e JOIN s USING (pid) WHERE e.event = '$pageview' AND e.timestamp < s.t",
    )
    assert got["users"] == SMALL.users
    assert got["named"] == 0
    assert got["longest"].days <= 22
    created = one(
        db,
        "SELECT count(*) AS n FROM persons p JOIN (SELECT pid, min(timestamp) AS t FROM ev "
        "GROUP BY 1) f ON f.pid = p.person_id WHERE f.t <> p.created_at",
    )
    assert created["n"] == 0


def test_identify_names_the_anonymous_id_it_merges(db):
    got = one(
        db,
        "SELECT count(*) AS n, count(*) FILTER (WHERE json_extract_string(e.properties, "
        "'$.$anon_distinct_id') = d.distinct_id) AS matched FROM events e "
        "JOIN person_overrides o ON o.person_id = e.person_id "
        "JOIN person_distinct_ids d ON d.person_id = o.person_id "
        "  AND d.distinct_id LIKE 'anon_%' WHERE e.event = '$identify'",
    )
    assert got["n"] == got["matched"] == SMALL.users


def test_anonymous_only_visitors_are_modest_and_never_merged(db):
    got = one(
        db,
        "SELECT count(DISTINCT person_id) AS visitors FROM events WHERE person_id > 6000",
    )
    assert 0.2 * SMALL.users <= got["visitors"] <= 0.5 * SMALL.users
    merged = one(db, "SELECT count(*) AS n FROM person_overrides WHERE old_person_id > 6000")
    assert merged["n"] == 0


# --- sessions and journeys -------------------------------------------------------------------


def test_sessions_are_bursts_separated_by_long_gaps(db):
    gaps = one(
        db,
        "WITH g AS (SELECT epoch(timestamp - lag(timestamp) OVER (PARTITION BY pid "
        "ORDER BY timestamp)) / 60 AS minutes FROM ev WHERE event <> 'invoice_paid') "
        "SELECT avg((minutes < 10)::int) AS short, "
        "count(*) FILTER (WHERE minutes BETWEEN 25 AND 35) AS middle, "
        "avg((minutes > 60)::int) AS long FROM g WHERE minutes IS NOT NULL",
    )
    assert gaps["short"] > 0.6
    assert gaps["middle"] == 0
    assert gaps["long"] > 0.15
    inside = one(
        db,
        "SELECT max(epoch(timestamp - lag)) / 60 AS longest FROM (SELECT timestamp, "
        "lag(timestamp) OVER (PARTITION BY session_id ORDER BY timestamp) AS lag "
        "FROM events WHERE session_id IS NOT NULL)",
    )
    assert inside["longest"] < 30


def test_sdk_sessions_open_with_a_pageview_and_carry_their_id(db):
    first = rows(
        db,
        "SELECT DISTINCT arg_min(event, timestamp) AS event FROM events "
        "WHERE session_id IS NOT NULL GROUP BY session_id",
    )
    assert first == [{"event": "$pageview"}]
    got = one(
        db,
        "SELECT count(*) FILTER (WHERE json_extract_string(properties, '$.$session_id') "
        "IS DISTINCT FROM session_id) AS mismatched, "
        "count(DISTINCT pid) FILTER (WHERE session_id IS NOT NULL) / 3000 AS sdk_share "
        "FROM ev WHERE event <> 'invoice_paid' AND pid <= 3000",
    )
    assert got["mismatched"] == 0
    assert 0.4 < got["sdk_share"] < 0.6


def journey(db) -> list[int]:
    """Persons reaching each of the seven stages, each stage requiring the ones before."""
    stage = {
        "awareness": "SELECT DISTINCT pid FROM ev WHERE event = '$pageview' "
        "AND path NOT LIKE '/app%'",
        "signup": "SELECT DISTINCT pid FROM ev WHERE event = 'signed_up'",
        "activation": "SELECT DISTINCT pid FROM ev WHERE event = 'page_created'",
        "engagement": f"SELECT pid FROM ev WHERE event NOT IN ({NOT_FEATURES}) GROUP BY 1 "
        "HAVING count(DISTINCT timestamp::date) >= 3",
        "habit": f"SELECT DISTINCT pid FROM (SELECT pid FROM ev WHERE event NOT IN {INACTIVE} "
        "GROUP BY pid, date_trunc('week', timestamp) "
        "HAVING count(DISTINCT timestamp::date) >= 3)",
        "collaboration": "SELECT DISTINCT pid FROM ev WHERE event IN "
        "('page_shared', 'member_invited', 'comment_added')",
        "monetization": "SELECT DISTINCT pid FROM ev WHERE event = 'subscription_started'",
    }
    counts, reached = [], None
    for sql in stage.values():
        reached = (
            sql if reached is None else f"SELECT pid FROM ({reached}) JOIN ({sql}) USING (pid)"
        )
        counts.append(one(db, f"SELECT count(*) AS n FROM ({reached})")["n"])
    return counts


def test_journey_stages_shrink_with_the_largest_drop_after_activation(db):
    counts = journey(db)
    assert all(a > b > 0 for a, b in pairwise(counts))
    drops = [1 - b / a for a, b in pairwise(counts)]
    assert max(drops) == drops[2]  # activation -> engagement
    assert 0.5 < counts[2] / counts[1] < 0.7  # about 60 % of signups activate


def test_team_segments_collaborate_more(db):
    rate = {
        r["segment"]: r["rate"]
        for r in rows(
            db,
            "SELECT p.segment, avg((c.pid IS NOT NULL)::int) AS rate FROM persons p "
            "LEFT JOIN (SELECT DISTINCT pid FROM ev WHERE event IN "
            "('page_shared', 'member_invited', 'comment_added')) c ON c.pid = p.person_id "
            "GROUP BY 1",
        )
    }
    assert rate["small_team"] > 1.5 * rate["individual"]
    assert rate["enterprise"] > 1.5 * rate["individual"]


def test_exposures_follow_signup_in_the_last_six_months_with_a_stable_variant(db):
    got = one(
        db,
        "WITH f AS (SELECT pid, min(timestamp) AS first, "
        "count(DISTINCT json_extract_string(properties, '$.$feature_flag_response')) AS variants,"
        f" count(*) FILTER (WHERE properties NOT LIKE '%{EXPERIMENT_FLAG}%') AS other_flag "
        "FROM ev WHERE event = '$feature_flag_called' GROUP BY 1), "
        "s AS (SELECT pid, min(timestamp) AS signup FROM ev WHERE event = 'signed_up' GROUP BY 1)"
        " SELECT count(*) AS exposed, min(signup)::date AS earliest, "
        " max(epoch(first - signup)) AS lag_s, sum(other_flag) AS other_flag, "
        " count(*) FILTER (WHERE variants > 1) AS both_variants FROM f JOIN s USING (pid)",
    )
    assert got["earliest"] >= date(2025, 7, 3)
    assert got["lag_s"] < 10
    assert got["other_flag"] == 0
    assert got["both_variants"] <= 0.03 * got["exposed"]
    in_window = one(
        db,
        "SELECT count(*) AS n FROM events WHERE event = 'signed_up' "
        "AND timestamp >= TIMESTAMPTZ '2025-07-03'",
    )
    assert 0.4 < got["exposed"] / in_window["n"] < 0.6


def test_experiment_lifts_seven_day_activation_in_test_variant():
    cfg = SynthConfig(users=20_000, events=300_000, start=date(2025, 5, 1), end=date(2025, 12, 31))
    engine = load(generate(cfg))
    arms = {
        r["variant"]: r
        for r in rows(
            engine,
            "WITH f AS (SELECT pid, min(timestamp) AS t, count(DISTINCT "
            "json_extract_string(properties, '$.$feature_flag_response')) AS variants, "
            "arg_min(json_extract_string(properties, '$.$feature_flag_response'), timestamp) "
            "AS variant FROM ev WHERE event = '$feature_flag_called' GROUP BY 1), "
            "a AS (SELECT pid, min(timestamp) AS activated FROM ev "
            "WHERE event = 'page_created' GROUP BY 1) "
            "SELECT variant, count(*) AS n, "
            "avg((a.activated IS NOT NULL AND a.activated <= f.t + INTERVAL 7 DAY)::int) AS rate "
            "FROM f LEFT JOIN a USING (pid) WHERE variants = 1 GROUP BY 1",
        )
    }
    polluted = one(
        engine,
        "SELECT count(*) AS n FROM (SELECT pid FROM ev WHERE event = '$feature_flag_called' "
        "GROUP BY 1 HAVING count(DISTINCT properties LIKE '%\"test\"%') > 1)",
    )
    engine.close()
    control, test = arms["control"], arms["test"]
    lift = test["rate"] / control["rate"] - 1
    assert abs(lift - cfg.experiment_lift) < 0.06
    assert abs(test["n"] - control["n"]) < 4 * (test["n"] + control["n"]) ** 0.5  # no SRM
    assert 0 < polluted["n"] < 0.02 * (test["n"] + control["n"])


def test_retention_decays_and_later_cohorts_retain_better():
    engine = load(generate(SynthConfig(users=30_000, events=450_000)))
    cohorts = rows(
        engine,
        "WITH s AS (SELECT pid, min(timestamp) AS t FROM ev WHERE event = 'signed_up' "
        "GROUP BY 1), "
        f"a AS (SELECT DISTINCT pid, timestamp AS seen FROM ev WHERE event NOT IN {INACTIVE}) "
        "SELECT t < TIMESTAMPTZ '2024-01-01' AS early, "
        "count(DISTINCT pid) FILTER (WHERE seen >= t + INTERVAL 30 DAY "
        "  AND seen < t + INTERVAL 60 DAY) / count(DISTINCT pid) AS m1, "
        "count(DISTINCT pid) FILTER (WHERE seen >= t + INTERVAL 90 DAY "
        "  AND seen < t + INTERVAL 120 DAY) / count(DISTINCT pid) AS m3, "
        "count(DISTINCT pid) FILTER (WHERE seen >= t + INTERVAL 180 DAY "
        "  AND seen < t + INTERVAL 210 DAY) / count(DISTINCT pid) AS m6 "
        "FROM s JOIN a USING (pid) WHERE t < TIMESTAMPTZ '2025-06-01' "
        "  AND (t < TIMESTAMPTZ '2024-01-01' OR t >= TIMESTAMPTZ '2025-01-01') GROUP BY 1",
    )
    engine.close()
    early = next(c for c in cohorts if c["early"])
    late = next(c for c in cohorts if not c["early"])
    for cohort in (early, late):
        assert cohort["m1"] > cohort["m3"] > cohort["m6"] > 0.05
    assert 0.2 < early["m1"] < 0.45
    assert late["m1"] > 1.03 * early["m1"]
