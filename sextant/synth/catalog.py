"""The synthetic shops and their catalogues: tenants, products by variant, locations, popularity.

Shop n (1-based) is the tenant `shop-0n.myshopify.com` (myshopify domains are DNS labels, so
hyphens, never underscores). Shop 2 sells in EUR, the others in USD. Ids are Shopify-scale,
all odd and above 2^53, so any pass through a float64 would visibly change them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from sextant.synth.columns import US_PER_SECOND, conform, day_us, end_us, money, pick, utc
from sextant.synth.config import SynthConfig

ID_BASE = 2**53 + 1  # the first integer a float64 cannot hold
ID_STRIDE = 2 * 7919  # even, so every id stays odd
PRODUCT_BASE = ID_BASE
VARIANT_BASE = ID_BASE + 10**12
ITEM_BASE = ID_BASE + 2 * 10**12
LOCATION_BASE = ID_BASE + 3 * 10**12
STREAM = 2  # commerce's random stream: SeedSequence([seed, STREAM, part])

# theme: (shop name, country, IANA zone, standard UTC offset, categories)
# category: (name, sku code, nouns, options, (low, high) price in whole currency units)
THEMES = (
    (
        "Northfield Outfitters",
        "US",
        "America/New_York",
        -5,
        (
            (
                "Apparel",
                "APP",
                (
                    "Merino Crew Sweater",
                    "Organic Cotton Tee",
                    "Fleece Hoodie",
                    "Flannel Shirt",
                    "Chino Pants",
                    "Rain Shell Jacket",
                ),
                ("S", "M", "L", "XL"),
                (24, 140),
            ),
            (
                "Footwear",
                "FTW",
                ("Trail Runner", "Leather Boot", "Canvas Sneaker", "Camp Slipper", "Hiking Sandal"),
                ("8", "9", "10", "11"),
                (45, 180),
            ),
            (
                "Outdoor",
                "OUT",
                (
                    "Daypack 24L",
                    "Insulated Bottle",
                    "Camp Mug",
                    "Trekking Pole",
                    "Headlamp",
                    "Packable Blanket",
                ),
                ("Black", "Olive", "Sand"),
                (15, 120),
            ),
            (
                "Accessories",
                "ACC",
                ("Wool Beanie", "Leather Belt", "Bandana", "Touch Gloves", "Canvas Tote"),
                ("Charcoal", "Navy", "Rust"),
                (12, 60),
            ),
        ),
    ),
    (
        "Casa Lumen",
        "DE",
        "Europe/Berlin",
        1,
        (
            (
                "Kitchen",
                "KIT",
                (
                    "Chef's Knife",
                    "Cast Iron Skillet",
                    "Pour-Over Set",
                    "Cutting Board",
                    "Spice Grinder",
                    "Ceramic Bowl Set",
                ),
                ("Small", "Medium", "Large"),
                (14, 130),
            ),
            (
                "Home Decor",
                "DEC",
                ("Linen Cushion", "Table Lamp", "Wall Mirror", "Glass Vase", "Scented Candle"),
                ("White", "Sage", "Terracotta"),
                (12, 150),
            ),
            (
                "Bedding",
                "BED",
                ("Percale Sheet Set", "Down Duvet", "Wool Throw", "Linen Pillowcase"),
                ("Single", "Double", "King"),
                (30, 220),
            ),
            (
                "Bath",
                "BTH",
                ("Waffle Towel", "Bath Mat", "Soap Dispenser", "Robe"),
                ("Stone", "Ink", "Oat"),
                (10, 90),
            ),
        ),
    ),
    (
        "Voltline Gear",
        "US",
        "America/Los_Angeles",
        -8,
        (
            (
                "Audio",
                "AUD",
                ("Wireless Earbuds", "Studio Headphones", "Bluetooth Speaker", "Neckband Headset"),
                ("Black", "White", "Blue"),
                (29, 260),
            ),
            (
                "Chargers",
                "CHG",
                ("GaN Wall Charger", "Power Bank", "Charging Dock", "Car Charger", "Braided Cable"),
                ("20W", "65W", "100W"),
                (12, 90),
            ),
            (
                "Cases",
                "CSE",
                ("Phone Case", "Laptop Sleeve", "Tablet Folio", "Earbud Case"),
                ("Clear", "Black", "Forest"),
                (15, 70),
            ),
            (
                "Smart Home",
                "SMH",
                ("Smart Plug", "Motion Sensor", "Video Doorbell", "Indoor Camera", "Smart Bulb"),
                ("1-pack", "2-pack", "4-pack"),
                (18, 200),
            ),
        ),
    ),
)
PREFIXES = ("Classic", "Everyday", "Summit", "Coastal", "Heritage", "Urban", "Nordic", "Pro")
VARIANTS_PER_PRODUCT = (0.45, 0.30, 0.25)  # share of products with 1, 2, 3 variants
POPULARITY_EXPONENT = 1.1  # Zipf: a few bestsellers carry a large share of the units
PLANTED_RANKS = (1, 2, 3)  # popularity ranks heading for a stockout at the end; rank 1 hits 0


@dataclass(frozen=True)
class Shop:
    index: int
    tenant_id: str
    name: str
    currency: str
    country: str
    timezone: str
    utc_offset_hours: int
    locations: int


@dataclass(frozen=True)
class Catalog:
    """Every variant of every shop (index v), with its shop, ids, price and popularity."""

    shops: tuple[Shop, ...]
    shop: np.ndarray  # shop index per variant
    product_id: np.ndarray
    variant_id: np.ndarray
    item_id: np.ndarray  # inventory_item_id
    sku: list[str]
    title: list[str]
    category: list[str]
    price_cents: np.ndarray
    updated_us: np.ndarray
    weight: np.ndarray  # share of its shop's units sold
    rank: np.ndarray  # popularity rank within its shop, 0 = bestseller
    location_shop: np.ndarray  # shop index per location
    location_id: np.ndarray

    def variants_of(self, shop: int) -> np.ndarray:
        return np.flatnonzero(self.shop == shop)

    def locations_of(self, shop: int) -> np.ndarray:
        return np.flatnonzero(self.location_shop == shop)


def shop_tenant(index: int) -> str:
    """The tenant id of the shop at 0-based `index`.

    >>> shop_tenant(0)
    'shop-01.myshopify.com'
    """
    return f"shop-{index + 1:02d}.myshopify.com"


def build_shops(cfg: SynthConfig) -> tuple[Shop, ...]:
    """The shops: themes repeat after three; only shop 2 sells in EUR."""
    shops = []
    for i in range(cfg.shops):
        name, country, zone, offset, _ = THEMES[i % len(THEMES)]
        suffix = "" if i < len(THEMES) else f" {i // len(THEMES) + 1}"
        shops.append(
            Shop(
                index=i,
                tenant_id=shop_tenant(i),
                name=name + suffix,
                currency="EUR" if i == 1 else "USD",
                country=country,
                timezone=zone,
                utc_offset_hours=offset,
                locations=2 if i % 2 == 0 else 1,  # a warehouse, and a retail store on even shops
            )
        )
    return tuple(shops)


def build_catalog(cfg: SynthConfig) -> Catalog:
    """The catalogue of every shop, the same for the same seed (commerce and reviews share it)."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, 0]))
    shops = build_shops(cfg)
    rows: dict[str, list] = {k: [] for k in ("shop", "product", "sku", "title", "cat", "price")}
    for shop in shops:
        _add_shop_products(rows, shop, cfg.products_per_shop, rng)
    shop_of = np.array(rows["shop"], dtype=np.int64)
    n = len(shop_of)
    product_seq = np.array(rows["product"], dtype=np.int64)
    first, last = day_us(cfg.start), end_us(cfg.end)
    weight, rank = _popularity(shop_of, rng)
    location_shop = np.repeat(np.arange(len(shops)), [s.locations for s in shops])
    return Catalog(
        shops=shops,
        shop=shop_of,
        product_id=PRODUCT_BASE + ID_STRIDE * product_seq,
        variant_id=VARIANT_BASE + ID_STRIDE * np.arange(n, dtype=np.int64),
        item_id=ITEM_BASE + ID_STRIDE * np.arange(n, dtype=np.int64),
        sku=rows["sku"],
        title=rows["title"],
        category=rows["cat"],
        price_cents=np.array(rows["price"], dtype=np.int64),
        updated_us=_whole_seconds(rng.integers(first, last + 1, n)),
        weight=weight,
        rank=rank,
        location_shop=location_shop,
        location_id=LOCATION_BASE + ID_STRIDE * np.arange(len(location_shop), dtype=np.int64),
    )


