"""Journeys: each signed-up user's sessions after signup and what happens in each one.

A session is a burst of events on its own local day, at a waking hour, so consecutive
sessions are hours to days apart while events inside one are seconds to minutes apart.
How many sessions a user has and how far apart depends on the journey class drawn in
`people`: a habit means a few days a week for a while, then the visits thin out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sextant.synth.config import SynthConfig
from sextant.synth.people import ACTIVATED, ENGAGED, HABITUAL, People, traits_of
from sextant.synth.sampling import (
    JOURNEYS,
    choose,
    cumsum_within,
    rank_within,
    repeat_owners,
    stream,
)
from sextant.synth.timeline import DAY, HOUR, Timeline, draw_local_seconds, to_utc_us, weekday_of
from sextant.synth.vocab import APP_PATHS, APP_SECTIONS, WELCOME_PATH

# After its first sessions a user keeps coming back until a lifetime runs out (days, by
# class: signed up, activated, engaged, habitual; lognormal), at a typical gap; a habitual
# user's gaps start at HABIT_GAP days and grow by HABIT_FADE up to the typical one. Later
# cohorts live a little longer.
LIFETIME_MEDIAN = np.array([10.0, 15.0, 60.0, 120.0])
LIFETIME_SIGMA = 1.2
TAIL_GAP = np.array([25.0, 20.0, 18.0, 21.0])
TAIL_FLOOR = np.array([3, 3, 5, 1])
HABIT_GAP, HABIT_FADE = 3.0, 1.5
COHORT_GAIN = 0.35
TAIL_LIMIT = 400  # later sessions at most
FEATURE_SESSIONS = 4  # sessions with feature use that make an engaged user
PAGELEAVE = 0.3
WEEKEND_SKIP = 0.4  # optional sessions that fall on a weekend are skipped this often
DORMANT = 0.04  # chance that a later gap is a dormant spell of weeks to months
FEATURE_WEIGHT = np.array([0.3, 0.6, 1.0, 1.5], dtype=np.float32)  # by class
PAY_WEIGHT = np.array([0.0, 0.04, 0.3, 0.5], dtype=np.float64)  # by class; x2 collaborators
MAX_PAY = 0.95
MONTH = 30 * DAY
END_MARGIN = 4 * HOUR  # no session starts this close to the end of the range


@dataclass(frozen=True)
class Journeys:
    """The plan of a block's sessions; `activity` lays them out as events."""

    # One row per session, ordered by user, then time.
    user: np.ndarray
    start_us: np.ndarray
    first: np.ndarray  # the signup session
    act: np.ndarray  # holds the first page_created
    forced: np.ndarray  # feature events it must have
    weight: np.ndarray  # share of the free feature events
    flags: np.ndarray  # $feature_flag_called events
    collab: np.ndarray  # collaboration events
    sub: np.ndarray  # holds subscription_started
    leave: np.ndarray  # ends with $pageleave
    path: np.ndarray  # index into APP_PATHS
    # One row per user.
    payer: np.ndarray
    sub_us: np.ndarray  # start of the subscription session, else -1
    invoices: np.ndarray
    # One row per tenant.
    paid_us: np.ndarray  # when a member first paid, else int64 max

    def fixed_events(self) -> int:
        """Events whose number does not depend on the feature volume."""
        per_session = 1 + 2 * self.first + self.flags + self.act + self.collab + self.sub
        return int(per_session.sum() + self.leave.sum() + self.forced.sum() + self.invoices.sum())


