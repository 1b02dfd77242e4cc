"""Synthetic people: signed-up users, the workspaces (tenants) they share and what each is
destined to do, with their anonymous visits. Drawn per block of users from the block's own
random stream, so no block depends on another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa

from sextant.synth.config import COUNTRIES, DEVICES, SynthConfig
from sextant.synth.ids import hash_ids, make_uuids
from sextant.synth.sampling import (
    PEOPLE,
    choose,
    choose_by_group,
    normalise,
    rank_within,
    repeat_owners,
    stream,
)
from sextant.synth.timeline import (
    DAY,
    HOUR,
    Timeline,
    draw_local_seconds,
    lookup_utc_offsets,
    place_in_range,
)
from sextant.synth.visits import Pageviews, Visitors, draw_awareness, draw_visitors
from sextant.synth.vocab import FIRST_NAMES, LAST_NAMES, ROLE_MIX


@dataclass(frozen=True)
class Traits:
    """How a segment behaves; probabilities unless said otherwise."""

    activation: float
    engagement: float  # given activation
    collaboration: float  # given a habit
    pay: float  # relative odds of paying
    workspace: float  # relative workspace size; 0 means a workspace of one's own
    tiers: tuple[float, float, float]  # plus, business, enterprise once paying


TRAITS = {
    "individual": Traits(0.56, 0.40, 0.50, 1.0, 0.0, (1.0, 0.0, 0.0)),
    "small_team": Traits(0.66, 0.50, 0.90, 2.5, 0.75, (0.3, 0.7, 0.0)),
    "enterprise": Traits(0.70, 0.52, 0.92, 6.0, 3.0, (0.0, 0.35, 0.65)),
    "education": Traits(0.58, 0.42, 0.75, 0.8, 1.25, (0.75, 0.25, 0.0)),
}
HABIT = 0.75  # engaged users who come back several days a week
IMMEDIATE_ACTIVATION = 0.65  # activators who create their first page in the signup session
VISITORS_PER_USER = 0.3  # anonymous visitors who never sign up
BOTH_VARIANTS = 0.005  # exposed persons who also see the other variant
SAME_COUNTRY = 0.8  # team members in their workspace's country

# Journey classes: how far a user is destined to go.
SIGNED_UP, ACTIVATED, ENGAGED, HABITUAL = 0, 1, 2, 3


def traits_of(segment: str) -> Traits:
    return TRAITS.get(segment, TRAITS["individual"])


@dataclass(frozen=True)
class Block:
    index: int
    first: int  # global index of the block's first user
    size: int
    visitor_first: int  # global index of its first anonymous-only visitor
    visitors: int


@dataclass(frozen=True)
class Tenants:
    segment: np.ndarray
    size: np.ndarray
    country: np.ndarray
    tier: np.ndarray  # 1..3: the plan (PLANS index) once a member pays
    owner: np.ndarray  # the member of a personal workspace, else -1
    name_parts: np.ndarray  # (T, 3): adjective, noun, suffix
    created_us: np.ndarray


@dataclass(frozen=True)
class People:
    block: Block
    segment: np.ndarray
    channel: np.ndarray
    country: np.ndarray
    device: np.ndarray
    sdk: np.ndarray  # sends $session_id
    local_day: np.ndarray
    offset_s: np.ndarray
    signup_us: np.ndarray
    cohort: np.ndarray  # 0..1: how late in the range the user signed up
    tenant: np.ndarray
    klass: np.ndarray
    act_delay: np.ndarray  # days from signup to activation; 0 = signup session; -1 = never
    collaborator: np.ndarray
    intensity: np.ndarray  # mean 1; scales feature use
    exposed: np.ndarray
    variant: np.ndarray  # 0 control, 1 test
    polluted: np.ndarray  # also sees the other variant
    first_name: np.ndarray
    last_name: np.ndarray
    role: np.ndarray
    first_seen_us: np.ndarray
    anon_ids: pa.StringArray  # the users' anonymous ids, then the visitors'
    tenants: Tenants
    awareness: Pageviews
    visitors: Visitors

    @property
    def size(self) -> int:
        return self.block.size

    @property
    def pid(self) -> np.ndarray:
        return np.arange(self.block.first + 1, self.block.first + 1 + self.size, dtype=np.int64)


def draw_people(cfg: SynthConfig, timeline: Timeline, block: Block) -> People:
    """The block's users with their workspaces and destinies, and its anonymous visitors."""
    rng = stream(cfg.seed, block.index, PEOPLE)
    n = block.size
    segment_names = list(cfg.segments)
    segment = choose(rng, normalise(cfg.segments), n)
    channel = choose(rng, normalise(cfg.channels), n)
    device = choose(rng, normalise(DEVICES), n)
    sdk = rng.random(n) < 0.5
    local_day = timeline.draw_days(rng, n)
    tenant, tenants = draw_tenants(rng, cfg, segment, segment_names)
    inherit = (tenants.owner[tenant] >= 0) | (rng.random(n) < SAME_COUNTRY)
    country = np.where(inherit, tenants.country[tenant], choose(rng, normalise(COUNTRIES), n))
    offset_s = lookup_utc_offsets(country)
    local_day, signup_us = place_in_range(
        local_day,
        draw_local_seconds(rng, n),
        offset_s,
        timeline.start_us + HOUR,
        timeline.end_us - 3 * HOUR,
    )
    created = np.full(len(tenants.size), np.iinfo(np.int64).max)
    np.minimum.at(created, tenant, signup_us)
    pid = np.arange(block.first + 1, block.first + 1 + n, dtype=np.int64)
    exposure = draw_exposure(cfg, timeline, pid, signup_us)
    destiny = draw_destiny(rng, cfg, segment, segment_names, *exposure[:2])
    awareness = draw_awareness(rng, timeline, signup_us, channel, list(cfg.channels))
    first_seen = signup_us.copy()
    np.minimum.at(first_seen, awareness.owner, awareness.ts)
    role_mix = np.array([ROLE_MIX.get(s, ROLE_MIX["individual"]) for s in segment_names])
    return People(
        block=block,
        segment=segment,
        channel=channel,
        country=country,
        device=device,
        sdk=sdk,
        local_day=local_day,
        offset_s=offset_s,
        signup_us=signup_us,
        cohort=timeline.position(local_day),
        tenant=tenant,
        **destiny,
        exposed=exposure[0],
        variant=exposure[1],
        polluted=exposure[2],
        first_name=rng.integers(0, len(FIRST_NAMES), n).astype(np.int16),
        last_name=rng.integers(0, len(LAST_NAMES), n).astype(np.int16),
        role=choose_by_group(rng, role_mix, segment),
        first_seen_us=first_seen,
        anon_ids=make_uuids(rng, n + block.visitors, prefix="anon_"),
        tenants=replace(tenants, created_us=created),
        awareness=awareness,
        visitors=draw_visitors(rng, cfg, timeline, block.visitors),
    )


