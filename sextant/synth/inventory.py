"""Inventory history per item and location, simulated day by day from the units sold.

Stock falls by the units of non-test, non-cancelled orders (by UTC day of the order), rises
when refunds restock and when reorders arrive after the item's lead time; a sale beyond the
stock on hand is met by a same-day emergency receipt, so stock is never negative. The items
at popularity ranks 1-3 of every shop stop being reordered before the end: at the last day
their cover is under 30 % of their lead time, and the rank-1 item has been at 0 for its last
three days (its later demand went to the shop's bestseller instead).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sextant.synth.catalog import PLANTED_RANKS, STREAM, Catalog
from sextant.synth.columns import US_PER_DAY, US_PER_SECOND, conform, day_us, pick, utc
from sextant.synth.config import SynthConfig

VELOCITY_DAYS = 14  # the trailing window of sales velocity (SEMANTICS.md, Commerce)
PLANTED_COVER = 0.3  # planted items end with cover below this share of their lead time
ZERO_DAYS = 3  # the last days on which the rank-1 item is sold out
FIXED_POINT_SHARE = 0.4  # items with a fixed reorder point; the rest are velocity-based
SERVICE_Z = 1.65  # safety stock for a 95 % cycle service level


@dataclass(frozen=True)
class Pairs:
    """Every (variant, location) of the same shop: the unit inventory is kept in."""

    variant: np.ndarray
    location: np.ndarray  # global location index
    of: np.ndarray  # (variant, local location) -> pair index, -1 where the shop has none

    @property
    def size(self) -> int:
        return len(self.variant)


@dataclass(frozen=True)
class Settings:
    """Reorder settings per variant (inventory item)."""

    lead: np.ndarray
    safety: np.ndarray
    fixed_point: np.ndarray  # -1 where the reorder point is velocity-based
    cycle: np.ndarray  # days of demand a reorder covers beyond the lead time


class Ledger:
    """Units sold and units restocked by refunds, per pair and day."""

    def __init__(self, pairs: Pairs, days: int) -> None:
        self.sold = np.zeros((pairs.size, days), dtype=np.int64)
        self.returned = np.zeros((pairs.size, days), dtype=np.int64)

    def add_sales(self, pair: np.ndarray, day: np.ndarray, units: np.ndarray) -> None:
        np.add.at(self.sold, (pair, day), units)

    def add_returns(self, pair: np.ndarray, day: np.ndarray, units: np.ndarray) -> None:
        np.add.at(self.returned, (pair, day), units)


def planted(catalog: Catalog) -> np.ndarray:
    """Which variants are left to run out at the end."""
    return np.isin(catalog.rank, PLANTED_RANKS)


def sold_out_item(catalog: Catalog) -> np.ndarray:
    """Which variants are at 0 for the last days (one per shop)."""
    return catalog.rank == PLANTED_RANKS[0]


def zero_from_day(days: int) -> int:
    """The first day index on which the sold-out item has no sales."""
    return max(days - ZERO_DAYS, 0)


def build_pairs(catalog: Catalog) -> Pairs:
    variants, locations = [], []
    of = np.full((len(catalog.shop), max(s.locations for s in catalog.shops)), -1, np.int64)
    for shop in catalog.shops:
        for j, loc in enumerate(catalog.locations_of(shop.index)):
            v = catalog.variants_of(shop.index)
            of[v, j] = len(variants) + np.arange(len(v))
            variants.extend(v)
            locations.extend([loc] * len(v))
    return Pairs(np.array(variants, np.int64), np.array(locations, np.int64), of)


def build_settings(cfg: SynthConfig, catalog: Catalog, daily_units: np.ndarray) -> Settings:
    """Lead times of 3-21 days (10-21 for the planted items), safety stock, reorder points."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, 3]))
    n = len(catalog.shop)
    late = planted(catalog)
    lead = np.where(late, rng.integers(10, 22, n), rng.integers(3, 22, n))
    # z x sd of demand over the lead time (Poisson, widened for trends), plus a few days
    spread = SERVICE_Z * np.sqrt(daily_units * lead * 2)
    safety = np.maximum(np.ceil(spread + daily_units * rng.uniform(1, 3, n)), 1).astype(np.int64)
    fixed = ~late & (rng.random(n) < FIXED_POINT_SHARE)
    point = 5 * np.ceil((daily_units * lead + safety) / 5).astype(np.int64)
    return Settings(
        lead=lead,
        safety=safety,
        fixed_point=np.where(fixed, point, -1),
        cycle=rng.integers(21, 46, n),
    )


def trailing_velocity(sold: np.ndarray, warm: np.ndarray) -> np.ndarray:
    """Units per day over the trailing window ending each day; `warm` fills days before start."""
    cum = np.cumsum(sold, axis=1)
    back = np.zeros_like(cum)
    back[:, VELOCITY_DAYS:] = cum[:, :-VELOCITY_DAYS]
    missing = np.maximum(VELOCITY_DAYS - 1 - np.arange(sold.shape[1]), 0)
    return (cum - back + warm[:, None] * missing) / VELOCITY_DAYS


