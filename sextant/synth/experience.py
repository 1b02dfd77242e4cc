"""Synthetic customer experience of the first shop (tenant `shop-01.myshopify.com`): customers,
interactions, support tickets and multilingual product reviews.

interactions.sentiment is the source system's score in [-1, 1], so it is filled here;
reviews.sentiment stays NULL: Sextant scores review text itself (VADER for English, a
documented method for the other languages). One planted incident month (`incident_window`)
brings more support contacts and shipping tickets, lower sentiment and slower resolutions.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.synth.catalog import build_catalog, shop_tenant
from sextant.synth.columns import (
    US_PER_DAY,
    US_PER_HOUR,
    US_PER_SECOND,
    conform,
    day_us,
    end_us,
    pick,
    rechunk,
    utc,
)
from sextant.synth.config import COUNTRIES, SynthConfig
from sextant.synth.customers import (
    PERSONAS,
    STREAM,
    Population,
    build_population,
    choose_rows,
    customer_ids,
    customers_table,
)
from sextant.synth.review_phrases import REVIEWS
from sextant.synth.seasons import delay_us
from sextant.synth.text import (
    TICKET_SUBJECTS,
    band_of_rating,
    band_of_sentiment,
    compose_reviews,
    pick_notes,
    pick_subjects,
)

TYPES = ("purchase", "support", "review", "browse", "email", "chat", "call")
TYPE_MIX = np.array(  # P(type | persona), personas in PERSONAS order
    [
        [0.22, 0.08, 0.05, 0.35, 0.20, 0.06, 0.04],
        [0.12, 0.05, 0.03, 0.55, 0.17, 0.05, 0.03],
        [0.25, 0.08, 0.04, 0.25, 0.18, 0.12, 0.08],
        [0.22, 0.10, 0.10, 0.32, 0.08, 0.14, 0.04],
        [0.30, 0.05, 0.12, 0.25, 0.15, 0.08, 0.05],
    ]
)
INCIDENT_CONTACT = np.array([1, 3, 1, 1, 1, 3, 3])  # contact types multiply in the incident
INTERACTION_CHANNELS = ("web", "mobile", "email", "social", "in_store", "phone")
# interaction channel by type (rows) and the customer's own channel (columns, CHANNELS order)
CHANNEL_OF_TYPE = np.array(
    [
        [0, 1, 0, 1, 4],
        [2, 2, 2, 2, 2],
        [0, 1, 0, 1, 0],
        [0, 1, 0, 3, 0],
        [2, 2, 2, 2, 2],
        [0, 1, 0, 1, 0],
        [5, 5, 5, 5, 5],
    ]
)
INTERACTIONS_BY_SEGMENT = np.array([3, 10, 6, 5, 16])  # SEGMENTS order
ACTIVITY_BY_PERSONA = np.array([1.0, 0.6, 0.9, 1.2, 1.4])
MOOD_BY_PERSONA = np.array([-0.05, 0.10, 0.05, 0.20, 0.45])
MOOD_BY_TYPE = np.array([0.20, -0.35, 0.0, 0.05, 0.0, -0.15, -0.25])
MOOD_BY_SEGMENT = np.array([0.05, 0.0, -0.10, -0.15, 0.10])
INCIDENT_MOOD = -0.25
NOTE_TYPES = np.isin(TYPES, ("support", "review", "email", "chat", "call"))

CATEGORY_MIX = np.array([0.15, 0.25, 0.15, 0.18, 0.10, 0.17])  # TICKET_SUBJECTS order
PRIORITIES = ("low", "normal", "high", "urgent")
PRIORITY_MIX = (0.25, 0.50, 0.18, 0.07)
FIRST_REPLY_HOURS = np.array([10.0, 5.0, 2.0, 0.5])  # medians by priority
RESOLVE_HOURS = np.array([12.0, 9.0, 6.0, 3.0])  # medians by priority; P90 about 3x
TICKET_CHANNELS = ("email", "web", "chat", "phone")
TICKETS_BY_PERSONA = np.array([0.55, 0.35, 0.6, 0.75, 0.45])
RECURRING_SHARE = 0.10  # customers with 2-4 more tickets in one category
INCIDENT_TICKET_SHARE = 0.08  # active customers with an extra shipping ticket in the incident
CSAT_SHARE = 0.35
STALE_SHARE = 0.01  # tickets left waiting on the customer, never resolved
ZENDESK_FIRST_ID = 31_415
TICKET_URL = "https://support.example.com/agent/tickets/"

REVIEWS_BY_PERSONA = np.array([0.6, 0.4, 0.7, 1.3, 1.8]) * 0.6
RATING_MIX = (0.13, 0.06, 0.08, 0.18, 0.55)  # J-shaped: 1..5 stars
POOR_RATING_MIX = (0.45, 0.25, 0.15, 0.10, 0.05)
POOR_PRODUCTS = 2  # products with a real problem: many low ratings
LANGUAGE_OF_COUNTRY = {"DE": "de", "FR": "fr", "ES": "es", "MX": "es", "BR": "pt"}
WRITES_ENGLISH = 0.2  # non-English speakers who review in English anyway


def experience_tables(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    """Yield (table name, chunk) for customers, interactions, tickets, reviews."""
    return rechunk(_pieces(cfg), cfg.chunk_rows)


def _pieces(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    people = build_population(cfg)
    yield "customers", customers_table(cfg, people)
    yield "interactions", interactions_table(cfg, people)
    yield "tickets", tickets_table(cfg, people)
    yield "reviews", reviews_table(cfg, people)


def incident_window(cfg: SynthConfig) -> tuple[date, date]:
    """The planted incident: the calendar month 70 % of the way through the period."""
    middle = cfg.start + timedelta(days=int((cfg.end - cfg.start).days * 0.7))
    first = middle.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return max(first, cfg.start), min(following - timedelta(days=1), cfg.end)


def _in_incident(cfg: SynthConfig, us: np.ndarray) -> np.ndarray:
    first, last = incident_window(cfg)
    return (us >= day_us(first)) & (us <= end_us(last))


def _rng(cfg: SynthConfig, part: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, part]))


def _moments(people: Population, owner: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A whole-second instant in each owner's active life."""
    lo, hi = people.created_us[owner], people.active_until_us[owner]
    us = lo + (rng.random(len(owner)) * (hi - lo)).astype(np.int64)
    return us - us % US_PER_SECOND


