"""Synthetic Shopify-like commerce for every shop: products, reorder settings, orders, order
lines, refunds and the inventory history they imply. Tenants are `shop-0n.myshopify.com`.

Ids are odd, above 2^53 and unique across shops; order ids grow with time. Customers are the
`cust_…` ids of `customers.py`, picked among those signed up and still active. Cancelled
orders are voided before payment: financial_status `voided`, no refund rows, no stock taken;
test orders take no stock either. Money is exact: integer cents throughout.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.synth import inventory, seasons
from sextant.synth.catalog import (
    ID_BASE,
    STREAM,
    Catalog,
    build_catalog,
    products_table,
    shop_tenants_table,
)
from sextant.synth.columns import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    conform,
    day_us,
    end_us,
    money,
    pick,
    rechunk,
    utc,
)
from sextant.synth.config import SynthConfig
from sextant.synth.customers import build_population, customer_ids
from sextant.synth.refunds import draw_refunds, refunds_table
from sextant.synth.seasons import delay_us

ORDER_BASE = ID_BASE + 4 * 10**12
LINE_BASE = ID_BASE + 5 * 10**12
ORDERS_PER_SECOND = 1024  # order ids: (second of the period) x this + rank within the second

LINES_PER_ORDER = (0.45, 0.30, 0.15, 0.10)  # 1, 2, 3, 4 lines
QUANTITIES = (0.82, 0.13, 0.04, 0.01)  # 1, 2, 3, 4 units
SOURCES = ("web", "mobile_app", "pos")
SOURCE_MIX = (0.60, 0.27, 0.13)
SHIP_FROM_STORE = 0.15  # online orders a shop with a store ships from it
GUEST_SHARE = 0.07
CUSTOMER_TRIES = 3  # draws for an active customer before the order counts as a guest's
TEST_SHARE = 0.005
CANCEL_SHARE = 0.02
PENDING_SHARE = 0.01
FINANCIAL = ("paid", "partially_refunded", "refunded", "pending", "voided")
FULFILMENT = ("fulfilled", "partial")
# (free-shipping threshold, shipping fee) in cents; US sales tax 8.25 %, EU prices include VAT
SHIPPING = {"USD": (7_500, 695), "EUR": (5_000, 490)}
US_TAX_BASIS_POINTS = 825


@dataclass
class Plan:
    """What every month of orders shares: catalogue, daily counts, customers, stock ledger."""

    cfg: SynthConfig
    catalog: Catalog
    counts: np.ndarray  # orders per shop and day
    signups: np.ndarray  # customers' signup instants, in customer number order
    active_until: np.ndarray  # when each customer stops buying (churned, at risk)
    pairs: inventory.Pairs
    ledger: inventory.Ledger
    hour_cdf: np.ndarray  # UTC hours of each shop's orders, see seasons.stacked_cdf
    variant_cdf: np.ndarray
    substitute: np.ndarray  # per variant: what is sold instead once it is sold out
    final_sale: np.ndarray  # per variant: refunds never restock it
    next_number: np.ndarray  # the next order number of each shop
    next_line: int = 0
    next_refund: int = 0


def commerce_tables(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    """Yield (table name, chunk) for the shops' tenants, products, reorder_settings, orders,
    order_lines, refunds, inventory_levels. Chunks of at most cfg.chunk_rows rows."""
    return rechunk(_pieces(cfg), cfg.chunk_rows)


def _pieces(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    plan = _plan(cfg)
    yield "tenants", shop_tenants_table(cfg)
    yield "products", products_table(plan.catalog)
    expected = _expected_daily_units(plan)
    settings = inventory.build_settings(cfg, plan.catalog, expected)
    yield "reorder_settings", inventory.reorder_settings_table(plan.catalog, settings)
    for block, (lo, hi) in enumerate(seasons.month_blocks(cfg)):
        yield from _order_block(plan, block, lo, hi)
    opening, levels = inventory.simulate(plan.pairs, settings, plan.ledger, plan.catalog)
    yield (
        "inventory_levels",
        inventory.inventory_table(cfg, plan.catalog, plan.pairs, opening, levels),
    )


def _plan(cfg: SynthConfig) -> Plan:
    catalog = build_catalog(cfg)
    people = build_population(cfg)
    pairs = inventory.build_pairs(catalog)
    days = (cfg.end - cfg.start).days + 1
    offsets = np.array([s.utc_offset_hours for s in catalog.shops])
    utc_hours = seasons.utc_hour_weights(offsets)
    substitute = np.arange(len(catalog.shop))
    for shop in catalog.shops:
        v = catalog.variants_of(shop.index)
        gone = v[inventory.sold_out_item(catalog)[v]]
        substitute[gone] = v[np.argmin(catalog.rank[v])]
    return Plan(
        cfg=cfg,
        catalog=catalog,
        counts=seasons.daily_counts(cfg, _rng(cfg, 1)),
        signups=people.created_us,
        active_until=people.active_until_us,
        pairs=pairs,
        ledger=inventory.Ledger(pairs, days),
        hour_cdf=seasons.stacked_cdf(np.repeat(np.arange(cfg.shops), 24), utc_hours.ravel()),
        variant_cdf=seasons.stacked_cdf(catalog.shop, catalog.weight),
        substitute=substitute,
        final_sale=inventory.planted(catalog),
        next_number=np.full(cfg.shops, 1001, np.int64),
    )


def _rng(cfg: SynthConfig, *part: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, *part]))


def _expected_daily_units(plan: Plan) -> np.ndarray:
    lines = np.dot(np.arange(1, 5), LINES_PER_ORDER)
    units = np.dot(np.arange(1, 5), QUANTITIES)
    per_shop = plan.counts.mean(axis=1) * lines * units
    return per_shop[plan.catalog.shop] * plan.catalog.weight


def order_extras_cents(subtotal: np.ndarray, currency: str, pos: np.ndarray) -> np.ndarray:
    """Shipping plus tax in cents: US shops add 8.25 % sales tax (half up); EU prices include
    VAT; shipping is free in store and above the threshold.

    >>> order_extras_cents(np.array([1000, 10000, 1000]), "USD", np.array([False, False, True]))
    array([778, 825,  83])
    """
    shipping, tax = _charges(subtotal, currency, pos)
    return shipping + tax


def _order_block(plan: Plan, block: int, lo: int, hi: int) -> Iterator[tuple[str, pa.Table]]:
    rng = _rng(plan.cfg, 2, block)
    orders = _place_orders(plan, lo, hi, rng)
    lines = _fill_lines(plan, orders, rng)
    refunds = _settle(plan, orders, lines, rng)
    _record_stock(plan, orders, lines, refunds)
    yield "orders", _orders_table(plan, orders)
    yield "order_lines", _lines_table(plan, orders, lines)
    yield "refunds", refunds_table(plan.catalog.shops, orders, refunds)


def _place_orders(plan: Plan, lo: int, hi: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    cfg, shops = plan.cfg, plan.catalog.shops
    counts = plan.counts[:, lo:hi]
    shop = np.repeat(np.repeat(np.arange(cfg.shops), hi - lo), counts.ravel())
    day = np.repeat(np.tile(np.arange(lo, hi), cfg.shops), counts.ravel())
    hour = seasons.draw(plan.hour_cdf, shop, rng) - 24 * shop
    created = (
        day_us(cfg.start)
        + day * US_PER_DAY
        + hour * US_PER_HOUR
        + rng.integers(0, 3_600, len(shop)) * US_PER_SECOND
    )
    order = np.lexsort((shop, created))
    shop, day, created = shop[order], day[order], created[order]
    n = len(shop)
    second = (created - day_us(cfg.start)) // US_PER_SECOND
    fresh = np.r_[True, second[1:] != second[:-1]]
    rank = np.arange(n) - np.maximum.accumulate(np.where(fresh, np.arange(n), 0))
    number = np.empty(n, np.int64)
    for s in range(cfg.shops):
        mine = np.flatnonzero(shop == s)
        number[mine] = plan.next_number[s] + np.arange(len(mine))
        plan.next_number[s] += len(mine)
    existing = np.searchsorted(plan.signups, created, side="right")
    customer = _pick_customers(plan, existing, created, rng)
    source = rng.choice(len(SOURCES), size=n, p=SOURCE_MIX)
    stores = np.array([s.locations - 1 for s in shops])[shop]
    store_sale = (source == SOURCES.index("pos")) | (rng.random(n) < SHIP_FROM_STORE)
    return {
        "shop": shop,
        "day": day,
        "created": created,
        "id": ORDER_BASE + 2 * (second * ORDERS_PER_SECOND + rank),
        "number": number,
        "customer": customer,
        "guest": (customer == 0) | (rng.random(n) < GUEST_SHARE),
        "source": source,
        "location": np.where(store_sale, stores, 0),
    }


def _pick_customers(
    plan: Plan, existing: np.ndarray, created: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Customer numbers among those signed up and still active, favouring early ones
    (regulars); 0 where a few tries found nobody (a guest checkout)."""
    customer = np.zeros(len(existing), np.int64)
    for _ in range(CUSTOMER_TRIES):
        todo = np.flatnonzero(customer == 0)
        pick_ = 1 + (existing[todo] * rng.random(len(todo)) ** 1.6).astype(np.int64)
        active = (existing[todo] > 0) & (plan.active_until[pick_ - 1] >= created[todo])
        customer[todo[active]] = pick_[active]
    return customer


