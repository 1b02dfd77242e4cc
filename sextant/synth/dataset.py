"""Write a whole synthetic data set into a store: product events, commerce, customer experience."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa

from sextant.store import sessions
from sextant.store.engine import Engine
from sextant.synth.commerce import commerce_tables
from sextant.synth.config import SynthConfig
from sextant.synth.experience import experience_tables
from sextant.synth.product import product_tables

Progress = Callable[[str, int], None]  # (table, rows just written)


def chunks(cfg: SynthConfig) -> Iterator[tuple[str, pa.Table]]:
    """Every (table, chunk) of the data set, product tables first."""
    yield from product_tables(cfg)
    yield from commerce_tables(cfg)
    yield from experience_tables(cfg)


def collect(pieces: Iterable[tuple[str, pa.Table]]) -> dict[str, pa.Table]:
    """Whole tables from (table, chunk) pairs: for small data sets in tests and notebooks."""
    parts: dict[str, list[pa.Table]] = {}
    for name, chunk in pieces:
        parts.setdefault(name, []).append(chunk)
    return {name: pa.concat_tables(chunks) for name, chunks in parts.items()}


def generate(engine: Engine, cfg: SynthConfig, progress: Progress | None = None) -> dict[str, int]:
    """Append the data set described by `cfg`; return rows written per table.

    Rows are fresh (ids drawn from the seed), so appends skip the duplicate check, and
    sessions are derived once at the end rather than after every chunk. Events are made
    person by person; an engine that can reorder them in time (DuckDB) does so, so the
    store is laid out as capture would have written it.
    """
    written: Counter[str] = Counter()
    with sessions.bulk(engine):
        for table, chunk in chunks(cfg):
            written[table] += engine.append(table, chunk, dedupe=False)
            if progress:
                progress(table, chunk.num_rows)
    if hasattr(engine, "cluster"):
        engine.cluster("events")
    return dict(written)
