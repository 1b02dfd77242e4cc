"""PII masking for snapshots of non-admin users, on Arrow tables before they are written:
columns the schema flags as PII become `•••` (null when not text), and PII keys leave JSON
properties at every depth."""

from __future__ import annotations

import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from sextant.exports.csv import PII_NAMES, is_pii
from sextant.store.schema import Table, Type

MASK = "•••"

# Rows whose JSON has no key ending in a PII name (in any case, after an optional `$` or a
# dotted prefix, as `is_pii` judges keys) nor a \u escape, which could spell one, hold no
# PII key and are kept as they are: only the others are parsed in Python.
_MAY_HOLD_PII = (
    r'"(?:(?:[^"\\]|\\.)*\.)?\s*\$?(?:'
    + "|".join(sorted(re.escape(n) for n in PII_NAMES))
    + r')\s*"\s*:|\\u'
)


def mask(spec: Table, data: pa.Table) -> pa.Table:
    """`data` (rows of `spec`) with its PII masked."""
    for i, name in enumerate(data.column_names):
        column = spec.column(name)
        if column.pii:
            data = data.set_column(i, name, _masked(data.column(i)))
        elif column.type is Type.JSON:
            data = data.set_column(i, name, _without_pii_keys(data.column(i)))
    return data


def strip_pii(text: str | None) -> str | None:
    """JSON text without PII keys (judged as exports judge column names); text that is not
    JSON becomes None, since what it holds cannot be told.

    >>> strip_pii('{"plan": "free", "$email": "a@b.c", "$set": {"Name": "Ann", "n": 1}}')
    '{"plan":"free","$set":{"n":1}}'
    >>> strip_pii('{"e\\\\u006dail": "a@b.c"}'), strip_pii("not json"), strip_pii(None)
    ('{}', None, None)
    """
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return json.dumps(_strip(value), separators=(",", ":"), ensure_ascii=False)


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not is_pii(k)}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _masked(column: pa.ChunkedArray) -> pa.Array:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return pc.if_else(pc.is_null(column), pa.scalar(None, column.type), MASK)
    return pa.nulls(len(column), column.type)


def _without_pii_keys(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    suspect = pc.fill_null(pc.match_substring_regex(column, _MAY_HOLD_PII, ignore_case=True), False)
    if not pc.any(suspect).as_py():
        return column
    stripped = [strip_pii(t) for t in pc.filter(column, suspect).to_pylist()]
    return pc.replace_with_mask(
        column.combine_chunks(), suspect.combine_chunks(), pa.array(stripped, column.type)
    )
