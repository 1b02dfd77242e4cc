"""Anonymous marketing visits: the page views before a user signs up and the visitors
who never do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sextant.synth.config import COUNTRIES, DEVICES, SynthConfig
from sextant.synth.sampling import (
    choose,
    choose_by_group,
    cumsum_within,
    normalise,
    rank_within,
    repeat_owners,
)
from sextant.synth.timeline import (
    HOUR,
    SECOND,
    Timeline,
    draw_local_seconds,
    lookup_utc_offsets,
    place_in_range,
)
from sextant.synth.vocab import LANDING, SIGNUP_PATH

AWARENESS_VIEWS = (0.55, 0.28, 0.11, 0.06)  # 1..4 page views before signup
VISITOR_VIEWS = (0.65, 0.25, 0.1)  # 1..3 page views of a visitor who never signs up


@dataclass(frozen=True)
class Pageviews:
    """Anonymous page views; `owner` is a user or a visitor of the block."""

    owner: np.ndarray
    ts: np.ndarray
    path: np.ndarray
    early: np.ndarray  # in a session before the signup session


@dataclass(frozen=True)
class Visitors:
    channel: np.ndarray
    country: np.ndarray
    device: np.ndarray
    sdk: np.ndarray
    first_us: np.ndarray
    views: Pageviews


def draw_awareness(
    rng: np.random.Generator,
    timeline: Timeline,
    signup_us: np.ndarray,
    channel: np.ndarray,
    channel_names: list[str],
) -> Pageviews:
    """1-4 marketing page views before signup, the last on /signup seconds before it; the
    others just before it or in an earlier visit hours to days before."""
    n = len(signup_us)
    others = choose(rng, np.array(AWARENESS_VIEWS), n).astype(np.int64)
    last_gap = rng.integers(5, 90, n) * SECOND
    owner = repeat_owners(others)
    gap = (np.clip(rng.lognormal(np.log(60), 0.8, len(owner)), 10, 600) * SECOND).astype(np.int64)
    total = np.zeros(n, dtype=np.int64)
    np.add.at(total, owner, gap)
    lead = 2 * HOUR + total + (np.minimum(rng.lognormal(np.log(30), 1.0, n), 500) * HOUR)
    early = (others > 0) & (rng.random(n) < 0.45) & (signup_us - lead >= timeline.start_us)
    base = np.where(early, signup_us - lead.astype(np.int64), signup_us - last_gap - total)
    ts = base[owner] + cumsum_within(gap, others) - gap
    first = rank_within(others) == 0
    return Pageviews(
        owner=np.concatenate([owner, np.arange(n, dtype=np.int32)]),
        ts=np.concatenate([ts, signup_us - last_gap]),
        path=np.concatenate(
            [draw_paths(rng, channel[owner], first, channel_names), np.full(n, SIGNUP_PATH)]
        ).astype(np.int16),
        early=np.concatenate([early[owner], np.zeros(n, dtype=bool)]),
    )


def draw_paths(
    rng: np.random.Generator, channel: np.ndarray, landing: np.ndarray, channel_names: list[str]
) -> np.ndarray:
    """Marketing paths: the first of a visit by channel, later ones anywhere but /signup."""
    table = np.zeros((len(channel_names), SIGNUP_PATH))
    for c, name in enumerate(channel_names):
        table[c, list(LANDING.get(name, (0,)))] = 1.0
    landed = choose_by_group(rng, table, channel)
    browsed = rng.integers(0, SIGNUP_PATH, len(channel))
    return np.where(landing, landed, browsed)


def draw_visitors(
    rng: np.random.Generator, cfg: SynthConfig, timeline: Timeline, count: int
) -> Visitors:
    """Anonymous visitors who never sign up: one visit of 1-3 marketing page views."""
    channel = choose(rng, normalise(cfg.channels), count)
    country = choose(rng, normalise(COUNTRIES), count)
    day = timeline.draw_days(rng, count)
    _, first_us = place_in_range(
        day,
        draw_local_seconds(rng, count),
        lookup_utc_offsets(country),
        timeline.start_us,
        timeline.end_us - HOUR,
    )
    views = 1 + choose(rng, np.array(VISITOR_VIEWS), count).astype(np.int64)
    owner = repeat_owners(views)
    gap = (np.clip(rng.lognormal(np.log(45), 0.8, len(owner)), 5, 600) * SECOND).astype(np.int64)
    ts = first_us[owner] + cumsum_within(gap, views) - gap
    first = rank_within(views) == 0
    return Visitors(
        channel=channel,
        country=country,
        device=choose(rng, normalise(DEVICES), count),
        sdk=rng.random(count) < 0.5,
        first_us=first_us,
        views=Pageviews(
            owner=owner,
            ts=ts,
            path=draw_paths(rng, channel[owner], first, list(cfg.channels)).astype(np.int16),
            early=np.zeros(len(owner), dtype=bool),
        ),
    )
