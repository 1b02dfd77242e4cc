"""Adjusted p-values for many comparisons at once (A/B/n, several metrics): Holm-Bonferroni
(family-wise error) and Benjamini-Hochberg (false discovery rate), as GrowthBook applies them.
A None p-value (no test possible) stays None and does not count as a comparison.
"""

from __future__ import annotations

from collections.abc import Sequence


def _ranked(p_values: Sequence[float | None]) -> list[tuple[int, float]]:
    return sorted(((i, p) for i, p in enumerate(p_values) if p is not None), key=lambda x: x[1])


def holm_bonferroni(p_values: Sequence[float | None]) -> tuple[float | None, ...]:
    """Holm's step-down adjustment: the k-th smallest of m p-values times (m - k + 1),
    never below an earlier one, capped at 1.

    >>> holm_bonferroni([0.01, 0.04, None, 0.03])
    (0.03, 0.06, None, 0.06)
    """
    ranked = _ranked(p_values)
    m = len(ranked)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for k, (i, p) in enumerate(ranked):
        running = max(running, min(1.0, (m - k) * p))
        out[i] = running
    return tuple(out)


def benjamini_hochberg(p_values: Sequence[float | None]) -> tuple[float | None, ...]:
    """Benjamini-Hochberg: the k-th smallest of m p-values times m / k, never above a
    later one, capped at 1.

    >>> benjamini_hochberg([0.01, 0.04, None, 0.03])
    (0.03, 0.04, None, 0.04)
    """
    ranked = _ranked(p_values)
    m = len(ranked)
    out: list[float | None] = [None] * len(p_values)
    running = 1.0
    for k in range(m - 1, -1, -1):
        i, p = ranked[k]
        running = min(running, p * m / (k + 1))
        out[i] = running
    return tuple(out)
