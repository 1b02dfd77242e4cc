"""Headline numbers of the store summary against hand-counted small data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from sextant.store.engines.duckdb import DuckDBEngine
from sextant.store.identity import merge, persons_for
from sextant.store.summary import summarize

TS = pa.timestamp("us", tz="UTC")


def add_events(engine, rows: list[tuple[str, str, datetime]]) -> None:
    ids = persons_for(engine, [d for d, _, _ in rows], rows[0][2])
    engine.append(
        "events",
        pa.table(
            {
                "id": [f"e{i}-{d}-{e}" for i, (d, e, _) in enumerate(rows)],
                "event": [e for _, e, _ in rows],
                "timestamp": pa.array([t for _, _, t in rows], TS),
                "distinct_id": [d for d, _, _ in rows],
                "person_id": pa.array([ids[d] for d, _, _ in rows], pa.int64()),
            }
        ),
    )


@pytest.fixture
def engine():
    with DuckDBEngine(":memory:") as eng:
        yield eng


def test_dau_wau_mau_count_merged_persons_once_in_local_days(engine):
    last = datetime(2024, 6, 30, 21, 30, tzinfo=UTC)  # 2024-07-01 in Tokyo, 06-30 in UTC
    add_events(
        engine,
        [
            ("anon", "$pageview", last - timedelta(days=3)),
            ("user", "signed_up", last - timedelta(days=3, hours=-1)),
            ("user", "page_created", last),
            ("u2", "page_created", last - timedelta(days=10)),
            ("u3", "$pageleave", last - timedelta(hours=1)),  # inactive: never counts
            ("u4", "page_created", last - timedelta(days=40)),  # outside MAU
            ("u5", "$feature_flag_called", last),  # inactive
        ],
    )
    merge(engine, "identify", "user", "anon", last - timedelta(days=3))
    h = summarize(engine, "UTC").headline
    assert h.last_day.isoformat() == "2024-06-30"
    assert (h.dau, h.wau, h.mau) == (1, 1, 2)  # user | user | user, u2
    assert h.stickiness == pytest.approx(0.5)
    tokyo = summarize(engine, "Asia/Tokyo").headline
    assert tokyo.last_day.isoformat() == "2024-07-01"
    assert (tokyo.dau, tokyo.wau, tokyo.mau) == (1, 1, 2)


def test_paid_conversion_is_paid_signed_up_persons_over_signed_up(engine):
    t = datetime(2024, 1, 10, 12, tzinfo=UTC)
    rows = [(f"u{i}", "signed_up", t) for i in range(8)]
    rows += [("u1", "subscription_started", t), ("u2", "subscription_started", t)]
    rows += [("u2", "subscription_started", t + timedelta(days=30))]  # counted once
    add_events(engine, rows)
    h = summarize(engine).headline
    assert h.signups == 8
    assert h.paid_conversion == pytest.approx(2 / 8)
    assert h.events_per_person == pytest.approx(11 / 8)


def test_revenue_is_net_of_refunds_and_skips_test_and_cancelled_orders(engine):
    t = datetime(2024, 1, 1, tzinfo=UTC)
    engine.append(
        "orders",
        pa.table(
            {
                "tenant_id": ["s"] * 4,
                "order_id": pa.array([1, 2, 3, 4], pa.int64()),
                "created_at": pa.array([t] * 4, TS),
                "currency": ["USD"] * 4,
                "total_price": pa.array(
                    [Decimal("10.00"), Decimal("20.50"), Decimal("99.00"), Decimal("5.00")],
                    pa.decimal128(18, 2),
                ),
                "test": [False, False, True, False],
                "cancelled_at": pa.array([None, None, None, t], TS),
            }
        ),
    )
    engine.append(
        "refunds",
        pa.table(
            {
                "tenant_id": ["s"],
                "refund_id": pa.array([9], pa.int64()),
                "order_id": pa.array([2], pa.int64()),
                "created_at": pa.array([t], TS),
                "amount": pa.array([Decimal("0.50")], pa.decimal128(18, 2)),
            }
        ),
    )
    h = summarize(engine).headline
    assert h.orders == 2
    assert h.revenue == {"USD": pytest.approx(30.00)}


def test_empty_store_has_no_headline_numbers(engine):
    s = summarize(engine)
    assert s.headline.last_day is None and s.headline.dau is None
    assert {t.name: t.rows for t in s.tables}["events"] == 0
    assert s.as_dict()["tables"][0]["rows"] == 0
