"""How numbers read on a page: by unit (persons, ratios, seconds, money), changes against the
previous period, and the words screen readers get for an empty value.
"""

from __future__ import annotations

from typing import Any

NO_VALUE = "–"


def number(value: Any, unit: str | None = None) -> str:
    """A value as a page shows it.

    >>> number(12345, "persons"), number(0.1234, "ratio"), number(3725.4, "seconds")
    ('12,345', '12.3%', '1h 02m')
    >>> number(65.2, "seconds"), number(4.25, "seconds"), number(1234.5, "currency")
    ('1m 05s', '4.2 s', '1,234.50')
    >>> number(None), number(2.5), number("free")
    ('–', '2.5', 'free')
    """
    if value is None:
        return NO_VALUE
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "seconds":
        return duration(value)
    if unit == "currency":
        return f"{value:,.2f}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"


def duration(seconds: float) -> str:
    """Seconds as people read them.

    >>> duration(0), duration(59.96), duration(61), duration(86400 * 2 + 7200)
    ('0 s', '1m 00s', '1m 01s', '2d 02h')
    """
    if seconds < 59.95:
        return f"{seconds:.1f} s" if seconds % 1 else f"{seconds:.0f} s"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


def change(current: Any, previous: Any, unit: str | None) -> dict[str, Any] | None:
    """The change against the previous period: relative for counts, percentage points for
    ratios; None when either side is missing or the previous value is zero.

    >>> change(110, 100, "persons")["text"], change(0.25, 0.2, "ratio")["text"]
    ('+10.0%', '+5.0 pp')
    >>> change(90, 100, "persons")["direction"], change(5, 0, "persons")
    ('down', None)
    """
    if not isinstance(current, int | float) or not isinstance(previous, int | float):
        return None
    if unit == "ratio":
        delta = (current - previous) * 100
        text = f"{delta:+.1f} pp"
    else:
        if previous == 0:
            return None
        delta = (current - previous) / abs(previous) * 100
        text = f"{delta:+.1f}%"
    direction = "up" if delta > 0.05 else "down" if delta < -0.05 else "flat"
    return {"text": text, "direction": direction, "previous": number(previous, unit)}
