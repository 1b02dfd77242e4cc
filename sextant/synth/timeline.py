"""Time in the synthetic product: the date range, growth with a weekly rhythm, local hours.

Instants are int64 microseconds since the Unix epoch (UTC); days are day numbers since the
epoch, in the person's local time where it says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from sextant.synth.config import COUNTRIES, SynthConfig
from sextant.synth.sampling import choose

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR
DAY_SECONDS = 86_400

GROWTH = 3.0  # signups per day at the end of the range over those at its start
WEEKEND = 0.6  # weekend days get this share of a weekday's signups
EXPERIMENT_DAYS = 182  # the experiment runs over the last six months

# People act between 06:00 and 23:00 local time, most around office hours.
HOUR_WEIGHTS = np.array(
    [0, 0, 0, 0, 0, 0, 1, 2, 4, 6, 7, 7, 6, 6, 7, 7, 6, 5, 4, 3, 3, 3, 2, 0], dtype=np.float64
)
UTC_OFFSET_HOURS = {
    "US": -5.0,
    "GB": 0.0,
    "DE": 1.0,
    "FR": 1.0,
    "IN": 5.5,
    "BR": -3.0,
    "CA": -5.0,
    "JP": 9.0,
    "ES": 1.0,
    "AU": 10.0,
    "NL": 1.0,
    "MX": -6.0,
}


def to_day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days


def weekday_of(day: np.ndarray) -> np.ndarray:
    """Monday = 0 for day numbers (1970-01-01 was a Thursday).

    >>> weekday_of(np.array([0, 4])).tolist()
    [3, 0]
    """
    return (day + 3) % 7


@dataclass(frozen=True)
class Timeline:
    start_day: int
    end_day: int  # inclusive
    experiment_day: int  # first day of the experiment

    @classmethod
    def of(cls, cfg: SynthConfig) -> Timeline:
        start, end = to_day_number(cfg.start), to_day_number(cfg.end)
        experiment = to_day_number(cfg.end - timedelta(days=EXPERIMENT_DAYS - 1))
        return cls(start, end, max(start, experiment))

    @property
    def start_us(self) -> int:
        return self.start_day * DAY

    @property
    def end_us(self) -> int:
        """The first instant after the range."""
        return (self.end_day + 1) * DAY

    @property
    def days(self) -> int:
        return self.end_day - self.start_day + 1

    def draw_days(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Days with growing traffic and quieter weekends."""
        day = np.arange(self.start_day, self.end_day + 1)
        share = (day - self.start_day) / max(1, self.days - 1)
        weight = GROWTH**share * np.where(weekday_of(day) >= 5, WEEKEND, 1.0)
        return day[choose(rng, weight, n).astype(np.int64)]

    def position(self, day: np.ndarray) -> np.ndarray:
        """How far into the range each day lies, from 0 to 1."""
        return ((day - self.start_day) / max(1, self.days - 1)).astype(np.float32)


def draw_local_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the local day, in waking hours."""
    hour = choose(rng, HOUR_WEIGHTS, n).astype(np.int64)
    return hour * 3600 + rng.integers(0, 3600, n)


def to_utc_us(day: np.ndarray, local_seconds: np.ndarray, offset_seconds: np.ndarray) -> np.ndarray:
    """The UTC instant of a local day and time in a zone `offset_seconds` east of UTC."""
    return (day * DAY_SECONDS + local_seconds - offset_seconds).astype(np.int64) * SECOND


def place_in_range(
    day: np.ndarray, seconds: np.ndarray, offset_seconds: np.ndarray, lo_us: int, hi_us: int
) -> tuple[np.ndarray, np.ndarray]:
    """Local days and UTC instants, moving by a day whatever the time zone pushed outside
    [lo_us, hi_us] (clamping only what a range too short for that leaves outside), so no
    instants pile up on the boundary."""
    at = to_utc_us(day, seconds, offset_seconds)
    day = day + (at < lo_us) - (at > hi_us)
    return day, np.clip(to_utc_us(day, seconds, offset_seconds), lo_us, hi_us)


def lookup_utc_offsets(country: np.ndarray) -> np.ndarray:
    """Seconds east of UTC for each country code index."""
    hours = np.array([UTC_OFFSET_HOURS.get(c, 0.0) for c in COUNTRIES])
    return (hours * 3600).astype(np.int64)[country]