def draw_tenants(
    rng: np.random.Generator, cfg: SynthConfig, segment: np.ndarray, names: list[str]
) -> tuple[np.ndarray, Tenants]:
    """Workspaces: one of their own for individuals, shared ones for teams; the shared ones
    average `cfg.users_per_tenant` members, enterprise ones the largest."""
    weight, ratio = normalise(cfg.segments), np.array([traits_of(s).workspace for s in names])
    shared = ratio > 0
    scale = 0.0
    if shared.any():  # sizes proportional to `ratio` with the configured mean overall
        scale = cfg.users_per_tenant * (weight[shared] / ratio[shared]).sum() / weight[shared].sum()
    tenant_of = np.empty(len(segment), dtype=np.int32)
    sizes, segments, owners_ = [], [], []
    for s in range(len(names)):
        members = np.flatnonzero(segment == s)
        if shared[s] and scale * ratio[s] > 1:
            members = rng.permutation(members)
            size = draw_sizes(rng, len(members), scale * ratio[s])
            owner = np.full(len(size), -1, dtype=np.int32)
        else:
            size = np.ones(len(members), dtype=np.int64)
            owner = members.astype(np.int32)
        tenant_of[members] = sum(len(x) for x in sizes) + repeat_owners(size)
        sizes.append(size)
        segments.append(np.full(len(size), s, dtype=np.int16))
        owners_.append(owner)
    size = np.concatenate(sizes)
    segment_of = np.concatenate(segments)
    tiers = np.array([traits_of(s).tiers for s in names])
    count = len(size)
    parts = rng.integers(0, 1 << 16, (count, 3), dtype=np.int32)
    return tenant_of, Tenants(
        segment=segment_of,
        size=size,
        country=choose(rng, normalise(COUNTRIES), count),
        tier=1 + choose_by_group(rng, tiers, segment_of),
        owner=np.concatenate(owners_),
        name_parts=parts,
        created_us=np.empty(0, dtype=np.int64),
    )


