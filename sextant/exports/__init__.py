"""Exports: CSV (and later PDF) with PII removed and spreadsheet formulas neutralised."""

from sextant.exports.csv import (
    LIMIT_MESSAGE,
    MAX_EXPORT_ROWS,
    PII_NAMES,
    CsvExport,
    filename,
    is_pii,
    limit_message,
    pii_columns,
    write_csv,
)

__all__ = [
    "LIMIT_MESSAGE",
    "MAX_EXPORT_ROWS",
    "PII_NAMES",
    "CsvExport",
    "filename",
    "is_pii",
    "limit_message",
    "pii_columns",
    "write_csv",
]
