"""The CSV behind every chart's "Download CSV": exactly what is shown, capped at 100K rows,
with PII columns left out and cells a spreadsheet would run as formulas neutralised.
"""

from __future__ import annotations

import csv
import io
import json
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from itertools import islice
from typing import Any

import numpy as np

from sextant.store.schema import TABLES

MAX_EXPORT_ROWS = 100_000
LIMIT_MESSAGE = "Export limited to 100K rows"

# Person properties that identify someone, plus every column the schema flags as PII.
PII_NAMES: frozenset[str] = frozenset(
    {"email", "name", "first_name", "last_name", "phone", "ip", "address"}
    | {c.name.lower() for t in TABLES.values() for c in t.columns if c.pii}
)

# OWASP CSV injection: a spreadsheet treats a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_END = object()


@dataclass(frozen=True)
class CsvExport:
    text: str  # header plus rows, "\r\n" line ends
    rows: int  # data rows written
    truncated: bool  # more rows existed than the limit
    dropped: tuple[str, ...]  # PII columns left out
    message: str | None = None  # shown beside the download when truncated


def is_pii(column: str) -> bool:
    """Whether a column holds PII, judged by its last dotted segment without a leading `$`.

    >>> is_pii("person.properties.Email"), is_pii("properties.$ip"), is_pii("event")
    (True, True, False)
    """
    last = column.strip().rsplit(".", 1)[-1].strip()
    return last.removeprefix("$").lower() in PII_NAMES


def pii_columns(columns: Sequence[str]) -> list[str]:
    """The columns that must not leave in an export, in their given order."""
    return [c for c in columns if is_pii(c)]


def guard(text: str) -> str:
    """Text a spreadsheet will show, never evaluate.

    >>> guard("=SUM(A1)"), guard("-3"), guard("ok")
    ("'=SUM(A1)", "'-3", 'ok')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cell(value: Any) -> str:
    """One value as CSV cell text: numbers as numbers, everything else as guarded text.

    >>> [cell(v) for v in (None, True, -3, -1.5, Decimal("2.50"), date(2026, 11, 1))]
    ['', 'true', '-3', '-1.5', '2.50', '2026-11-01']
    >>> cell({"a": [1, "=x"]})
    '{"a":[1,"=x"]}'
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Real | Decimal):
        return str(value)  # str, not repr: numpy 2 reprs read "np.float64(1.5)"
    if isinstance(value, datetime | date | time):
        return guard(value.isoformat())
    if isinstance(value, Mapping | list | tuple):
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        return guard(text)
    return guard(str(value))


def write_csv(
    columns: Sequence[str],
    rows: Iterable[Mapping[str, Any]],
    *,
    limit: int = MAX_EXPORT_ROWS,
) -> CsvExport:
    """The CSV of `rows` under `columns`, PII columns dropped, at most `limit` rows.

    Rows are read lazily: at most `limit` + 1, the last only to learn whether more existed.
    """
    if limit < 0:
        raise ValueError(f"export limit must not be negative, got {limit}")
    dropped = tuple(pii_columns(columns))
    kept = [c for c in columns if c not in dropped]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([guard(c) for c in kept])
    it = iter(rows)
    written = 0
    for row in islice(it, limit):  # islice pulls no row past the limit
        writer.writerow([cell(row.get(c)) for c in kept])  # a missing value: an empty cell
        written += 1
    truncated = written == limit and next(it, _END) is not _END
    message = limit_message(limit) if truncated else None
    return CsvExport(out.getvalue(), written, truncated, dropped, message)


def limit_message(limit: int) -> str:
    """What a cut export says.

    >>> limit_message(MAX_EXPORT_ROWS), limit_message(5)
    ('Export limited to 100K rows', 'Export limited to 5 rows')
    """
    return LIMIT_MESSAGE if limit == MAX_EXPORT_ROWS else f"Export limited to {limit:,} rows"


def filename(*parts: str) -> str:
    """A safe download name: `sextant-` and the parts, lowercase ASCII letters, digits, dashes.

    >>> filename("Sessions: Trend", "2026-11-01", "2026-11-22")
    'sextant-sessions-trend-2026-11-01-2026-11-22.csv'
    >>> filename("Café  Δ / ../etc", "")
    'sextant-cafe-etc.csv'
    """
    text = unicodedata.normalize("NFKD", "-".join(("sextant", *parts)))
    slug = re.sub(r"[^a-z0-9]+", "-", text.encode("ascii", "ignore").decode().lower())
    return slug.strip("-")[:150].rstrip("-") + ".csv"
