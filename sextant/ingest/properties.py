"""Event and person properties: nesting and key checks, serialization, and finding bad values.

The fast path is a set lookup of the keys, one orjson serialization and a bracket count;
exact walks run only when one of those flags a problem. Lone surrogates, NaN/Infinity and
integers beyond 64 bits only come from the tolerant parser, and orjson refuses them.
"""

from __future__ import annotations

from typing import Any

import orjson

from sextant.ingest.batch import EventProblem, non_standard_number
from sextant.ingest.decode import NON_STANDARD_NUMBER
from sextant.ingest.model import Limits

_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1  # what orjson serializes
_SERIALIZABLE_DEPTH = 253  # orjson's recursion limit, counted inside the top object
_REMEMBERED_KEY_LENGTH = 64
_MAX_REMEMBERED_KEYS = 100_000
_short_keys: set[str] = set()


def serialized(value: dict[str, Any], field: str, limits: Limits) -> bytes:
    """`value` as JSON text, after checking its nesting, keys and contents."""
    if not _keys_ok(value, limits.max_name_length):
        raise _long_key(value, field, limits)
    try:
        data = orjson.dumps(value)
    except TypeError as exc:
        depth = min(limits.max_depth, _SERIALIZABLE_DEPTH)
        _check_depth(value, field, depth, field, depth)
        raise _content_problem(value, field) or EventProblem(
            "invalid_properties", field, f"{field} cannot be stored: {exc}"
        ) from None
    # Nesting cannot exceed the number of brackets, which counts fast; strings holding
    # brackets only send an event to the exact walk.
    if data.count(b"{") + data.count(b"[") > limits.max_depth + 1:
        _check_depth(value, field, limits.max_depth, field, limits.max_depth)
    return data


def check_text(text: str, field: str) -> None:
    """Refuse a lone surrogate (a broken UTF-16 pair) in `text`."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _surrogate(field, exc.start) from None


def _keys_ok(value: dict[str, Any], max_length: int) -> bool:
    # Events repeat a small vocabulary of keys: a set lookup of keys already seen costs a
    # third of measuring every key. Only keys short enough for any sane limit are kept.
    if max_length >= _REMEMBERED_KEY_LENGTH and _short_keys.issuperset(value):
        return True
    if value and max(map(len, value)) > max_length:
        return False
    if max_length >= _REMEMBERED_KEY_LENGTH:
        if len(_short_keys) > _MAX_REMEMBERED_KEYS:
            _short_keys.clear()  # bounded: clients may send endless distinct keys
        _short_keys.update(k for k in value if len(k) <= _REMEMBERED_KEY_LENGTH)
    return True


def _long_key(value: dict[str, Any], field: str, limits: Limits) -> EventProblem:
    key = max(value, key=len)
    return EventProblem(
        "invalid_property_key",
        f"{field}.{key[:40]}",
        f"{field} key {key[:40]!r}... is longer than {limits.max_name_length} characters",
    )


def _check_depth(value: Any, path: str, depth_left: int, field: str, limit: int) -> None:
    """Refuse containers nested more than `depth_left` levels inside `value`."""
    is_object = type(value) is dict
    for key, child in value.items() if is_object else enumerate(value):
        kind = type(child)
        if kind is dict or kind is list:
            inner = f"{path}.{key}" if is_object else f"{path}[{key}]"
            if depth_left == 0:
                raise EventProblem(
                    "too_deep",
                    field,
                    f"{field} nest objects and arrays more than {limit} levels deep (at {inner})",
                )
            _check_depth(child, inner, depth_left - 1, field, limit)


def _content_problem(value: Any, path: str) -> EventProblem | None:
    """The first value orjson cannot serialize, with its path."""
    kind = type(value)
    if kind is str:
        try:
            check_text(value, path)
        except EventProblem as problem:
            return problem
    elif value is NON_STANDARD_NUMBER:
        return non_standard_number(path)
    elif kind is int and not _INT_MIN <= value <= _INT_MAX:
        return EventProblem(
            "number_out_of_range",
            path,
            f"{path} is an integer beyond 64 bits; send it as a string",
        )
    elif kind is dict:
        for key, child in value.items():
            # ascii() shows a broken key readably: properties.a\ud800
            problem = _content_problem(key, f"{path}.{ascii(key)[1:-1]}") or _content_problem(
                child, f"{path}.{key}"
            )
            if problem:
                return problem
    elif kind is list:
        for i, child in enumerate(value):
            problem = _content_problem(child, f"{path}[{i}]")
            if problem:
                return problem
    return None


def _surrogate(field: str, position: int) -> EventProblem:
    return EventProblem(
        "invalid_unicode",
        field,
        f"{field} holds a lone UTF-16 surrogate (an escape such as \\ud800 without its pair) "
        f"at character {position}; it is not valid Unicode text",
    )