def plan_journeys(cfg: SynthConfig, timeline: Timeline, people: People) -> Journeys:
    """Sessions of the block's users, who pays, and the planned events of each session."""
    rng = stream(cfg.seed, people.block.index, JOURNEYS)
    n_act, core, count = count_sessions(rng, people)
    user = repeat_owners(count)
    j = rank_within(count)
    start, optional = place_sessions(rng, people, user, j, n_act, core, count)
    keep = (j == 0) | ((start < timeline.end_us - END_MARGIN) & ~optional)
    user, j, start = user[keep], j[keep], start[keep]
    klass, act_idx = people.klass[user], n_act[user]
    eligible = (
        ((klass >= ENGAGED) & (j >= act_idx))
        | ((klass == ACTIVATED) & (j >= act_idx) & (j <= act_idx + 1))
        | ((klass < ACTIVATED) & (j == 0))
    )
    forced = (klass >= ENGAGED) & (j >= act_idx) & (j < act_idx + core[user])
    rows = len(user)
    weight = eligible * people.intensity[user] * FEATURE_WEIGHT[klass]
    weight = weight * rng.lognormal(0.0, 0.6, rows).astype(np.float32)
    rank = cumsum_within(eligible.astype(np.int64), np.bincount(user, minlength=people.size)) - 1
    n_eligible = np.bincount(user, weights=eligible, minlength=people.size)
    payer = draw_payers(rng, cfg, people, n_eligible)
    sub = eligible & payer[user] & (rank == pick_rank(rng, n_eligible, 6)[user])
    collab = draw_collaboration(rng, people, user, eligible, rank, n_eligible)
    repeats = 1 + rng.poisson(1.0, people.size)
    flags = people.exposed[user] & (j <= repeats[user])
    flags = flags.astype(np.int8) + (people.polluted[user] & (j == 0))
    path = np.where(j == 0, WELCOME_PATH, draw_app_paths(rng, rows))
    sub_us = np.full(people.size, -1, dtype=np.int64)
    sub_us[user[sub]] = start[sub]
    last_us = np.full(people.size, -1, dtype=np.int64)
    np.maximum.at(last_us, user, start)
    paid_us = np.full(len(people.tenants.size), np.iinfo(np.int64).max)
    np.minimum.at(paid_us, people.tenant[payer], sub_us[payer])
    return Journeys(
        user=user,
        start_us=start,
        first=j == 0,
        act=(klass >= ACTIVATED) & (j == act_idx),
        forced=forced.astype(np.int16),
        weight=weight.astype(np.float32),
        flags=flags.astype(np.int8),
        collab=collab,
        sub=sub,
        leave=rng.random(rows) < PAGELEAVE,
        path=path.astype(np.int16),
        payer=payer,
        sub_us=sub_us,
        invoices=count_invoices(timeline, payer, sub_us, last_us),
        paid_us=paid_us,
    )


def count_sessions(rng: np.random.Generator, people: People):
    """Sessions per user: signup session, a later activation session if any, the core
    sessions that make an engaged or habitual user, then as many later sessions as fit
    in the user's lifetime."""
    n, klass = people.size, people.klass
    n_act = ((klass >= ACTIVATED) & (people.act_delay > 0)).astype(np.int64)
    core = np.select([klass == HABITUAL, klass == ENGAGED], [FEATURE_SESSIONS] * 2, 0)
    gain = 1.0 + COHORT_GAIN * people.cohort
    lifetime = rng.lognormal(np.log(LIFETIME_MEDIAN[klass]), LIFETIME_SIGMA) * gain
    reach = np.cumsum(
        median_tail_gaps(np.arange(TAIL_LIMIT)[None, :], np.arange(4)[:, None]), axis=1
    )
    tail = np.empty(n, dtype=np.int64)
    for k in range(4):
        mine = klass == k
        tail[mine] = np.searchsorted(reach[k], lifetime[mine], side="right")
    return n_act, core, 1 + n_act + core + tail


def median_tail_gaps(position: np.ndarray, klass: np.ndarray) -> np.ndarray:
    """Median gap (days) before the later session at `position` (0 = first later one)."""
    ramp = HABIT_GAP * HABIT_FADE ** np.minimum(position, 30)
    return np.where(klass == HABITUAL, np.minimum(ramp, TAIL_GAP[klass]), TAIL_GAP[klass])