def _sequence_ids(prefix: str, n: int, width: int) -> pa.Array:
    digits = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n + 1)), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def interactions_table(cfg: SynthConfig, people: Population) -> pa.Table:
    """Several contacts per customer, with the source system's sentiment score."""
    rng = _rng(cfg, 4)
    mean = INTERACTIONS_BY_SEGMENT[people.segment] * ACTIVITY_BY_PERSONA[people.persona]
    owner = np.repeat(np.arange(people.size), 1 + rng.poisson(mean))
    at = _moments(people, owner, rng)
    order = np.argsort(at, kind="stable")
    owner, at = owner[order], at[order]
    incident = _in_incident(cfg, at)
    persona = people.persona[owner]
    weights = TYPE_MIX[persona] * np.where(incident[:, None], INCIDENT_CONTACT, 1)
    kind = choose_rows(weights / weights.sum(axis=1, keepdims=True), rng)
    channel = CHANNEL_OF_TYPE[kind, people.channel[owner]]
    support_by_web = (kind == TYPES.index("support")) & (rng.random(len(kind)) < 0.5)
    channel = np.where(support_by_web, 0, channel)
    span = max(end_us(cfg.end) - day_us(cfg.start), 1)
    trend = 0.1 * ((at - day_us(cfg.start)) / span - 0.5)
    score = (
        MOOD_BY_PERSONA[persona]
        + MOOD_BY_TYPE[kind]
        + MOOD_BY_SEGMENT[people.segment[owner]]
        + trend
        + INCIDENT_MOOD * incident
        + rng.normal(0, 0.25, len(kind))
    )
    score = np.round(np.clip(score, -1, 1), 3)
    noted = NOTE_TYPES[kind] & (rng.random(len(kind)) < 0.7)
    notes = pick_notes(band_of_sentiment(score), rng)
    return conform(
        "interactions",
        {
            "tenant_id": pick([shop_tenant(0)], np.zeros(len(kind), np.int64)),
            "interaction_id": _sequence_ids("int_", len(kind), 8),
            "customer_id": customer_ids(owner + 1),
            "type": pick(TYPES, kind),
            "channel": pick(INTERACTION_CHANNELS, channel),
            "occurred_at": utc(at),
            "sentiment": pa.array(score),
            "text": pc.if_else(pa.array(noted), notes, pa.scalar(None, pa.string())),
        },
    )


