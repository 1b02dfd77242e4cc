"""When things happen: the local daily curve, weekdays, months, Black Friday weekend and
growth, turned into orders per shop and day; log-normal delays; drawing from per-group
weights."""

from __future__ import annotations

from datetime import date

import numpy as np

from sextant.synth.columns import US_PER_SECOND
from sextant.synth.config import SynthConfig

# relative orders by local hour: quiet at night, a lunch bump, an evening peak
NIGHT_AND_MORNING = [3, 2, 1.5, 1, 1, 1.5, 3, 5.5, 8, 10, 10.5, 11]
AFTERNOON_AND_EVENING = [11.5, 11, 10.5, 10.5, 11, 12, 14, 16, 17.5, 16, 12, 7]
LOCAL_HOURS = np.array(NIGHT_AND_MORNING + AFTERNOON_AND_EVENING)
WEEKDAYS = np.array([0.96, 0.94, 0.97, 0.98, 1.03, 1.05, 1.07])  # Monday first
MONTHS = np.array([0.85, 0.85, 0.95, 0.95, 1.0, 0.95, 0.92, 0.95, 0.98, 1.02, 1.25, 1.45])
GROWTH_PER_YEAR = 0.30
PEAKS = {1: 2.6, 2: 1.8, 3: 1.6, 4: 2.2}  # days after Thanksgiving: Black Friday .. Cyber Monday
AFTER_CHRISTMAS_CUTOFF = 0.7  # from 24 December, parcels no longer arrive in time


def dates_of(cfg: SynthConfig) -> np.ndarray:
    return np.arange(np.datetime64(cfg.start), np.datetime64(cfg.end) + 1, dtype="datetime64[D]")


def day_multipliers(start: date, end: date) -> np.ndarray:
    """Relative order volume per day, with mean 1.

    >>> m = day_multipliers(date(2024, 11, 1), date(2024, 12, 31))
    >>> int(np.argmax(m)) + 1  # Black Friday, 29 November 2024
    29
    """
    dates = np.arange(np.datetime64(start), np.datetime64(end) + 1, dtype="datetime64[D]")
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    month = dates.astype("datetime64[M]").astype(np.int64) % 12
    day_of_month = (dates - dates.astype("datetime64[M]")).astype(np.int64) + 1
    years = (dates - dates[0]).astype(np.int64) / 365.25
    mult = WEEKDAYS[weekday] * MONTHS[month] * (1 + GROWTH_PER_YEAR) ** years
    for year in range(start.year, end.year + 1):
        november = np.datetime64(f"{year}-11-01")
        thanksgiving = november + (3 - (november.astype(np.int64) + 3) % 7) % 7 + 21
        for after, peak in PEAKS.items():
            mult[dates == thanksgiving + after] *= peak
    mult[(month == 11) & (day_of_month >= 24)] *= AFTER_CHRISTMAS_CUTOFF
    return mult / mult.mean()


def daily_counts(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """Orders per shop (rows) and day (columns): shops differ in size, mean orders_per_day."""
    scale = np.linspace(1.2, 0.8, cfg.shops) if cfg.shops > 1 else np.ones(1)
    mean = cfg.orders_per_day * scale[:, None] * day_multipliers(cfg.start, cfg.end)[None, :]
    return rng.poisson(mean)


def utc_hour_weights(utc_offsets: np.ndarray) -> np.ndarray:
    """The local daily curve of each shop (rows), re-indexed by UTC hour."""
    return LOCAL_HOURS[(np.arange(24)[None, :] + utc_offsets[:, None]) % 24]


def month_blocks(cfg: SynthConfig) -> list[tuple[int, int]]:
    """[first, end) day indexes of each calendar month in the period."""
    months = dates_of(cfg).astype("datetime64[M]")
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    return list(zip(starts.tolist(), np.r_[starts[1:], len(months)].tolist(), strict=True))


def stacked_cdf(group: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Cumulative weights of each contiguous group g, spanning (g, g + 1], for `draw`."""
    cdf = np.empty(len(group))
    for g in np.unique(group):
        idx = np.flatnonzero(group == g)
        c = np.cumsum(weight[idx]) / weight[idx].sum()
        c[-1] = 1.0
        cdf[idx] = g + c
    return cdf


def draw(cdf: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row, drawn from the weights of the row's group in `stacked_cdf`.

    >>> cdf = stacked_cdf(np.array([0, 0, 1, 1]), np.array([1.0, 0.0, 0.0, 1.0]))
    >>> draw(cdf, np.array([0, 1, 0]), np.random.default_rng(0)).tolist()
    [0, 3, 0]
    """
    return np.searchsorted(cdf, group + rng.random(len(group)), side="right")


def delay_us(
    rng: np.random.Generator, median_hours: float | np.ndarray, sigma: float, n: int | None = None
) -> np.ndarray:
    """Log-normal delays around `median_hours`, in whole seconds (at least a minute), as
    microseconds."""
    seconds = np.exp(rng.normal(np.log(np.asarray(median_hours) * 3_600), sigma, n))
    return np.maximum(seconds.astype(np.int64), 60) * US_PER_SECOND
