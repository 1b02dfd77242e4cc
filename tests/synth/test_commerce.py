"""Synthetic commerce: deterministic, canonical types, exact money and ids, and an inventory
history that follows the orders and ends with items heading for a stockout."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.schema import table
from sextant.synth import dataset
from sextant.synth.commerce import commerce_tables, order_extras_cents
from sextant.synth.config import SynthConfig

CFG = SynthConfig(
    users=1000, events=10000, start=date(2025, 1, 1), end=date(2025, 6, 30), customers=500
)
TABLES = (
    "tenants",
    "products",
    "reorder_settings",
    "orders",
    "order_lines",
    "refunds",
    "inventory_levels",
)
BIG = 2**53
VELOCITY_DAYS = 14


def collect(cfg: SynthConfig) -> dict[str, pa.Table]:
    return dataset.collect(commerce_tables(cfg))


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


def test_every_commerce_table_is_produced(data):
    assert set(data) == set(TABLES)
    assert all(data[name].num_rows > 0 for name in TABLES)


def test_output_is_identical_when_the_seed_is_repeated(data):
    again = collect(CFG)
    assert all(again[name].equals(data[name]) for name in TABLES)


def test_output_differs_when_the_seed_changes(data):
    other = collect(replace(CFG, seed=CFG.seed + 1))
    assert not other["orders"].equals(data["orders"])
    assert not other["products"].equals(data["products"])


def test_chunks_have_the_canonical_arrow_types_when_chunks_are_small():
    cfg = replace(CFG, end=date(2025, 1, 31), chunk_rows=700)
    seen = defaultdict(int)
    for name, chunk in commerce_tables(cfg):
        canonical = table(name).arrow_schema()
        assert chunk.num_rows <= 700
        for f in chunk.schema:
            assert f.type == canonical.field(f.name).type, (name, f.name)
        seen[name] += chunk.num_rows
    whole = collect(replace(cfg, chunk_rows=1_000_000))
    assert seen == {name: t.num_rows for name, t in whole.items()}


def test_ids_exceed_2_pow_53_and_survive_a_duckdb_round_trip(data, engine):
    for name, column in [
        ("products", "product_id"),
        ("products", "variant_id"),
        ("products", "inventory_item_id"),
        ("orders", "order_id"),
        ("order_lines", "line_id"),
        ("refunds", "refund_id"),
        ("inventory_levels", "location_id"),
    ]:
        sent = data[name].column(column).to_pylist()
        assert min(sent) > BIG
        stored = engine.execute(f'SELECT "{column}" FROM {name}').column(0).to_pylist()
        assert sorted(stored) == sorted(sent), (name, column)
        assert any(int(float(x)) != x for x in sent)  # a float would have changed them


def test_ids_are_unique(data):
    for name, column in [
        ("products", "variant_id"),
        ("orders", "order_id"),
        ("order_lines", "line_id"),
        ("refunds", "refund_id"),
    ]:
        ids = data[name].column(column)
        assert pc.count_distinct(ids).as_py() == len(ids), (name, column)


def test_order_ids_increase_with_time(data):
    orders = data["orders"].sort_by("order_id")
    created = orders.column("created_at").to_numpy().astype(np.int64)
    assert (np.diff(created) >= 0).all()


def test_order_totals_equal_lines_plus_shipping_and_tax_to_the_cent(engine):
    mismatched = rows(
        engine,
        """
        SELECT o.order_id FROM orders o
        JOIN (SELECT order_id, sum(price * quantity) AS lines FROM order_lines GROUP BY 1) l
          USING (order_id)
        WHERE l.lines <> o.subtotal_price
        """,
    )
    assert mismatched == []
    orders = engine.execute(
        "SELECT currency, source_name, subtotal_price, total_price FROM orders"
    ).to_pylist()
    for currency in ("USD", "EUR"):
        mine = [o for o in orders if o["currency"] == currency]
        cents = np.array([int(o["subtotal_price"] * 100) for o in mine])
        pos = np.array([o["source_name"] == "pos" for o in mine])
        extras = order_extras_cents(cents, currency, pos)
        totals = np.array([int(o["total_price"] * 100) for o in mine])
        assert (totals == cents + extras).all()


def test_line_prices_titles_and_skus_match_the_products(engine):
    mismatched = rows(
        engine,
        """
        SELECT l.line_id FROM order_lines l
        LEFT JOIN products p USING (tenant_id, variant_id)
        WHERE p.variant_id IS NULL OR l.price <> p.price OR l.sku <> p.sku
           OR l.title <> p.title OR l.product_id <> p.product_id OR l.quantity < 1
        """,
    )
    assert mismatched == []


def test_total_refunded_equals_the_refunds_and_the_status_agrees(engine):
    orders = rows(
        engine,
        """
        SELECT o.total_refunded, o.total_price, o.financial_status,
               coalesce(r.refunded, 0) AS refunded
        FROM orders o
        LEFT JOIN (SELECT order_id, sum(amount) AS refunded FROM refunds GROUP BY 1) r
          USING (order_id)
        """,
    )
    for o in orders:
        assert o["total_refunded"] == o["refunded"]
        assert 0 <= o["total_refunded"] <= o["total_price"]
        if o["total_refunded"] == 0:
            assert o["financial_status"] in ("paid", "pending", "voided")
        elif o["total_refunded"] == o["total_price"]:
            assert o["financial_status"] == "refunded"
        else:
            assert o["financial_status"] == "partially_refunded"


def test_refunds_come_after_their_order_in_its_currency(engine):
    late = rows(
        engine,
        """
        SELECT r.refund_id FROM refunds r JOIN orders o USING (tenant_id, order_id)
        WHERE r.created_at <= o.created_at OR r.currency <> o.currency
           OR r.restocked_quantity < 0 OR o.test OR o.cancelled_at IS NOT NULL
        """,
    )
    assert late == []


def test_refund_cancel_and_test_shares_are_in_range(engine):
    [s] = rows(
        engine,
        """
        SELECT avg(test::int) AS test,
               avg((cancelled_at IS NOT NULL)::int) AS cancelled,
               count(DISTINCT r.order_id) / count(DISTINCT o.order_id) AS refunded
        FROM orders o LEFT JOIN refunds r USING (order_id)
        """,
    )
    assert 0.002 < s["test"] < 0.01
    assert 0.01 < s["cancelled"] < 0.03
    assert 0.025 < s["refunded"] < 0.055


def test_shops_have_their_own_currency_and_sizes(engine):
    shops = rows(
        engine,
        """
        SELECT tenant_id, any_value(currency) AS currency, count(DISTINCT currency) AS n,
               count(DISTINCT product_id) AS products,
               count(*) AS variants
        FROM products GROUP BY 1 ORDER BY 1
        """,
    )
    assert [s["tenant_id"] for s in shops] == [f"shop-0{i}.myshopify.com" for i in (1, 2, 3)]
    assert [s["currency"] for s in shops] == ["USD", "EUR", "USD"]
    assert all(s["n"] == 1 and s["products"] == CFG.products_per_shop for s in shops)
    assert all(s["products"] <= s["variants"] <= 3 * s["products"] for s in shops)


def test_timestamps_fall_within_the_period(data):
    first = datetime(2025, 1, 1, tzinfo=UTC)
    last = datetime(2025, 6, 30, 23, 59, 59, tzinfo=UTC)
    for name, rows_ in data.items():
        for f in rows_.schema:
            if pa.types.is_timestamp(f.type):
                values = rows_.column(f.name)
                assert pc.min(values).as_py() >= first, (name, f.name)
                assert pc.max(values).as_py() <= last, (name, f.name)


def test_updated_at_is_never_before_created_at(engine):
    assert rows(engine, "SELECT order_id FROM orders WHERE updated_at < created_at") == []
    assert rows(engine, "SELECT order_id FROM orders WHERE cancelled_at < created_at") == []


def test_orders_peak_in_the_local_evening_and_late_in_the_year():
    cfg = replace(CFG, shops=1, start=date(2024, 1, 1), end=date(2024, 12, 31))
    orders = collect(cfg)["orders"]
    created = orders.column("created_at")
    local_hour = pc.hour(pc.add(created, pa.scalar(timedelta(hours=-5))))
    hours = np.bincount(local_hour.to_numpy(), minlength=24)
    assert hours[19:22].mean() > 1.3 * hours[9:12].mean() > 3 * hours[2:5].mean()
    months = np.bincount(pc.month(created).to_numpy(), minlength=13)[1:]
    assert months[10:12].min() > months[:10].max()


def test_bestsellers_carry_a_large_share_of_units(engine):
    units = [
        r["units"]
        for r in rows(
            engine,
            """
            SELECT sum(quantity)::int AS units FROM order_lines
            WHERE tenant_id = 'shop-01.myshopify.com' GROUP BY variant_id ORDER BY 1 DESC
            """,
        )
    ]
    assert sum(units[:5]) > 0.4 * sum(units)


def test_reorder_settings_cover_every_item(engine):
    [s] = rows(
        engine,
        """
        SELECT count(*) AS n, min(lead_time_days) AS lo, max(lead_time_days) AS hi,
               count(reorder_point) AS fixed, min(safety_stock) AS safety,
               (SELECT count(*) FROM products) AS items
        FROM reorder_settings JOIN products USING (tenant_id, inventory_item_id)
        """,
    )
    assert s["n"] == s["items"]
    assert s["lo"] >= 3 and s["hi"] <= 21
    assert 0 < s["fixed"] < s["n"]
    assert s["safety"] >= 1


def test_inventory_is_never_negative(data):
    assert pc.min(data["inventory_levels"].column("available")).as_py() >= 0


def daily_stock_and_sales(engine: DuckDBEngine):
    """Per item and day: change of stock (all locations) and units of counted orders."""
    return rows(
        engine,
        f"""
        WITH days AS (
          SELECT tenant_id, inventory_item_id, location_id, updated_at::date AS day,
                 arg_max(available, updated_at) AS available
          FROM inventory_levels GROUP BY ALL
        ), stock AS (
          SELECT tenant_id, inventory_item_id, day, sum(change) AS change FROM (
            SELECT *, available - lag(available) OVER (
                PARTITION BY tenant_id, inventory_item_id, location_id ORDER BY day) AS change
            FROM days)
          GROUP BY ALL
        ), sales AS (
          SELECT l.tenant_id, p.inventory_item_id, o.created_at::date AS day,
                 sum(l.quantity)::int AS sold
          FROM order_lines l JOIN orders o USING (tenant_id, order_id)
          JOIN products p USING (tenant_id, variant_id)
          WHERE NOT o.test AND o.cancelled_at IS NULL GROUP BY ALL
        )
        SELECT tenant_id, inventory_item_id, day, coalesce(change, 0)::int AS change,
               coalesce(sold, 0) AS sold
        FROM stock FULL JOIN sales USING (tenant_id, inventory_item_id, day)
        WHERE day > DATE '{CFG.start}'
        """,
    )


def test_inventory_depletes_by_the_units_sold_and_restocks(data, engine):
    days = daily_stock_and_sales(engine)
    received = [d["change"] + d["sold"] for d in days]
    assert min(received) >= 0  # stock only rises through receipts and refund restocks
    moved_by_sales_alone = sum(1 for r in received if r == 0)
    assert moved_by_sales_alone / len(received) > 0.8
    restocked = sum(received)
    returned = pc.sum(data["refunds"].column("restocked_quantity")).as_py()
    assert restocked > 5 * returned  # most stock arrives by reorders, not returns
    assert sum(d["sold"] for d in days) > restocked / 2


def stock_outlook(engine: DuckDBEngine, end: date) -> list[dict]:
    """Per item at the end: available, 14-day velocity and lead time (SEMANTICS.md)."""
    return rows(
        engine,
        f"""
        WITH latest AS (
          SELECT tenant_id, inventory_item_id, sum(available)::int AS available FROM (
            SELECT tenant_id, inventory_item_id, location_id,
                   arg_max(available, updated_at) AS available
            FROM inventory_levels GROUP BY ALL) GROUP BY ALL
        ), velocity AS (
          SELECT l.tenant_id, p.inventory_item_id,
                 sum(l.quantity)::double / {VELOCITY_DAYS} AS per_day
          FROM order_lines l JOIN orders o USING (tenant_id, order_id)
          JOIN products p USING (tenant_id, variant_id)
          WHERE NOT o.test AND o.cancelled_at IS NULL
            AND o.created_at >= DATE '{end}' - INTERVAL {VELOCITY_DAYS - 1} DAY
          GROUP BY ALL
        )
        SELECT tenant_id, inventory_item_id, available, per_day, lead_time_days
        FROM latest JOIN velocity USING (tenant_id, inventory_item_id)
        JOIN reorder_settings USING (tenant_id, inventory_item_id)
        """,
    )


def test_each_shop_has_three_items_heading_for_a_stockout_at_the_end(engine):
    heading = defaultdict(int)
    for item in stock_outlook(engine, CFG.end):
        if item["per_day"] > 0 and item["available"] / item["per_day"] < item["lead_time_days"]:
            heading[item["tenant_id"]] += 1
    assert len(heading) == CFG.shops
    assert min(heading.values()) >= 3
    variants = rows(engine, "SELECT tenant_id, count(*) AS n FROM products GROUP BY 1")
    assert all(heading[v["tenant_id"]] < v["n"] / 3 for v in variants)  # not every item


def test_an_item_in_every_shop_is_sold_out_at_the_end(engine):
    sold_out = {
        r["tenant_id"]
        for r in stock_outlook(engine, CFG.end)
        if r["available"] == 0 and r["per_day"] > 0
    }
    assert sold_out == {f"shop-0{i}.myshopify.com" for i in (1, 2, 3)}