def tickets_table(cfg: SynthConfig, people: Population) -> pa.Table:
    """Support tickets: priorities, categories, response and resolution times, CSAT."""
    rng = _rng(cfg, 5)
    owner, category = _ticket_owners(people, rng)
    created = _moments(people, owner, rng)
    extra = _incident_tickets(cfg, people, rng)
    owner = np.r_[owner, extra]
    category = np.r_[category, np.full(len(extra), list(TICKET_SUBJECTS).index("shipping"))]
    first, last = incident_window(cfg)
    span = end_us(last) - day_us(first)
    created = np.r_[created, day_us(first) + (rng.random(len(extra)) * span).astype(np.int64)]
    created -= created % US_PER_SECOND
    order = np.argsort(created, kind="stable")
    owner, category, created = owner[order], category[order], created[order]
    n = len(owner)
    priority = rng.choice(len(PRIORITIES), size=n, p=PRIORITY_MIX)
    slow = np.where(_in_incident(cfg, created), 1.7, 1.0)
    reply = delay_us(rng, FIRST_REPLY_HOURS[priority] * slow, 0.8)
    solve = delay_us(rng, RESOLVE_HOURS[priority] * slow, 0.9)
    replied_at = created + reply
    resolved_at = np.maximum(created + solve, replied_at + 10 * 60 * US_PER_SECOND)
    now = end_us(cfg.end)
    replied = replied_at <= now
    stale = replied & (rng.random(n) < STALE_SHARE)
    resolved = (resolved_at <= now) & ~stale
    waiting = stale | (replied & ~resolved & (rng.random(n) < 0.5))
    recent = resolved_at > now - 4 * US_PER_DAY
    status = np.select([~resolved & waiting, ~resolved, recent], [1, 0, 2], 3)
    hours = (resolved_at - created) / US_PER_HOUR
    mood = np.where(people.persona[owner] == list(PERSONAS).index("Loyal Advocate"), 0.3, 0.0)
    csat = np.clip(
        np.round(4.7 - 0.8 * np.log2(1 + hours / 12) + mood + rng.normal(0, 0.7, n)), 1, 5
    )
    rated = resolved & (rng.random(n) < CSAT_SHARE)
    external = ZENDESK_FIRST_ID + np.cumsum(1 + rng.poisson(0.3, n))
    external_id = pc.cast(pa.array(external), pa.string())
    return conform(
        "tickets",
        {
            "tenant_id": pick([shop_tenant(0)], np.zeros(n, np.int64)),
            "ticket_id": _sequence_ids("tkt_", n, 7),
            "external_id": external_id,
            "external_url": pc.binary_join_element_wise(TICKET_URL, external_id, ""),
            "customer_id": customer_ids(owner + 1),
            "subject": pick_subjects(category, rng),
            "priority": pick(PRIORITIES, priority),
            "category": pick(list(TICKET_SUBJECTS), category),
            "status": pick(("open", "pending", "solved", "closed"), status),
            "channel": pick(TICKET_CHANNELS, rng.choice(4, size=n, p=(0.45, 0.25, 0.2, 0.1))),
            "created_at": utc(created),
            "first_response_at": utc(replied_at, mask=~replied),
            "resolved_at": utc(resolved_at, mask=~resolved),
            "csat": pa.array(csat.astype(np.int32), mask=~rated),
        },
    )


