"""The masking pre-filters never let PII through: for any JSON properties, masking a column
gives, row by row, the same object as parsing every row and dropping PII keys; for any text,
replacing the email addresses of distinct values gives what replacing them row by row does,
and no address is left."""

from __future__ import annotations

import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sextant.playground.masking import (
    EMAIL,
    _strip,
    _without_emails,
    _without_pii_keys,
    pseudonymize,
)

KEYS = st.sampled_from(
    [
        "email",
        "$Email",
        "user.email",
        " name",
        "first_name",
        "pathname",
        "feature_name",
        "ip",
        "$ip",
        "IP ",
        "phone",
        "plan",
        'a"b.name',
        "émail",
        "x.$Phone",
        "names",
    ]
) | st.text(max_size=8)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
ROWS = st.lists(st.none() | st.dictionaries(KEYS, VALUES, max_size=4), max_size=12)


@settings(max_examples=300, deadline=None)
@given(ROWS, st.booleans())
def test_masking_equals_stripping_every_row(rows, ascii_only):
    texts = [None if r is None else json.dumps(r, ensure_ascii=ascii_only) for r in rows]
    masked = _without_pii_keys(pa.chunked_array([pa.array(texts, pa.string())])).to_pylist()
    for original, out in zip(rows, masked, strict=True):
        assert (None if out is None else json.loads(out)) == (
            None if original is None else _strip(original)
        )


ADDRESSES = st.sampled_from(
    ["ann@acme.test", "ANN@acme.test", "bo.b+1@mail.example.org", "x_y@d-e.co", "al@acme.test"]
)
TEXTS = st.lists(st.text(max_size=6) | ADDRESSES, max_size=4).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.none() | TEXTS, max_size=12), st.integers(1, 4))
def test_no_address_survives_and_each_keeps_one_pseudonym(texts, chunks):
    size = max(1, len(texts) // chunks)
    parts = [pa.array(texts[i : i + size], pa.string()) for i in range(0, len(texts), size)]
    column = pa.chunked_array(parts or [pa.array([], pa.string())])
    out = _without_emails(column, b"key").to_pylist()
    assert out == [None if t is None else pseudonymize(t, b"key") for t in texts]
    assert not any(t and EMAIL.search(t) for t in out)
    names = {"ann@acme.test", "bo.b+1@mail.example.org", "x_y@d-e.co", "al@acme.test"}
    assert len({pseudonymize(a, b"key") for a in names}) == len(names)