def _add_shop_products(
    rows: dict[str, list], shop: Shop, count: int, rng: np.random.Generator
) -> None:
    categories = THEMES[shop.index % len(THEMES)][4]
    combos = [
        (c, p, noun)
        for c in range(len(categories))
        for p in range(len(PREFIXES))
        for noun in categories[c][2]
    ]
    order = rng.permutation(len(combos))
    n_variants = rng.choice(3, size=count, p=VARIANTS_PER_PRODUCT) + 1
    first_product = len(set(rows["product"]))
    for k in range(count):
        cat, prefix, noun = combos[order[k % len(combos)]]
        name, code, _, options, (low, high) = categories[cat]
        title = f"{PREFIXES[prefix]} {noun}" + ("" if k < len(combos) else f" {k // len(combos)}")
        base = _shelf_price(low, high, shop.currency, rng)
        start = int(rng.integers(len(options)))
        for j in range(n_variants[k]):
            option = options[(start + j) % len(options)]
            rows["shop"].append(shop.index)
            rows["product"].append(first_product + k)
            rows["sku"].append(f"{code}-{k + 1:03d}-{option.upper().replace('-', '')[:5]}")
            rows["title"].append(title if n_variants[k] == 1 else f"{title} - {option}")
            rows["cat"].append(name)
            rows["price"].append(base + 500 * j * (code in ("BED", "CHG", "SMH")))


