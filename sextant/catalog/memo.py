"""Compiled statements kept per catalog and query. Compiling (building the sqlglot tree,
rendering SQL) costs more than answering from the result cache, whose key is the SQL, so a
repeated query (a dashboard reload) skips it. Keyed by the catalog object itself: a reloaded
catalog compiles afresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    def __init__(self, size: int = 512) -> None:
        self._size = size
        self._items: OrderedDict[tuple, tuple[object, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, catalog: object, key: tuple, build: Callable[[], T]) -> T:
        """`build()` once per (catalog, key); callers must not change what it returns."""
        full = (id(catalog), *key)
        with self._lock:
            held = self._items.get(full)
            if held is not None and held[0] is catalog:
                self._items.move_to_end(full)
                return held[1]
        value = build()
        with self._lock:
            self._items[full] = (catalog, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value


COMPILED = Memo()