def _ticket_owners(people: Population, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Everyday tickets, plus recurring customers who keep writing about one category."""
    count = rng.poisson(TICKETS_BY_PERSONA[people.persona])
    owner = np.repeat(np.arange(people.size), count)
    category = rng.choice(len(CATEGORY_MIX), size=len(owner), p=CATEGORY_MIX)
    recurring = np.flatnonzero(rng.random(people.size) < RECURRING_SHARE)
    again = np.repeat(recurring, rng.integers(2, 5, len(recurring)))
    theme = rng.choice(len(CATEGORY_MIX), size=people.size, p=CATEGORY_MIX)
    return np.r_[owner, again], np.r_[category, theme[again]]


def _incident_tickets(cfg: SynthConfig, people: Population, rng: np.random.Generator) -> np.ndarray:
    """Customers active through the incident who wrote in about their delivery."""
    first, last = incident_window(cfg)
    active = (people.created_us <= day_us(first)) & (people.active_until_us >= end_us(last))
    return np.flatnonzero(active & (rng.random(people.size) < INCIDENT_TICKET_SHARE))


def reviews_table(cfg: SynthConfig, people: Population) -> pa.Table:
    """Reviews of the first shop's products; sentiment left NULL for Sextant to compute."""
    rng = _rng(cfg, 6)
    products, weights = _reviewed_products(cfg)
    owner = np.repeat(np.arange(people.size), rng.poisson(REVIEWS_BY_PERSONA[people.persona]))
    created = _moments(people, owner, rng)
    order = np.argsort(created, kind="stable")
    owner, created = owner[order], created[order]
    n = len(owner)
    product = rng.choice(len(products), size=n, p=weights)
    rating = _ratings(cfg, people, owner, product, created, rng)
    language = _languages(people.country[owner], rng)
    title, text = compose_reviews(language, band_of_rating(rating), rng)
    return conform(
        "reviews",
        {
            "tenant_id": pick([shop_tenant(0)], np.zeros(n, np.int64)),
            "review_id": _sequence_ids("rev_", n, 7),
            "product_id": pa.array(products[product]),
            "customer_id": customer_ids(owner + 1),
            "rating": pa.array(rating.astype(np.int32)),
            "title": title,
            "text": text,
            "language": pick(list(REVIEWS), language),
            "sentiment": pa.nulls(n, pa.float64()),
            "created_at": utc(created),
        },
    )


def _reviewed_products(cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """The first shop's product ids and each one's share of reviews (its share of sales)."""
    catalog = build_catalog(cfg)
    mine = catalog.variants_of(0)
    products, where = np.unique(catalog.product_id[mine], return_inverse=True)
    weights = np.bincount(where, weights=catalog.weight[mine])
    return products, weights / weights.sum()


def _ratings(
    cfg: SynthConfig,
    people: Population,
    owner: np.ndarray,
    product: np.ndarray,
    created: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """J-shaped stars; two problem products, happier loyal customers, a dip in the incident."""
    n = len(owner)
    rating = rng.choice(5, size=n, p=RATING_MIX) + 1
    poor = (product < POOR_PRODUCTS) & (rng.random(n) < 0.6)
    rating = np.where(poor, rng.choice(5, size=n, p=POOR_RATING_MIX) + 1, rating)
    loyal = people.persona[owner] == list(PERSONAS).index("Loyal Advocate")
    rating = np.where(loyal & (rng.random(n) < 0.3), np.minimum(rating + 1, 5), rating)
    hit = _in_incident(cfg, created) & (rng.random(n) < 0.4)
    return np.where(hit, np.maximum(rating - rng.integers(1, 3, n), 1), rating)


def _languages(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Index into REVIEWS: the customer's language, or English for a share of them."""
    codes = list(REVIEWS)
    native = np.array([codes.index(LANGUAGE_OF_COUNTRY.get(c, "en")) for c in COUNTRIES])
    language = native[country]
    return np.where(rng.random(len(country)) < WRITES_ENGLISH, 0, language)