def _shelf_price(low: int, high: int, currency: str, rng: np.random.Generator) -> int:
    """A shelf price in cents ending in .99 (USD) or .95 (EUR)."""
    whole = int(np.exp(rng.uniform(np.log(low), np.log(high))))
    return whole * 100 + (99 if currency == "USD" else 95)


def _popularity(shop_of: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    weight = np.zeros(len(shop_of))
    rank = np.zeros(len(shop_of), dtype=np.int64)
    for s in np.unique(shop_of):
        idx = np.flatnonzero(shop_of == s)
        r = rng.permutation(len(idx))
        w = 1.0 / (r + 1.0) ** POPULARITY_EXPONENT
        weight[idx], rank[idx] = w / w.sum(), r
    return weight, rank


def _whole_seconds(us: np.ndarray) -> np.ndarray:
    return us - us % US_PER_SECOND


def products_table(catalog: Catalog) -> pa.Table:
    """The products table: one row per variant."""
    tenants = [s.tenant_id for s in catalog.shops]
    currencies = [s.currency for s in catalog.shops]
    return conform(
        "products",
        {
            "tenant_id": pick(tenants, catalog.shop),
            "product_id": pa.array(catalog.product_id),
            "variant_id": pa.array(catalog.variant_id),
            "inventory_item_id": pa.array(catalog.item_id),
            "sku": pa.array(catalog.sku, pa.string()),
            "title": pa.array(catalog.title, pa.string()),
            "category": pa.array(catalog.category, pa.string()),
            "price": money(catalog.price_cents),
            "currency": pick(currencies, catalog.shop),
            "updated_at": utc(catalog.updated_us),
        },
    )


def shop_tenants_table(cfg: SynthConfig) -> pa.Table:
    """Rows for the tenants table describing the shops (platform, currency, zone)."""
    shops = build_shops(cfg)
    props = [
        json.dumps({"platform": "shopify", "currency": s.currency, "timezone": s.timezone})
        for s in shops
    ]
    return conform(
        "tenants",
        {
            "tenant_id": pa.array([s.tenant_id for s in shops], pa.string()),
            "name": pa.array([s.name for s in shops], pa.string()),
            "country": pa.array([s.country for s in shops], pa.string()),
            "created_at": utc(np.full(len(shops), day_us(cfg.start))),
            "properties": pa.array(props, pa.string()),
        },
    )
