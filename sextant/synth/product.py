"""The product-analytics data set (seed 003): tenants, persons, identity maps and events.

Users are drawn in blocks, each from its own random streams; a first pass over the blocks
fixes who pays and how many feature events fill the sessions so the total lands near
`cfg.events`, then events are made block by block so memory stays bounded at any scale.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from sextant.synth.activity import block_events
from sextant.synth.config import SynthConfig
from sextant.synth.journeys import plan_journeys
from sextant.synth.people import VISITORS_PER_USER, Block, People, draw_people
from sextant.synth.profiles import (
    build_distinct_ids,
    build_overrides,
    build_persons,
    build_tenants,
)
from sextant.synth.timeline import Timeline

EVENTS_PER_BLOCK = 400_000  # about this many events are built at once

# How each stage of the seven-stage journey shows in the data; a person reaches a stage
# when they also reached every one before it.
JOURNEY = (
    ("awareness", "a $pageview of a marketing page (path outside /app), mostly anonymous"),
    ("signup", "signed_up"),
    ("activation", "page_created (the first one)"),
    ("engagement", "feature events (vocab.FEATURES) on at least 3 distinct days"),
    ("habit", "active on at least 3 distinct days of one calendar week"),
    ("collaboration", "page_shared, comment_added or member_invited"),
    ("monetization", "subscription_started"),
)


def product_tables(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    """Yield (table name, chunk) pairs for tenants, persons, person_distinct_ids,
    person_overrides and events, in that order (tenants and persons first). Chunks have
    the canonical Arrow types and at most `cfg.chunk_rows` rows; memory stays bounded at
    any scale because events are made block by block."""
    timeline = Timeline.of(cfg)
    people = [draw_people(cfg, timeline, block) for block in split_blocks(cfg)]
    # First pass: who pays (persons and tenants need it) and the event volume that does
    # not depend on feature use. The session plans are made again in the second pass
    # rather than kept, so memory grows with users, not with events.
    payers, fixed, weight = [], 0, 0.0
    for block_people in people:
        journeys = plan_journeys(cfg, timeline, block_people)
        payers.append(journeys.payer)
        fixed += journeys.fixed_events() + count_anonymous_views(block_people)
        weight += float(journeys.weight.sum(dtype=np.float64))
    scale = max(0.0, (cfg.events - fixed) / weight) if weight else 0.0
    firsts = np.cumsum([0] + [len(p.tenants.size) for p in people])[:-1].tolist()
    for p, payer, first in zip(people, payers, firsts, strict=True):
        yield from slice_chunks(cfg, "tenants", build_tenants(cfg, p, payer, first))
    for p, payer, first in zip(people, payers, firsts, strict=True):
        yield from slice_chunks(cfg, "persons", build_persons(cfg, p, payer, first))
    for p in people:
        yield from slice_chunks(cfg, "person_distinct_ids", build_distinct_ids(p, cfg.users))
    for p in people:
        yield from slice_chunks(cfg, "person_overrides", build_overrides(p, cfg.users))
    for p, first in zip(people, firsts, strict=True):
        journeys = plan_journeys(cfg, timeline, p)
        yield from slice_chunks(cfg, "events", block_events(cfg, p, journeys, scale, first))


def split_blocks(cfg: SynthConfig) -> list[Block]:
    """Blocks of users of a size fixed by the config's events per user (not by chunk_rows,
    so the data does not change with the chunk size)."""
    per_user = max(1, cfg.events // cfg.users)
    size = int(np.clip(EVENTS_PER_BLOCK // per_user, 2_000, 50_000))
    blocks, visitor_first = [], 0
    for index, first in enumerate(range(0, cfg.users, size)):
        users = min(size, cfg.users - first)
        visitors = round(users * VISITORS_PER_USER)
        blocks.append(Block(index, first, users, visitor_first, visitors))
        visitor_first += visitors
    return blocks


def count_anonymous_views(people: People) -> int:
    return len(people.awareness.ts) + len(people.visitors.views.ts)


def slice_chunks(cfg: SynthConfig, name: str, table: pa.Table) -> Iterator[tuple[str, pa.Table]]:
    for offset in range(0, table.num_rows, cfg.chunk_rows):
        yield name, table.slice(offset, cfg.chunk_rows)
