"""Synthetic customer experience: deterministic, canonical types, PII flagged, plausible
sentiment, ticket timings and multilingual reviews of the first shop's products."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import table
from sextant.synth import dataset
from sextant.synth.commerce import commerce_tables
from sextant.synth.config import SynthConfig
from sextant.synth.experience import experience_tables, incident_window

CFG = SynthConfig(
    users=1000, events=10000, start=date(2025, 1, 1), end=date(2025, 6, 30), customers=500
)
TABLES = ("customers", "interactions", "tickets", "reviews")
TENANT = "shop-01.myshopify.com"


def collect(cfg: SynthConfig) -> dict[str, pa.Table]:
    return dataset.collect(experience_tables(cfg))


@pytest.fixture(scope="module")
def data() -> dict[str, pa.Table]:
    return collect(CFG)


@pytest.fixture(scope="module")
def engine(data) -> DuckDBEngine:
    engine = DuckDBEngine(":memory:")
    for name, rows in data.items():
        engine.append(name, rows, dedupe=False)
    return engine


def rows(engine: DuckDBEngine, sql: str) -> list[dict]:
    return engine.execute(sql).to_pylist()


def test_every_experience_table_is_produced_for_the_first_shop(data):
    assert set(data) == set(TABLES)
    for name in TABLES:
        assert data[name].num_rows > 0
        assert pc.unique(data[name].column("tenant_id")).to_pylist() == [TENANT]


def test_output_is_identical_when_the_seed_is_repeated(data):
    again = collect(CFG)
    assert all(again[name].equals(data[name]) for name in TABLES)


def test_output_differs_when_the_seed_changes(data):
    other = collect(replace(CFG, seed=CFG.seed + 1))
    assert all(not other[name].equals(data[name]) for name in TABLES)


def test_chunks_have_the_canonical_arrow_types_when_chunks_are_small():
    cfg = replace(CFG, chunk_rows=300)
    for name, chunk in experience_tables(cfg):
        canonical = table(name).arrow_schema()
        assert chunk.num_rows <= 300
        for f in chunk.schema:
            assert f.type == canonical.field(f.name).type, (name, f.name)


def test_ids_are_unique(data):
    for name, column in [
        ("customers", "customer_id"),
        ("customers", "email"),
        ("interactions", "interaction_id"),
        ("tickets", "ticket_id"),
        ("tickets", "external_id"),
        ("reviews", "review_id"),
    ]:
        ids = data[name].column(column)
        assert pc.count_distinct(ids).as_py() == len(ids), (name, column)


def test_timestamps_fall_within_the_period(data):
    first = datetime(2025, 1, 1, tzinfo=UTC)
    last = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    for name, rows_ in data.items():
        for f in rows_.schema:
            if pa.types.is_timestamp(f.type):
                values = rows_.column(f.name)
                assert pc.min(values).as_py() >= first, (name, f.name)
                assert pc.max(values).as_py() <= last, (name, f.name)


def test_customers_have_pii_that_the_schema_flags(data):
    customers = data["customers"]
    assert customers.num_rows == CFG.customers
    assert {c.name for c in table("customers").columns if c.pii} == {"name", "email"}
    assert customers.column("name").null_count == 0
    emails = customers.column("email").to_pylist()
    assert all("@example." in e and " " not in e for e in emails)


def test_customers_have_skewed_personas_and_higher_value_for_vips(engine):
    personas = rows(engine, "SELECT persona, count(*) AS n FROM customers GROUP BY 1")
    assert len(personas) == 5
    shares = sorted(p["n"] / CFG.customers for p in personas)
    assert shares[-1] > 2 * shares[0]
    value = {
        r["segment"]: r["ltv"]
        for r in rows(
            engine, "SELECT segment, avg(lifetime_value) AS ltv FROM customers GROUP BY 1"
        )
    }
    assert set(value) == {"new", "active", "at_risk", "churned", "vip"}
    assert value["vip"] > 2 * value["active"] > 2 * value["new"]
    regions = rows(engine, "SELECT DISTINCT region FROM customers ORDER BY 1")
    assert [r["region"] for r in regions] == ["APAC", "EMEA", "LATAM", "NA"]


def test_interactions_come_after_signup_with_sentiment_in_range(engine):
    early = rows(
        engine,
        """
        SELECT i.interaction_id FROM interactions i JOIN customers c USING (customer_id)
        WHERE i.occurred_at < c.created_at
        """,
    )
    assert early == []
    [s] = rows(
        engine,
        "SELECT min(sentiment) AS lo, max(sentiment) AS hi, count(*) AS n FROM interactions",
    )
    assert -1 <= s["lo"] < 0 < s["hi"] <= 1
    assert s["n"] > 3 * CFG.customers


def test_sentiment_depends_on_the_interaction_type(engine):
    mood = {
        r["type"]: r["mood"]
        for r in rows(engine, "SELECT type, avg(sentiment) AS mood FROM interactions GROUP BY 1")
    }
    assert set(mood) == {"purchase", "support", "review", "browse", "email", "chat", "call"}
    assert mood["purchase"] > mood["browse"] > mood["support"]


def test_sentiment_dips_during_the_incident(engine):
    first, last = incident_window(CFG)
    [s] = rows(
        engine,
        f"""
        SELECT avg(sentiment) FILTER (WHERE inside) AS inside,
               avg(sentiment) FILTER (WHERE NOT inside) AS outside
        FROM (SELECT sentiment,
                     occurred_at::date BETWEEN DATE '{first}' AND DATE '{last}' AS inside
              FROM interactions)
        """,
    )
    assert s["inside"] < s["outside"] - 0.15


def test_ticket_times_are_in_order_and_csat_in_range(engine):
    bad = rows(
        engine,
        """
        SELECT ticket_id FROM tickets
        WHERE first_response_at <= created_at
           OR resolved_at < first_response_at
           OR (resolved_at IS NOT NULL AND first_response_at IS NULL)
           OR csat NOT BETWEEN 1 AND 5
           OR (csat IS NOT NULL AND resolved_at IS NULL)
           OR (status IN ('open', 'pending')) <> (resolved_at IS NULL)
        """,
    )
    assert bad == []


def test_ticket_links_point_at_the_help_desk(data):
    tickets = data["tickets"].to_pylist()
    for t in tickets:
        assert t["external_id"].isdigit()
        assert t["external_url"] == f"https://support.example.com/agent/tickets/{t['external_id']}"


def test_ticket_resolution_p90_is_near_the_24_hour_target(engine):
    [s] = rows(
        engine,
        """
        SELECT quantile_cont(epoch(resolved_at - created_at) / 3600, 0.9) AS p90,
               count(*) / (SELECT count(*) FROM customers) AS per_customer,
               avg((csat IS NULL)::int) AS no_csat
        FROM tickets
        """,
    )
    assert 24 < s["p90"] < 48
    assert 0.5 <= s["per_customer"] <= 1.2
    assert s["no_csat"] > 0.4


def test_urgent_tickets_are_answered_and_resolved_faster(engine):
    by = {
        r["priority"]: r
        for r in rows(
            engine,
            """
            SELECT priority, count(*) AS n,
                   median(epoch(first_response_at - created_at)) AS reply,
                   median(epoch(resolved_at - created_at)) AS resolve
            FROM tickets GROUP BY 1
            """,
        )
    }
    assert set(by) == {"low", "normal", "high", "urgent"}
    assert by["normal"]["n"] > by["low"]["n"] > by["urgent"]["n"]
    assert by["urgent"]["reply"] < by["high"]["reply"] < by["normal"]["reply"]
    assert by["urgent"]["resolve"] < by["low"]["resolve"]


def test_slow_resolutions_get_lower_csat(engine):
    [s] = rows(
        engine,
        """
        SELECT avg(csat) FILTER (WHERE resolved_at - created_at <= INTERVAL 8 HOUR) AS fast,
               avg(csat) FILTER (WHERE resolved_at - created_at > INTERVAL 36 HOUR) AS slow
        FROM tickets
        """,
    )
    assert s["fast"] > s["slow"] + 0.3


def test_some_customers_keep_raising_tickets_in_one_category(engine):
    recurring = rows(
        engine,
        "SELECT customer_id FROM tickets GROUP BY customer_id, category HAVING count(*) >= 3",
    )
    assert len(recurring) >= 0.02 * CFG.customers


def test_reviews_have_j_shaped_ratings_in_three_or_more_languages(engine):
    stars = {
        r["rating"]: r["n"]
        for r in rows(engine, "SELECT rating, count(*) AS n FROM reviews GROUP BY 1")
    }
    assert set(stars) == {1, 2, 3, 4, 5}
    assert stars[5] > stars[4] > stars[2] and stars[1] > stars[2]
    languages = rows(engine, "SELECT DISTINCT language FROM reviews")
    assert {"en", "es", "de", "fr"} <= {r["language"] for r in languages}


def test_review_text_is_in_its_language_and_sentiment_is_left_to_sextant(data):
    reviews = data["reviews"]
    assert reviews.column("sentiment").null_count == reviews.num_rows
    assert reviews.column("text").null_count == 0
    by_language = defaultdict(set)
    for r in reviews.select(["language", "text"]).to_pylist():
        by_language[r["language"]].add(r["text"])
    assert any("Qualität" in t or "Lieferung" in t for t in by_language["de"])
    assert any("calidad" in t or "envío" in t for t in by_language["es"])
    assert not any("calidad" in t for t in by_language["en"])


def test_reviews_are_of_the_first_shops_products(data):
    products = pa.concat_tables(chunk for name, chunk in commerce_tables(CFG) if name == "products")
    mine = pc.filter(products, pc.equal(products.column("tenant_id"), TENANT))
    reviewed = set(data["reviews"].column("product_id").to_pylist())
    assert reviewed <= set(mine.column("product_id").to_pylist())
    assert min(reviewed) > 2**53


def test_orders_of_the_first_shop_reference_existing_customers(data):
    customers = {
        r["customer_id"]: r["created_at"]
        for r in data["customers"].select(["customer_id", "created_at"]).to_pylist()
    }
    orders = pa.concat_tables(chunk for name, chunk in commerce_tables(CFG) if name == "orders")
    first_shop = pc.filter(orders, pc.equal(orders.column("tenant_id"), TENANT))
    for order in first_shop.select(["customer_id", "created_at"]).to_pylist():
        if order["customer_id"] is not None:
            assert customers[order["customer_id"]] <= order["created_at"]


def test_churned_and_at_risk_customers_stop_ordering(data):
    # churned customers leave within 80 % of a life of at least 60 days (younger ones are new),
    # so by 12 days before the end; at-risk customers go quiet 30 to 90 days before it
    segment = {
        r["customer_id"]: r["segment"]
        for r in data["customers"].select(["customer_id", "segment"]).to_pylist()
    }
    orders = pa.concat_tables(chunk for name, chunk in commerce_tables(CFG) if name == "orders")
    recent = pc.filter(
        orders,
        pc.and_(
            pc.equal(orders.column("tenant_id"), TENANT),
            pc.greater(orders.column("created_at"), pa.scalar(datetime(2025, 6, 19, tzinfo=UTC))),
        ),
    )
    buyers = {segment[c] for c in recent.column("customer_id").drop_null().to_pylist()}
    assert "active" in buyers
    assert not buyers & {"churned", "at_risk"}
