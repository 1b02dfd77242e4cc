"""Identifiers built in bulk: UUID-4 strings from random bytes and a stable 64-bit hash."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Two hex digits per byte value, as one uint16 so a lookup copies both at once.
_HEX = np.frombuffer(b"".join(b"%02x" % i for i in range(256)), dtype=np.uint16)
_GROUPS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))  # hex digits of each dash group


def make_uuids(rng: np.random.Generator, n: int, prefix: str = "") -> pa.StringArray:
    """`n` random UUID-4 strings (with an optional prefix), formatted without Python loops."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = _HEX[raw].view(np.uint8)
    head = prefix.encode()
    width = len(head) + 36
    text = np.full((n, width), ord("-"), dtype=np.uint8)
    text[:, : len(head)] = np.frombuffer(head, dtype=np.uint8)
    for i, (lo, hi) in enumerate(_GROUPS):
        at = len(head) + lo + i
        text[:, at : at + hi - lo] = digits[:, lo:hi]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))


def hash_ids(values: np.ndarray, seed: int) -> np.ndarray:
    """SplitMix64 of `values` salted with `seed`: stable across runs and platforms.

    >>> int(hash_ids(np.array([1]), 0)[0]) == int(hash_ids(np.array([1]), 0)[0])
    True
    """
    salt = np.random.SeedSequence(seed).generate_state(1, np.uint64)[0]
    z = values.astype(np.uint64) ^ salt
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def number_ids(prefix: str, first: int, count: int, width: int = 0) -> pa.StringArray:
    """`prefix` followed by the numbers first..first+count-1, zero-padded to `width`.

    >>> number_ids("ws_", 7, 2, width=6).to_pylist()
    ['ws_000007', 'ws_000008']
    """
    digits = pc.cast(pa.array(np.arange(first, first + count, dtype=np.int64)), pa.string())
    if width:
        digits = pc.utf8_lpad(digits, width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")
