"""The masking pre-filter never lets a PII key through: for any JSON properties, masking a
column gives, row by row, the same object as parsing every row and dropping PII keys."""

from __future__ import annotations

import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from sextant.playground.masking import _strip, _without_pii_keys

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