def _fill_lines(
    plan: Plan, orders: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    n_lines = rng.choice(4, size=len(orders["shop"]), p=LINES_PER_ORDER) + 1
    owner = np.repeat(np.arange(len(n_lines)), n_lines)
    shop = orders["shop"][owner]
    variant = seasons.draw(plan.variant_cdf, shop, rng)
    gone = orders["day"][owner] >= inventory.zero_from_day(plan.ledger.sold.shape[1])
    variant = np.where(gone, plan.substitute[variant], variant)
    quantity = rng.choice(4, size=len(owner), p=QUANTITIES) + 1
    first = np.cumsum(n_lines) - n_lines
    price = plan.catalog.price_cents[variant]
    orders["first_line"] = first
    orders["subtotal"] = np.add.reduceat(price * quantity, first) if len(first) else first
    ids = LINE_BASE + 2 * (plan.next_line + np.arange(len(owner)))
    plan.next_line += len(owner)
    return {"owner": owner, "variant": variant, "quantity": quantity, "price": price, "id": ids}


def _settle(
    plan: Plan, orders: dict, lines: dict, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Totals, statuses and refunds of each order (added to `orders`); returns the refunds."""
    n = len(orders["shop"])
    last = end_us(plan.cfg.end)
    created, subtotal = orders["created"], orders["subtotal"]
    pos = orders["source"] == SOURCES.index("pos")
    shipping, tax = np.zeros(n, np.int64), np.zeros(n, np.int64)
    for s in plan.catalog.shops:
        mine = orders["shop"] == s.index
        shipping[mine], tax[mine] = _charges(subtotal[mine], s.currency, pos[mine])
    total = subtotal + shipping + tax
    test = rng.random(n) < TEST_SHARE
    cancelled = ~test & (rng.random(n) < CANCEL_SHARE)
    cancelled_at = np.minimum(created + delay_us(rng, 3, 1.0, n), last)
    pending = ~test & ~cancelled & (rng.random(n) < PENDING_SHARE)
    fulfilled_at = created + delay_us(rng, 30, 0.6, n)
    fulfilled = ~cancelled & ~pending & (fulfilled_at <= last)
    several = np.diff(np.r_[orders["first_line"], len(lines["owner"])]) > 1
    partly = fulfilled & several & (rng.random(n) < 0.03)
    orders.update(total=total, shipping=shipping, fulfilled_at=fulfilled_at)
    orders["refundable"] = fulfilled & ~test
    refunds = draw_refunds(orders, lines, last, plan.final_sale, plan.next_refund, rng)
    plan.next_refund += len(refunds["id"])
    refunded = refunds["by_order"]
    financial = np.select(
        [cancelled, pending, (refunded == total) & (refunded > 0), refunded > 0], [4, 3, 2, 1], 0
    )
    updated = np.maximum.reduce(
        [
            created,
            np.where(cancelled, cancelled_at, created),
            np.where(fulfilled, fulfilled_at, created),
            refunds["last_by_order"],
        ]
    )
    orders.update(
        total=total,
        refunded=refunded,
        test=test,
        cancelled=cancelled,
        cancelled_at=cancelled_at,
        financial=financial,
        fulfilment=np.where(partly, 1, 0),
        fulfilled=fulfilled,
        updated=updated,
    )
    return refunds


def _charges(subtotal: np.ndarray, currency: str, pos: np.ndarray) -> tuple[np.ndarray, ...]:
    threshold, fee = SHIPPING[currency]
    shipping = np.where(pos | (subtotal >= threshold), 0, fee)
    if currency != "USD":
        return shipping, np.zeros_like(subtotal)
    return shipping, (subtotal * US_TAX_BASIS_POINTS + 5_000) // 10_000


def _record_stock(plan: Plan, orders: dict, lines: dict, refunds: dict) -> None:
    owner = lines["owner"]
    pair = plan.pairs.of[lines["variant"], orders["location"][owner]]
    sold = ~orders["test"][owner] & ~orders["cancelled"][owner]
    plan.ledger.add_sales(pair[sold], orders["day"][owner][sold], lines["quantity"][sold])
    back = refunds["line_back"] > 0
    day = (refunds["line_back_at"][back] - day_us(plan.cfg.start)) // US_PER_DAY
    plan.ledger.add_returns(pair[back], day, refunds["line_back"][back])


def _orders_table(plan: Plan, orders: dict) -> pa.Table:
    shops = plan.catalog.shops
    shop = orders["shop"]
    return conform(
        "orders",
        {
            "tenant_id": pick([s.tenant_id for s in shops], shop),
            "order_id": pa.array(orders["id"]),
            "order_number": pc.binary_join_element_wise(
                "#", pc.cast(pa.array(orders["number"]), pa.string()), ""
            ),
            "customer_id": customer_ids(orders["customer"], mask=orders["guest"]),
            "created_at": utc(orders["created"]),
            "updated_at": utc(orders["updated"]),
            "currency": pick([s.currency for s in shops], shop),
            "subtotal_price": money(orders["subtotal"]),
            "total_price": money(orders["total"]),
            "total_refunded": money(orders["refunded"]),
            "financial_status": pick(FINANCIAL, orders["financial"]),
            "fulfillment_status": pick(FULFILMENT, orders["fulfilment"], ~orders["fulfilled"]),
            "cancelled_at": utc(orders["cancelled_at"], mask=~orders["cancelled"]),
            "test": pa.array(orders["test"]),
            "source_name": pick(SOURCES, orders["source"]),
        },
    )


def _lines_table(plan: Plan, orders: dict, lines: dict) -> pa.Table:
    catalog, variant = plan.catalog, lines["variant"]
    return conform(
        "order_lines",
        {
            "tenant_id": pick([s.tenant_id for s in catalog.shops], catalog.shop[variant]),
            "line_id": pa.array(lines["id"]),
            "order_id": pa.array(orders["id"][lines["owner"]]),
            "product_id": pa.array(catalog.product_id[variant]),
            "variant_id": pa.array(catalog.variant_id[variant]),
            "sku": pick(catalog.sku, variant),
            "title": pick(catalog.title, variant),
            "quantity": pa.array(lines["quantity"].astype(np.int32)),
            "price": money(lines["price"]),
        },
    )
