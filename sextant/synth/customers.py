"""Synthetic customers of the first shop: ids, signup times, personas, segments, value and PII.

Customer k is `cust_00000k`, numbered in signup order, so commerce can pick the customers who
already existed when an order was placed. Names and emails are fake (example.com domains).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.synth.catalog import shop_tenant
from sextant.synth.columns import (
    US_PER_DAY,
    US_PER_SECOND,
    conform,
    day_us,
    end_us,
    money,
    pick,
    utc,
)
from sextant.synth.config import COUNTRIES, SynthConfig

STREAM = 3  # customer experience's random stream: SeedSequence([seed, STREAM, part])

PERSONAS = {
    "Bargain Hunter": 0.28,
    "Occasional Browser": 0.26,
    "Busy Professional": 0.20,
    "Tech Enthusiast": 0.14,
    "Loyal Advocate": 0.12,
}
SEGMENTS = ("new", "active", "at_risk", "churned", "vip")
# P(active, at_risk, churned, vip | persona) for customers older than NEW_DAYS
SEGMENT_MIX = np.array(
    [
        [0.45, 0.25, 0.27, 0.03],
        [0.35, 0.25, 0.38, 0.02],
        [0.55, 0.20, 0.17, 0.08],
        [0.55, 0.18, 0.15, 0.12],
        [0.55, 0.08, 0.05, 0.32],
    ]
)
NEW_DAYS = 60
CHANNELS = ("web", "mobile", "email", "social", "in_store")
CHANNEL_MIX = np.array(
    [
        [0.30, 0.25, 0.25, 0.15, 0.05],
        [0.40, 0.20, 0.10, 0.20, 0.10],
        [0.25, 0.45, 0.20, 0.05, 0.05],
        [0.30, 0.50, 0.05, 0.12, 0.03],
        [0.30, 0.25, 0.15, 0.05, 0.25],
    ]
)
REGIONS = {
    "US": "NA",
    "CA": "NA",
    "MX": "LATAM",
    "BR": "LATAM",
    "IN": "APAC",
    "JP": "APAC",
    "AU": "APAC",
}  # the rest of COUNTRIES is in EMEA
VALUE_PERSONA = np.array([0.7, 0.5, 1.3, 1.4, 2.2])
VALUE_SEGMENT = np.array([0.25, 1.0, 0.8, 0.5, 4.0])
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")

NAMES = {  # name pool: (countries, first names, last names)
    "en": (
        ("US", "GB", "CA", "AU"),
        (
            "James",
            "Olivia",
            "Liam",
            "Emma",
            "Noah",
            "Ava",
            "Ethan",
            "Sophia",
            "Mason",
            "Isabella",
            "Lucas",
            "Mia",
            "Harper",
            "Amelia",
            "Jack",
            "Grace",
            "Henry",
            "Chloe",
        ),
        (
            "Smith",
            "Johnson",
            "Brown",
            "Taylor",
            "Wilson",
            "Davies",
            "Clarke",
            "Walker",
            "Thompson",
            "White",
            "Harris",
            "Martin",
            "Lewis",
            "Young",
            "King",
            "Wright",
        ),
    ),
    "de": (
        ("DE", "NL"),
        (
            "Lukas",
            "Anna",
            "Jonas",
            "Lea",
            "Felix",
            "Marie",
            "Paul",
            "Sophie",
            "Daan",
            "Emma",
            "Finn",
            "Sanne",
            "Jürgen",
            "Lotte",
        ),
        (
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Becker",
            "Wagner",
            "de Vries",
            "Jansen",
            "Bakker",
            "Hoffmann",
            "Schäfer",
        ),
    ),
    "fr": (
        ("FR",),
        (
            "Louis",
            "Camille",
            "Gabriel",
            "Léa",
            "Hugo",
            "Chloé",
            "Jules",
            "Manon",
            "Raphaël",
            "Inès",
        ),
        (
            "Martin",
            "Bernard",
            "Dubois",
            "Lefèvre",
            "Moreau",
            "Laurent",
            "Girard",
            "Roux",
            "Fournier",
        ),
    ),
    "es": (
        ("ES", "MX"),
        (
            "Mateo",
            "Lucía",
            "Santiago",
            "Sofía",
            "Diego",
            "Valentina",
            "Alejandro",
            "Camila",
            "Javier",
            "Martina",
        ),
        (
            "García",
            "Rodríguez",
            "Martínez",
            "López",
            "Hernández",
            "González",
            "Pérez",
            "Sánchez",
            "Ramírez",
            "Torres",
        ),
    ),
    "pt": (
        ("BR",),
        (
            "João",
            "Ana",
            "Pedro",
            "Beatriz",
            "Gabriel",
            "Larissa",
            "Rafael",
            "Júlia",
            "Thiago",
            "Fernanda",
        ),
        ("Silva", "Santos", "Oliveira", "Souza", "Lima", "Pereira", "Costa", "Ferreira", "Almeida"),
    ),
    "in": (
        ("IN",),
        ("Aarav", "Priya", "Vihaan", "Ananya", "Arjun", "Diya", "Rohan", "Isha", "Kabir", "Meera"),
        ("Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Singh", "Mehta", "Rao"),
    ),
    "ja": (
        ("JP",),
        ("Haruto", "Yui", "Sota", "Hina", "Ren", "Aoi", "Yuto", "Sakura", "Riku", "Mio"),
        (
            "Sato",
            "Suzuki",
            "Takahashi",
            "Tanaka",
            "Watanabe",
            "Ito",
            "Yamamoto",
            "Nakamura",
            "Kobayashi",
        ),
    ),
}


@dataclass(frozen=True)
class Population:
    """Customers as arrays indexed by customer number - 1."""

    created_us: np.ndarray
    persona: np.ndarray  # index into PERSONAS
    segment: np.ndarray  # index into SEGMENTS
    country: np.ndarray  # index into COUNTRIES
    channel: np.ndarray  # index into CHANNELS
    active_until_us: np.ndarray  # last moment the customer still interacts

    @property
    def size(self) -> int:
        return len(self.created_us)


def customer_ids(numbers: np.ndarray, mask: np.ndarray | None = None) -> pa.Array:
    """Customer ids from 1-based customer numbers.

    >>> customer_ids(np.array([1, 123])).to_pylist()
    ['cust_000001', 'cust_000123']
    """
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64(), mask=mask), pa.string()), 6, "0")
    return pc.binary_join_element_wise("cust_", digits, "")


def signup_times(cfg: SynthConfig) -> np.ndarray:
    """Signup instants (whole seconds, ascending): customer k signed up at element k - 1."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, 0]))
    first, last = day_us(cfg.start), end_us(cfg.end)
    # u ** 0.8 puts more signups late in the period: the shop grows.
    offsets = np.sort(rng.random(cfg.customers)) ** 0.8 * (last - first)
    us = first + offsets.astype(np.int64)
    return us - us % US_PER_SECOND


