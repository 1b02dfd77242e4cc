"""The canonical, engine-neutral schema: every table, column, logical type and key.

Each table and column says in which schema version it appeared (`since`); migrations are
derived from these markers, so this file is the single description of the store. Engines
map the logical types to their own (see `store/engines/`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import pyarrow as pa


class Type(StrEnum):
    TEXT = "text"
    BIGINT = "bigint"  # 64-bit signed: Shopify ids exceed 2^53 and must never pass through float
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"  # an instant, stored in UTC with microseconds
    DATE = "date"
    MONEY = "money"  # decimal(18, 2): exact, as shops send it
    JSON = "json"  # a JSON object as text


ARROW_TYPES: dict[Type, pa.DataType] = {
    Type.TEXT: pa.string(),
    Type.BIGINT: pa.int64(),
    Type.INTEGER: pa.int32(),
    Type.DOUBLE: pa.float64(),
    Type.BOOLEAN: pa.bool_(),
    Type.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Type.DATE: pa.date32(),
    Type.MONEY: pa.decimal128(18, 2),
    Type.JSON: pa.string(),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: Type
    required: bool = False
    pii: bool = False  # never leaves in an export; masked for non-admins
    since: int = 1
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()  # unique key: appends skip rows whose key is already stored
    time: str | None = None  # the column that places a row in time
    # With a window, appends look for an already stored key only among rows whose time is
    # within this many seconds of the new rows' times: a retried or replayed event carries
    # the same timestamp (give or take clock-skew correction), and the check then reads a
    # day of data instead of the whole history.
    dedupe_window_seconds: int | None = None
    since: int = 1
    doc: str = ""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def columns_at(self, version: int) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.since <= version)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def arrow_schema(self, version: int | None = None) -> pa.Schema:
        cols = self.columns if version is None else self.columns_at(version)
        return pa.schema(
            [pa.field(c.name, ARROW_TYPES[c.type], nullable=not c.required) for c in cols]
        )


_c = Column
TEXT, BIGINT, INT, DOUBLE, BOOL, TIME, MONEY, JSON = (
    Type.TEXT,
    Type.BIGINT,
    Type.INTEGER,
    Type.DOUBLE,
    Type.BOOLEAN,
    Type.TIMESTAMP,
    Type.MONEY,
    Type.JSON,
)

# --- version 1: product events and identity -------------------------------------------

TENANTS = Table(
    "tenants",
    (
        _c("tenant_id", TEXT, required=True, doc="Workspace, organisation or store id."),
        _c("name", TEXT),
        _c("plan", TEXT, doc="Billing plan such as free, plus, business, enterprise."),
        _c("country", TEXT, doc="ISO 3166-1 alpha-2 country code."),
        _c("created_at", TIME),
        _c("properties", JSON),
    ),
    key=("tenant_id",),
    time="created_at",
    doc="Tenants (PostHog groups, workspaces, shops). Every other table is scoped by tenant_id.",
)

EVENTS = Table(
    "events",
    (
        _c("id", TEXT, required=True, doc="Event id (PostHog uuid, Segment messageId); unique."),
        _c("event", TEXT, required=True, doc="Event name."),
        _c("timestamp", TIME, required=True, doc="When it happened (UTC, skew-corrected)."),
        _c("received_at", TIME, doc="When Sextant received it."),
        _c("distinct_id", TEXT, required=True, doc="The id the client sent."),
        _c("person_id", BIGINT, required=True, doc="Person at ingestion; resolve via overrides."),
        _c("session_id", TEXT, doc="SDK session id ($session_id) when sent."),
        _c("tenant_id", TEXT),
        _c("source", TEXT, doc="Where it came from: sdk name, import file, generator."),
        _c("plan", TEXT),
        _c("country", TEXT),
        _c("channel", TEXT, doc="Acquisition channel or utm source."),
        _c("device", TEXT, doc="desktop, mobile or tablet."),
        _c("path", TEXT, doc="Page path or screen name."),
        _c("properties", JSON),
    ),
    key=("id",),
    time="timestamp",
    dedupe_window_seconds=86_400,
    doc="Every captured event, as sent (after validation and skew correction).",
)

PERSONS = Table(
    "persons",
    (
        _c("person_id", BIGINT, required=True),
        _c("tenant_id", TEXT, doc="The person's primary tenant."),
        _c("created_at", TIME, required=True, doc="First seen."),
        _c("is_identified", BOOL, doc="True once a known user id was attached."),
        _c("segment", TEXT, doc="individual, small_team, enterprise or education."),
        _c("plan", TEXT),
        _c("country", TEXT),
        _c("channel", TEXT, doc="Signup (acquisition) channel."),
        _c("properties", JSON, doc="Person properties; email, name, phone and ip are PII."),
    ),
    key=("person_id",),
    time="created_at",
    doc="Persons after identity merges: one row per surviving person.",
)

PERSON_DISTINCT_IDS = Table(
    "person_distinct_ids",
    (
        _c("distinct_id", TEXT, required=True),
        _c("person_id", BIGINT, required=True),
        _c("updated_at", TIME),
    ),
    key=("distinct_id",),
    doc="Which person each distinct id belongs to now.",
)

PERSON_OVERRIDES = Table(
    "person_overrides",
    (
        _c("old_person_id", BIGINT, required=True, doc="A person merged into another."),
        _c("person_id", BIGINT, required=True, doc="The surviving person (chains are flattened)."),
        _c("merged_at", TIME, required=True),
    ),
    key=("old_person_id",),
    doc="Merged persons: events keep their person_id; queries resolve through this map.",
)

IDENTITY_MERGES = Table(
    "identity_merges",
    (
        _c("merged_at", TIME, required=True),
        _c("kind", TEXT, required=True, doc="identify or alias."),
        _c("distinct_id", TEXT, required=True, doc="The id that is kept (the user id)."),
        _c("other_id", TEXT, required=True, doc="The id merged into it (anonymous id, alias)."),
        _c("outcome", TEXT, required=True, doc="created, linked, merged, noop or refused."),
        _c("reason", TEXT),
    ),
    time="merged_at",
    doc="Log of every identify/alias request and what it did.",
)

# --- version 2: commerce -----------------------------------------------------------------

PRODUCTS = Table(
    "products",
    (
        _c("tenant_id", TEXT, required=True),
        _c("product_id", BIGINT, required=True),
        _c("variant_id", BIGINT, required=True),
        _c("inventory_item_id", BIGINT),
        _c("sku", TEXT),
        _c("title", TEXT),
        _c("category", TEXT),
        _c("price", MONEY),
        _c("currency", TEXT),
        _c("updated_at", TIME),
    ),
    key=("tenant_id", "variant_id"),
    time="updated_at",
    since=2,
    doc="Products by variant (SKU).",
)

ORDERS = Table(
    "orders",
    (
        _c("tenant_id", TEXT, required=True),
        _c("order_id", BIGINT, required=True),
        _c("order_number", TEXT),
        _c("customer_id", TEXT),
        _c("person_id", BIGINT),
        _c("created_at", TIME, required=True),
        _c("updated_at", TIME),
        _c("currency", TEXT),
        _c("subtotal_price", MONEY),
        _c("total_price", MONEY, doc="Order total at creation."),
        _c("total_refunded", MONEY),
        _c("financial_status", TEXT),
        _c("fulfillment_status", TEXT),
        _c("cancelled_at", TIME),
        _c("test", BOOL),
        _c("source_name", TEXT),
    ),
    key=("tenant_id", "order_id"),
    time="created_at",
    since=2,
)

ORDER_LINES = Table(
    "order_lines",
    (
        _c("tenant_id", TEXT, required=True),
        _c("line_id", BIGINT, required=True),
        _c("order_id", BIGINT, required=True),
        _c("product_id", BIGINT),
        _c("variant_id", BIGINT),
        _c("sku", TEXT),
        _c("title", TEXT),
        _c("quantity", INT),
        _c("price", MONEY, doc="Unit price."),
    ),
    key=("tenant_id", "line_id"),
    since=2,
)

REFUNDS = Table(
    "refunds",
    (
        _c("tenant_id", TEXT, required=True),
        _c("refund_id", BIGINT, required=True),
        _c("order_id", BIGINT, required=True),
        _c("created_at", TIME, required=True),
        _c("amount", MONEY),
        _c("currency", TEXT),
        _c("restocked_quantity", INT),
    ),
    key=("tenant_id", "refund_id"),
    time="created_at",
    since=2,
)

INVENTORY_LEVELS = Table(
    "inventory_levels",
    (
        _c("tenant_id", TEXT, required=True),
        _c("inventory_item_id", BIGINT, required=True),
        _c("location_id", BIGINT, required=True),
        _c("available", INT, required=True),
        _c("updated_at", TIME, required=True),
    ),
    key=("tenant_id", "inventory_item_id", "location_id", "updated_at"),
    time="updated_at",
    since=2,
    doc="History of available quantity per item and location.",
)

REORDER_SETTINGS = Table(
    "reorder_settings",
    (
        _c("tenant_id", TEXT, required=True),
        _c("inventory_item_id", BIGINT, required=True),
        _c("lead_time_days", INT),
        _c("safety_stock", INT),
        _c("reorder_point", INT, doc="Fixed reorder point; unset means velocity-based."),
    ),
    key=("tenant_id", "inventory_item_id"),
    since=2,
)

# --- version 3: customer experience --------------------------------------------------------

CUSTOMERS = Table(
    "customers",
    (
        _c("tenant_id", TEXT, required=True),
        _c("customer_id", TEXT, required=True),
        _c("person_id", BIGINT),
        _c("name", TEXT, pii=True),
        _c("email", TEXT, pii=True),
        _c("persona", TEXT),
        _c("segment", TEXT),
        _c("region", TEXT),
        _c("country", TEXT),
        _c("channel", TEXT),
        _c("lifetime_value", MONEY),
        _c("created_at", TIME),
    ),
    key=("tenant_id", "customer_id"),
    time="created_at",
    since=3,
)

INTERACTIONS = Table(
    "interactions",
    (
        _c("tenant_id", TEXT, required=True),
        _c("interaction_id", TEXT, required=True),
        _c("customer_id", TEXT, required=True),
        _c("type", TEXT, doc="purchase, support, review, browse, email, chat, call."),
        _c("channel", TEXT),
        _c("occurred_at", TIME, required=True),
        _c("sentiment", DOUBLE, doc="Score in [-1, 1]."),
        _c("text", TEXT),
    ),
    key=("tenant_id", "interaction_id"),
    time="occurred_at",
    since=3,
)

TICKETS = Table(
    "tickets",
    (
        _c("tenant_id", TEXT, required=True),
        _c("ticket_id", TEXT, required=True),
        _c("external_id", TEXT, doc="Id in the help desk (Zendesk, Freshdesk)."),
        _c("external_url", TEXT),
        _c("customer_id", TEXT),
        _c("subject", TEXT),
        _c("priority", TEXT, doc="low, normal, high or urgent."),
        _c("category", TEXT),
        _c("status", TEXT),
        _c("channel", TEXT),
        _c("created_at", TIME, required=True),
        _c("first_response_at", TIME),
        _c("resolved_at", TIME),
        _c("csat", INT, doc="Customer satisfaction 1..5."),
    ),
    key=("tenant_id", "ticket_id"),
    time="created_at",
    since=3,
)

REVIEWS = Table(
    "reviews",
    (
        _c("tenant_id", TEXT, required=True),
        _c("review_id", TEXT, required=True),
        _c("product_id", BIGINT),
        _c("customer_id", TEXT),
        _c("rating", INT, doc="Stars normalised to 1..5."),
        _c("title", TEXT),
        _c("text", TEXT),
        _c("language", TEXT, doc="ISO 639-1 code."),
        _c("sentiment", DOUBLE),
        _c("created_at", TIME, required=True),
    ),
    key=("tenant_id", "review_id"),
    time="created_at",
    since=3,
)

# --- version 4: ingestion sources ---------------------------------------------------------

SOURCES = Table(
    "sources",
    (
        _c("name", TEXT, required=True, doc="What sends the events: 'web app', 'backend'."),
        _c("key_hash", TEXT, required=True, doc="sha256 of the write key; the key is not kept."),
        _c("key_prefix", TEXT, doc="First characters of the key, to recognise it."),
        _c("created_at", TIME, required=True),
        _c("revoked_at", TIME),
    ),
    key=("name",),
    time="created_at",
    since=4,
    doc="Event sources and their write keys (PostHog project key, Segment write key).",
)

# --- version 5: stored sessions -----------------------------------------------------------

SESSIONS = Table(
    "sessions",
    (
        _c(
            "session_id",
            TEXT,
            required=True,
            doc="SDK $session_id, or s:<person>:<tenant>:<start, us>.",
        ),
        _c("person_id", BIGINT, doc="Resolved through identity merges (SDK: the least one)."),
        _c("tenant_id", TEXT, doc="The tenant: sessions never span two."),
        _c("started_at", TIME, required=True, doc="First event; counts on this local day."),
        _c("ended_at", TIME, doc="Last event."),
        _c("duration_seconds", DOUBLE, doc="ended_at - started_at; 0 for a single event."),
        _c("events", BIGINT, doc="Events in the session."),
        _c("pageviews", BIGINT, doc="$pageview events in the session."),
        _c("plan", TEXT, doc="At the first event."),
        _c("country", TEXT, doc="At the first event."),
        _c("channel", TEXT, doc="At the first event."),
        _c("device", TEXT, doc="At the first event."),
        _c("path", TEXT, doc="Entry path: the first event's."),
        _c("properties", JSON, doc="Event properties of the first event."),
        _c("entry_event", TEXT, doc="Name of the first event."),
        _c("exit_event", TEXT, doc="Name of the last event."),
        _c("exit_path", TEXT, doc="Path of the last event."),
        _c(
            "visit_started_at",
            TIME,
            doc="Derived sessions: start of the visit (run without a 30-min gap) holding it; "
            "null for SDK sessions.",
        ),
    ),
    key=("session_id", "tenant_id"),
    time="started_at",
    since=5,
    doc="Sessions (SEMANTICS: Sessions) per person and tenant, kept up to date from events "
    "and identity merges.",
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        TENANTS,
        EVENTS,
        PERSONS,
        PERSON_DISTINCT_IDS,
        PERSON_OVERRIDES,
        IDENTITY_MERGES,
        PRODUCTS,
        ORDERS,
        ORDER_LINES,
        REFUNDS,
        INVENTORY_LEVELS,
        REORDER_SETTINGS,
        CUSTOMERS,
        INTERACTIONS,
        TICKETS,
        REVIEWS,
        SOURCES,
        SESSIONS,
    )
}

LATEST_VERSION = max(max(t.since, *(c.since for c in t.columns)) for t in TABLES.values())


def table(name: str) -> Table:
    """The table called `name`, or a clear error listing the known ones."""
    from sextant.errors import NotFound

    try:
        return TABLES[name]
    except KeyError:
        raise NotFound(
            "unknown_table",
            f"unknown table {name!r}; known tables: {', '.join(sorted(TABLES))}",
            field="table",
        ) from None