def draw_sizes(rng: np.random.Generator, members: int, mean: float) -> np.ndarray:
    """Workspace sizes (at least one) adding up to `members`."""
    size = rng.geometric(1.0 / mean, int(members / mean * 1.5) + 16)
    while size.sum() < members:
        size = np.concatenate([size, rng.geometric(1.0 / mean, len(size))])
    total = np.cumsum(size)
    count = int(np.searchsorted(total, members)) + 1
    size = size[:count].copy()
    size[-1] -= total[count - 1] - members
    return size[size > 0]


def draw_exposure(
    cfg: SynthConfig, timeline: Timeline, pid: np.ndarray, signup_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who sees the experiment (half of those signing up while it runs) and which variant,
    by a hash of the person as feature flags do."""
    h = hash_ids(pid, cfg.seed)
    exposed = (signup_us >= timeline.experiment_day * DAY) & ((h & 1) == 0)
    variant = ((h >> 1) & 1).astype(np.int8)
    polluted = exposed & ((h >> 8) % 1000 < BOTH_VARIANTS * 1000)
    return exposed, variant, polluted


def draw_destiny(
    rng: np.random.Generator,
    cfg: SynthConfig,
    segment: np.ndarray,
    names: list[str],
    exposed: np.ndarray,
    variant: np.ndarray,
) -> dict[str, np.ndarray]:
    """How far each user goes: activation (lifted in the test variant), engagement, habit."""
    n = len(segment)
    table = np.array([[traits_of(s).activation, traits_of(s).engagement] for s in names])
    lift = 1.0 + cfg.experiment_lift * (exposed & (variant == 1))
    rate = np.minimum(0.97, table[segment, 0] * lift)
    activated = rng.random(n) < rate
    activated[exposed] = draw_exact_share(
        rng, rate[exposed], segment[exposed] * 2 + variant[exposed]
    )
    engaged = activated & (rng.random(n) < table[segment, 1])
    habitual = engaged & (rng.random(n) < HABIT)
    klass = (activated.astype(np.int8) + engaged + habitual).astype(np.int8)
    collab = np.array([traits_of(s).collaboration for s in names])[segment]
    collab = collab * np.array([0.0, 0.12, 0.5, 1.0])[klass]
    later = np.clip(np.rint(rng.lognormal(np.log(1.5), 0.9, n)), 1, 30)
    delay = np.where(rng.random(n) < IMMEDIATE_ACTIVATION, 0, later)
    intensity = rng.lognormal(0.0, 0.9, n) / np.exp(0.9**2 / 2)
    return {
        "klass": klass,
        "act_delay": np.where(activated, delay, -1).astype(np.int16),
        "collaborator": rng.random(n) < collab,
        "intensity": intensity.astype(np.float32),
    }


def draw_exact_share(rng: np.random.Generator, rate: np.ndarray, group: np.ndarray):
    """True for a random `rate` share of each group, rounded: the experiment's arms then
    differ by the planted effect, not by the luck of a few hundred coin flips."""
    order = np.lexsort((rng.random(len(group)), group))
    counts = np.bincount(group, minlength=int(group.max(initial=0)) + 1)
    quota = np.rint(np.bincount(group, weights=rate, minlength=len(counts)))
    chosen = np.zeros(len(group), dtype=bool)
    chosen[order] = rank_within(counts) < np.repeat(quota, counts)
    return chosen
