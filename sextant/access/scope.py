"""The tenant limit of the request being served, applied wherever a query is made.

A request's principal is made current for the whole request (`acting_as`); every query
validated meanwhile (`RangeQuery` and the analyses' queries) reads only that principal's
tenants, so no page, export or API route can forget the limit, and result caches keyed by
the query never mix two users' scopes. Outside a request (the CLI, which owns the store
files) no limit applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sextant.access.roles import Principal

_current: ContextVar[Principal | None] = ContextVar("sextant_principal", default=None)


def current() -> Principal | None:
    """The principal of the request being served, if any."""
    return _current.get()


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)


def limit_tenants(requested: tuple[str, ...] | list[str] | None) -> tuple[str, ...] | None:
    """The tenants a query may read under the current principal (unchanged outside a
    request); asking for a tenant outside the principal's is refused with 403."""
    principal = _current.get()
    if principal is None:
        return None if requested is None else tuple(requested)
    return principal.limit(requested)
