"""PII masking for snapshots of non-admin users, on Arrow tables before they are written:
columns the schema flags as PII become `•••` (null when not text), PII keys leave JSON
properties at every depth, and an email address anywhere else in text (a distinct_id that is
an email, a ticket's text, a JSON value) becomes a pseudonym, `•••` and ten hex digits: the
same address always gives the same pseudonym (a keyed hash), so counts of distinct ids and
joins still hold, and without the key it cannot be told from a guessed address."""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import re

import pyarrow as pa
import pyarrow.compute as pc

from sextant.exports.csv import PII_NAMES, is_pii
from sextant.store.schema import Table, Type

MASK = "•••"
EMAIL = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)*\.[A-Za-z]{2,}")
KEEP_AS_IS = frozenset({"tenant_id"})  # the playground's tenant limit compares it

# Rows whose JSON has no key ending in a PII name (in any case, after an optional `$` or a
# dotted prefix, as `is_pii` judges keys) nor a \u escape, which could spell one, hold no
# PII key and are kept as they are: only the others are parsed in Python.
_MAY_HOLD_PII = (
    r'"(?:(?:[^"\\]|\\.)*\.)?\s*\$?(?:'
    + "|".join(sorted(re.escape(n) for n in PII_NAMES))
    + r')\s*"\s*:|\\u'
)


def mask(spec: Table, data: pa.Table, key: bytes) -> pa.Table:
    """`data` (rows of `spec`) with its PII masked; `key` keys the email pseudonyms."""
    for i, name in enumerate(data.column_names):
        column = spec.column(name)
        if column.pii:
            data = data.set_column(i, name, _masked(data.column(i)))
        elif column.type is Type.JSON:
            stripped = _without_pii_keys(data.column(i))
            data = data.set_column(i, name, _without_emails(stripped, key))
        elif column.type is Type.TEXT and name not in KEEP_AS_IS:
            data = data.set_column(i, name, _without_emails(data.column(i), key))
    return data


def pseudonymize(text: str, key: bytes) -> str:
    """`text` with each email address replaced by its pseudonym.

    >>> a = pseudonymize("from Ann@Example.com, cc bo.b+1@mail.example.org", b"k")
    >>> a.startswith("from •••") and a.count("•••") == 2 and "@" not in a
    True
    >>> pseudonymize("ann@example.com", b"k") == pseudonymize("ANN@example.com", b"k")
    True
    >>> pseudonymize("ann@example.com", b"k") != pseudonymize("ann@example.com", b"other")
    True
    >>> pseudonymize("no address @ here", b"k")
    'no address @ here'
    """
    return EMAIL.sub(
        lambda m: MASK + hmac.new(key, m.group().lower().encode(), hashlib.sha256).hexdigest()[:10],
        text,
    )


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


@functools.lru_cache(maxsize=131_072)
def _pseudonymized(text: str, key: bytes) -> str:
    # A snapshot comes in batches: the same ids recur in every one.
    return pseudonymize(text, key)


def _without_emails(column: pa.ChunkedArray | pa.Array, key: bytes) -> pa.ChunkedArray | pa.Array:
    # Only values holding an "@" are looked at, each distinct one once: a store's
    # distinct_ids repeat across many events.
    suspect = pc.fill_null(pc.match_substring(column, "@"), False)
    if not pc.any(suspect).as_py():
        return column
    if isinstance(suspect, pa.ChunkedArray):
        suspect = suspect.combine_chunks()
    values = pc.filter(column, suspect)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    replaced = pa.array(
        [_pseudonymized(v, key) for v in encoded.dictionary.to_pylist()], column.type
    )
    flat = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return pc.replace_with_mask(flat, suspect, pc.take(replaced, encoded.indices))
