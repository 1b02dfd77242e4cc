"""Vectorised draws for the generator: random streams, categorical choices (per group too),
and positions and running sums inside ragged groups (rows owned by users, sessions, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

PEOPLE, JOURNEYS, EVENTS = 0, 1, 2  # the independent random streams of one block


def stream(seed: int, block: int, purpose: int) -> np.random.Generator:
    """A generator for one block and purpose: blocks can be drawn in any order."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(block, purpose)))


def normalise(weights: Mapping[str, float] | Sequence[float]) -> np.ndarray:
    """Weights normalised to sum to one.

    >>> normalise([1, 3]).tolist()
    [0.25, 0.75]
    """
    values = np.asarray(list(weights.values()) if isinstance(weights, Mapping) else weights)
    return values.astype(np.float64) / values.sum()


def choose(rng: np.random.Generator, probs: np.ndarray, size: int) -> np.ndarray:
    """`size` draws of an index with probabilities `probs`."""
    cdf = np.cumsum(probs, dtype=np.float64)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int16)


def choose_by_group(rng: np.random.Generator, table: np.ndarray, group: np.ndarray):
    """One draw per row from the distribution `table[group[row]]` (rows of `table` sum to any
    positive number): the groups' cdfs are laid end to end so one search serves them all."""
    k = table.shape[1]
    cdf = np.cumsum(table, axis=1)
    cdf = cdf / cdf[:, -1:]
    flat = (np.arange(table.shape[0])[:, None] + cdf).ravel()
    keys = group + rng.random(len(group))
    found = np.searchsorted(flat, keys, side="right")
    return np.minimum(found - group * k, k - 1).astype(np.int16)


def find_starts(counts: np.ndarray) -> np.ndarray:
    """Where each group begins in the flattened rows.

    >>> find_starts(np.array([2, 0, 3])).tolist()
    [0, 2, 2]
    """
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def repeat_owners(counts: np.ndarray) -> np.ndarray:
    """The group of each row.

    >>> repeat_owners(np.array([2, 0, 1])).tolist()
    [0, 0, 2]
    """
    return np.repeat(np.arange(len(counts), dtype=np.int32), counts)


def rank_within(counts: np.ndarray) -> np.ndarray:
    """Each row's position inside its group.

    >>> rank_within(np.array([2, 0, 3])).tolist()
    [0, 1, 0, 1, 2]
    """
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(find_starts(counts), counts)


def cumsum_within(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each group (inclusive).

    >>> cumsum_within(np.array([1, 2, 3, 4]), np.array([2, 2])).tolist()
    [1, 3, 3, 7]
    """
    running = np.cumsum(values)
    before = np.concatenate(([0], running))[find_starts(counts)]
    return running - np.repeat(before, counts)