def build_population(cfg: SynthConfig) -> Population:
    """Who the customers are; deterministic from the seed."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, 1]))
    n = cfg.customers
    created = signup_times(cfg)
    last = end_us(cfg.end)
    persona = rng.choice(len(PERSONAS), size=n, p=list(PERSONAS.values()))
    segment = 1 + choose_rows(SEGMENT_MIX[persona], rng)
    segment[created > last - NEW_DAYS * US_PER_DAY] = 0
    shares = np.array(list(COUNTRIES.values()))
    country = rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum())
    channel = choose_rows(CHANNEL_MIX[persona], rng)
    lifespan = (last - created).astype(np.float64)
    until = np.full(n, last, dtype=np.int64)
    churned = segment == SEGMENTS.index("churned")
    until[churned] = created[churned] + (lifespan[churned] * rng.uniform(0.2, 0.8, churned.sum()))
    fading = segment == SEGMENTS.index("at_risk")
    quiet = rng.integers(30, 91, fading.sum()) * US_PER_DAY
    until[fading] = np.maximum(last - quiet, created[fading])
    return Population(created, persona, segment, country, channel, until)


def choose_rows(probabilities: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of a matrix of probabilities (rows sum to 1)."""
    cum = np.cumsum(probabilities, axis=1)
    u = rng.random((len(probabilities), 1)) * cum[:, -1:]
    return (u > cum).sum(axis=1)


def customers_table(cfg: SynthConfig, people: Population) -> pa.Table:
    """The customers table; name and email are PII."""
    rng = np.random.default_rng(np.random.SeedSequence([cfg.seed, STREAM, 2]))
    numbers = np.arange(1, people.size + 1)
    names, emails = _fake_identities(people.country, numbers, rng)
    countries = list(COUNTRIES)
    regions = [REGIONS.get(c, "EMEA") for c in countries]
    tenure = (end_us(cfg.end) - people.created_us) / max(end_us(cfg.end) - day_us(cfg.start), 1)
    value = np.exp(rng.normal(np.log(180.0), 1.0, people.size))
    value *= VALUE_PERSONA[people.persona] * VALUE_SEGMENT[people.segment] * (0.3 + 0.7 * tenure)
    return conform(
        "customers",
        {
            "tenant_id": pick([shop_tenant(0)], np.zeros(people.size, dtype=np.int64)),
            "customer_id": customer_ids(numbers),
            "name": names,
            "email": emails,
            "persona": pick(list(PERSONAS), people.persona),
            "segment": pick(SEGMENTS, people.segment),
            "region": pick(regions, people.country),
            "country": pick(countries, people.country),
            "channel": pick(CHANNELS, people.channel),
            "lifetime_value": money(np.round(value * 100).astype(np.int64)),
            "created_at": utc(people.created_us),
        },
    )


def _fake_identities(
    country: np.ndarray, numbers: np.ndarray, rng: np.random.Generator
) -> tuple[pa.Array, pa.Array]:
    """Names from the pool of each customer's country, and emails unique by customer number."""
    firsts, lasts, first_at, last_at = [], [], [], []
    pool_of_country = np.zeros(len(COUNTRIES), dtype=np.int64)
    for p, (countries, first, last) in enumerate(NAMES.values()):
        first_at.append((len(firsts), len(first)))
        last_at.append((len(lasts), len(last)))
        firsts += first
        lasts += last
        for c in countries:
            pool_of_country[list(COUNTRIES).index(c)] = p
    pool = pool_of_country[country]
    f_off, f_len = np.array(first_at).T
    l_off, l_len = np.array(last_at).T
    fi = f_off[pool] + (rng.random(len(pool)) * f_len[pool]).astype(np.int64)
    li = l_off[pool] + (rng.random(len(pool)) * l_len[pool]).astype(np.int64)
    name = pc.binary_join_element_wise(pick(firsts, fi), pick(lasts, li), " ")
    local = pc.binary_join_element_wise(
        pick([_slug(x) for x in firsts], fi),
        pick([_slug(x) for x in lasts], li),
        ".",
    )
    domain = pick(EMAIL_DOMAINS, rng.integers(len(EMAIL_DOMAINS), size=len(pool)))
    email = pc.binary_join_element_wise(
        local, pc.cast(pa.array(numbers), pa.string()), "@", domain, ""
    )
    return name, email


def _slug(name: str) -> str:
    """An email-safe form of a name.

    >>> _slug("de Vries"), _slug("Lefèvre"), _slug("Jürgen")
    ('devries', 'lefevre', 'jurgen')
    """
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())