def simulate(
    pairs: Pairs, settings: Settings, ledger: Ledger, catalog: Catalog
) -> tuple[np.ndarray, np.ndarray]:
    """Opening stock and end-of-day stock per pair and day, with the planted run-downs."""
    sold, returned = ledger.sold, ledger.returned
    days = sold.shape[1]
    share = _location_share(pairs, sold)
    v = pairs.variant
    lead, cycle = settings.lead[v], settings.cycle[v]
    safety = np.ceil(settings.safety[v] * share)
    fixed = np.where(settings.fixed_point[v] >= 0, np.ceil(settings.fixed_point[v] * share), -1)
    warm = sold[:, : min(days, 28)].mean(axis=1)
    velocity = trailing_velocity(sold, warm)
    opening = np.ceil(warm * (lead + cycle / 2) + safety).astype(np.int64)
    level = opening.copy()
    arriving = np.zeros((pairs.size, days + int(lead.max()) + 1), dtype=np.int64)
    ordered = np.zeros(pairs.size, dtype=bool)
    levels = np.empty((pairs.size, days), dtype=np.int64)
    for d in range(days):
        level += arriving[:, d]
        ordered &= arriving[:, d] == 0
        level += np.maximum(sold[:, d] - level, 0) - sold[:, d] + returned[:, d]
        point = np.where(fixed >= 0, fixed, velocity[:, d] * lead + safety)
        due = np.flatnonzero((level <= point) & ~ordered)
        if len(due):
            target = np.ceil(velocity[due, d] * (lead[due] + cycle[due]) + safety[due])
            lot = np.maximum(target - level[due], np.ceil(velocity[due, d] * 7) + 1)
            arriving[due, d + lead[due]] += lot.astype(np.int64)
            ordered[due] = True
        levels[:, d] = level
    rows = np.flatnonzero(planted(catalog)[v])
    cover = np.where(sold_out_item(catalog)[v[rows]], 0.0, PLANTED_COVER)
    _run_down(rows, cover, opening, levels, sold, lead)
    return opening, levels


def _location_share(pairs: Pairs, sold: np.ndarray) -> np.ndarray:
    units = sold.sum(axis=1) + 1.0
    item = np.bincount(pairs.variant, weights=units)
    return units / item[pairs.variant]


def _run_down(
    rows: np.ndarray,
    cover: np.ndarray,
    opening: np.ndarray,
    levels: np.ndarray,
    sold: np.ndarray,
    lead: np.ndarray,
) -> None:
    """Rewrite the planted pairs: a last restock, then no more, so that each ends with
    `cover` x lead time days of its recent sales (rounded down) in stock.

    The last restock lands on the latest day whose simulated stock can be topped up to
    exactly the later sales plus the small remainder wanted at the end.
    """
    later = sold[rows].sum(axis=1)[:, None] - np.cumsum(sold[rows], axis=1)
    recent = sold[rows, -VELOCITY_DAYS:].sum(axis=1) / VELOCITY_DAYS
    remainder = np.floor(cover * recent * lead[rows]).astype(np.int64)
    wanted = later + remainder[:, None]
    fits = levels[rows] <= wanted
    days = levels.shape[1]
    last = np.where(fits.any(axis=1), days - 1 - np.argmax(fits[:, ::-1], axis=1), -1)
    for row, pair, start in zip(range(len(rows)), rows, last, strict=True):
        levels[pair, max(start, 0) :] = wanted[row, max(start, 0) :]
        if start < 0:
            opening[pair] = wanted[row, 0] + sold[pair, 0]


def inventory_table(
    cfg: SynthConfig, catalog: Catalog, pairs: Pairs, opening: np.ndarray, levels: np.ndarray
) -> pa.Table:
    """Rows of inventory_levels: the opening stock, then one row per pair and changed day."""
    first = day_us(cfg.start)
    tenants = [s.tenant_id for s in catalog.shops]
    previous = np.concatenate([opening[:, None], levels[:, :-1]], axis=1)
    day, pair = np.nonzero((levels != previous).T)  # day-major: rows come in time order
    pair = np.concatenate([np.arange(pairs.size), pair])
    when = np.concatenate(
        [np.full(pairs.size, first), first + day * US_PER_DAY + (US_PER_DAY - US_PER_SECOND)]
    )
    available = np.concatenate([opening, levels[pair[pairs.size :], day]])
    variant = pairs.variant[pair]
    return conform(
        "inventory_levels",
        {
            "tenant_id": pick(tenants, catalog.shop[variant]),
            "inventory_item_id": pa.array(catalog.item_id[variant]),
            "location_id": pa.array(catalog.location_id[pairs.location[pair]]),
            "available": pa.array(available.astype(np.int32)),
            "updated_at": utc(when),
        },
    )


def reorder_settings_table(catalog: Catalog, settings: Settings) -> pa.Table:
    tenants = [s.tenant_id for s in catalog.shops]
    return conform(
        "reorder_settings",
        {
            "tenant_id": pick(tenants, catalog.shop),
            "inventory_item_id": pa.array(catalog.item_id),
            "lead_time_days": pa.array(settings.lead.astype(np.int32)),
            "safety_stock": pa.array(settings.safety.astype(np.int32)),
            "reorder_point": pa.array(
                settings.fixed_point.astype(np.int32), mask=settings.fixed_point < 0
            ),
        },
    )