def place_sessions(rng, people, user, j, n_act, core, count):
    """Start of each session and whether it is an optional one (skippable on weekends).

    Gaps are whole days between local days: the activation delay, then a day or two
    (habit) or five and more (engaged only) for the core sessions, then the later gaps,
    with now and then a dormant spell of weeks to months."""
    klass = people.klass[user]
    act_end = n_act[user]
    core_end = act_end + core[user]
    rows = len(user)
    core_gap = np.where(
        klass == HABITUAL, 1 + (rng.random(rows) < 0.3), 4 + rng.geometric(0.35, rows)
    )
    median = median_tail_gaps(np.maximum(j - core_end - 1, 0), klass)
    tail_gap = TAIL_FLOOR[klass] + np.rint(rng.lognormal(np.log(median), 0.7))
    tail_gap += (rng.random(rows) < DORMANT) * np.rint(rng.lognormal(np.log(60), 0.5, rows))
    gap = np.select(
        [j == 0, j <= act_end, j <= core_end],
        [0, people.act_delay[user], core_gap],
        tail_gap,
    ).astype(np.int64)
    day = people.local_day[user] + cumsum_within(gap, count)
    start = to_utc_us(day, draw_local_seconds(rng, rows), people.offset_s[user])
    start = np.where(j == 0, people.signup_us[user], start)
    weekend = weekday_of(day) >= 5
    optional = (j > core_end) & weekend & (rng.random(rows) < WEEKEND_SKIP)
    return start, optional


def draw_payers(
    rng: np.random.Generator, cfg: SynthConfig, people: People, n_eligible: np.ndarray
) -> np.ndarray:
    """Who starts a paid plan: mostly habitual collaborators in team segments, scaled so
    that `cfg.paid_conversion` of the block's users pay."""
    segment_pay = np.array([traits_of(s).pay for s in cfg.segments])[people.segment]
    weight = PAY_WEIGHT[people.klass] * (1 + people.collaborator) * segment_pay
    weight = np.where(n_eligible > 0, weight, 0.0)
    target = cfg.paid_conversion * people.size
    lo, hi = 0.0, 1.0
    while np.minimum(MAX_PAY, hi * weight).sum() < target and hi < 1e6:
        hi *= 2
    for _ in range(50):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if np.minimum(MAX_PAY, mid * weight).sum() < target else (lo, mid)
    return rng.random(people.size) < np.minimum(MAX_PAY, hi * weight)


def draw_collaboration(rng, people, user, eligible, rank, n_eligible) -> np.ndarray:
    """Collaboration events: one in an early session for every collaborator, more now and
    then, most in team segments."""
    collaborator = people.collaborator[user] & eligible
    first = collaborator & (rank == pick_rank(rng, n_eligible, 4)[user])
    team = people.tenants.owner[people.tenant[user]] < 0
    extra = rng.poisson(np.where(collaborator, 0.15 + 0.2 * team, 0.0))
    return (first + extra).astype(np.int16)


def pick_rank(rng: np.random.Generator, n: np.ndarray, within: int) -> np.ndarray:
    """A random rank among each user's first `within` eligible sessions."""
    return np.floor(rng.random(len(n)) * np.minimum(n, within)).astype(np.int64)


def draw_app_paths(rng: np.random.Generator, n: int) -> np.ndarray:
    """Where a session opens: the app home, a section or one of the user's pages."""
    kind = choose(rng, np.array([0.4, 0.15, 0.45]), n)
    section = rng.integers(2, len(APP_SECTIONS), n)
    page = rng.integers(len(APP_SECTIONS), len(APP_PATHS), n)
    return np.select([kind == 0, kind == 1], [0, section], page)


def count_invoices(timeline, payer, sub_us, last_us) -> np.ndarray:
    """Monthly invoices after the subscription while the user stays active (plus the month
    they were last seen), up to the end of the range."""
    until = np.minimum(last_us + MONTH, timeline.end_us - 1)
    return np.where(payer, np.maximum(0, (until - sub_us) // MONTH), 0).astype(np.int32)
