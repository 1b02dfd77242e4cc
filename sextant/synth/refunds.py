"""Refunds of synthetic orders: who asks, how much comes back, what goes back on the shelf.

About 4 % of fulfilled, non-test orders are refunded some days after delivery: the whole
order, or some units of its first line, sometimes followed by a refund of the shipping.
Items left to run out (`final_sale`) are never restocked.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sextant.synth.catalog import ID_BASE, Shop
from sextant.synth.columns import US_PER_DAY, US_PER_SECOND, conform, money, pick, utc
from sextant.synth.seasons import delay_us

REFUND_BASE = ID_BASE + 6 * 10**12
REFUND_SHARE = 0.04
FULL_REFUND_SHARE = 0.35
RESTOCK_SHARE = (0.7, 0.6)  # refunds whose units go back on the shelf: partial, full
SHIPPING_REFUND_SHARE = 0.2  # partial refunds followed by a refund of the shipping


def draw_refunds(
    orders: dict[str, np.ndarray],
    lines: dict[str, np.ndarray],
    last: int,
    final_sale: np.ndarray,
    first_number: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Refund rows (ids numbered from `first_number`), per-order sums and the units that go
    back on the shelf per line. `orders` holds total, shipping, fulfilled_at and refundable;
    refunds after `last` have not happened yet."""
    total, shipping = orders["total"], orders["shipping"]
    n = len(total)
    first, owner = orders["first_line"], lines["owner"]
    at = orders["fulfilled_at"] + delay_us(rng, 6 * 24, 0.7, n)
    asked = orders["refundable"] & (rng.random(n) < REFUND_SHARE) & (at <= last)
    full = rng.random(n) < FULL_REFUND_SHARE
    head = lines["quantity"][first]
    units = 1 + (rng.random(n) * head).astype(np.int64)
    amount = np.where(full, total, lines["price"][first] * units)
    restock = asked & (rng.random(n) < np.where(full, RESTOCK_SHARE[1], RESTOCK_SHARE[0]))
    back = np.where(full[owner], lines["quantity"], 0)
    back[first] = np.where(full, head, units)
    back = np.where(restock[owner] & ~final_sale[lines["variant"]], back, 0)
    later = at + rng.integers(US_PER_DAY, 5 * US_PER_DAY, n) // US_PER_SECOND * US_PER_SECOND
    second = asked & ~full & (shipping > 0) & (rng.random(n) < SHIPPING_REFUND_SHARE)
    second &= later <= last
    one, two = np.flatnonzero(asked), np.flatnonzero(second)
    restocked = np.add.reduceat(back, first) if len(first) else first
    rows = {
        "order": np.r_[one, two],
        "created": np.r_[at[one], later[two]],
        "amount": np.r_[amount[one], shipping[two]],
        "restocked": np.r_[restocked[one], np.zeros(len(two), np.int64)],
    }
    order = np.argsort(rows["created"], kind="stable")
    rows = {k: v[order] for k, v in rows.items()}
    rows["id"] = REFUND_BASE + 2 * (first_number + np.arange(len(order)))
    rows["by_order"] = np.where(asked, amount, 0) + np.where(second, shipping, 0)
    rows["last_by_order"] = np.maximum(np.where(asked, at, 0), np.where(second, later, 0))
    rows["line_back"] = back
    rows["line_back_at"] = at[owner]
    return rows


def refunds_table(shops: tuple[Shop, ...], orders: dict, refunds: dict) -> pa.Table:
    shop = orders["shop"][refunds["order"]]
    return conform(
        "refunds",
        {
            "tenant_id": pick([s.tenant_id for s in shops], shop),
            "refund_id": pa.array(refunds["id"]),
            "order_id": pa.array(orders["id"][refunds["order"]]),
            "created_at": utc(refunds["created"]),
            "amount": money(refunds["amount"]),
            "currency": pick([s.currency for s in shops], shop),
            "restocked_quantity": pa.array(refunds["restocked"].astype(np.int32)),
        },
    )
