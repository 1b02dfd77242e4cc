"""File import: a CSV, TSV, Parquet or NDJSON file into one canonical table, row by row verdicts.

Bad rows are reported (row, column, reason) and skipped; good rows are stored; rows whose key
is already stored (or repeated in the file) count as duplicates, so importing a file twice
stores nothing new. Columns that are not in the table are folded into `properties` for
events and persons (nothing valid is lost) and ignored, with a note, for other tables.

Events: `id` may be absent (a deterministic id is derived, so a re-import dedupes);
`person_id` comes from `distinct_id` through identity (a `person_id` column in the file is
ignored with a warning: person ids belong to this store); `received_at` defaults to the
import time and `source` to "import:<file name>".
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sextant.errors import InvalidInput, Problem
from sextant.ingest import values
from sextant.ingest.readers import ROW_WORD, RawBatch, open_source
from sextant.store import schema
from sextant.store.engine import Engine
from sextant.store.identity import persons_for

MAX_PROBLEMS = 1_000
FOLDING_TABLES = frozenset({"events", "persons"})  # extra columns go into `properties`
MANAGED_TABLES = frozenset({"person_distinct_ids", "person_overrides", "identity_merges"})
FILLED_IN = {"events": frozenset({"id", "person_id"})}  # required, but Sextant can fill them
NOT_FROM_FILE = {"events": frozenset({"person_id"})}  # always Sextant's own
EVENT_ID_NAMESPACE = uuid.UUID("6f1f3c4e-2b1a-5d7e-9c3a-5e7a17c0de01")  # never change

Progress = Callable[[int], None]


@dataclass
class ImportReport:
    file: str
    table: str
    format: str
    rows_read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    problems: list[dict] = field(default_factory=list)  # the first MAX_PROBLEMS, by row
    problems_total: int = 0
    folded_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def row_word(self) -> str:
        """What `row` counts in this format: "row" or "line"."""
        return ROW_WORD[self.format]

    def summary(self) -> str:
        return (
            f"Imported {self.stored:,} of {self.rows_read:,} rows into {self.table} "
            f"({self.rejected:,} rejected, {self.duplicates:,} duplicates)"
        )

    def as_dict(self) -> dict:
        return {**asdict(self), "summary": self.summary(), "row_word": self.row_word}


@dataclass
class ColumnPlan:
    table: schema.Table
    mapping: dict[str, str]  # file column -> table column, as asked
    sources: dict[str, str] = field(default_factory=dict)  # table column -> file column
    folded: list[str] = field(default_factory=list)  # file columns folded into properties
    ignored: list[str] = field(default_factory=list)

    def place(self, name: str) -> None:
        """Put file column `name` in the plan: a source, folded into properties, or ignored."""
        placed = (self.mapping, self.sources.values(), self.folded, self.ignored)
        if any(name in group for group in placed):
            return
        spec = self.table
        is_column = any(c.name == name for c in spec.columns)
        if is_column and name not in self.sources and name not in NOT_FROM_FILE.get(spec.name, ()):
            self.sources[name] = name
        elif spec.name in FOLDING_TABLES and not is_column:
            self.folded.append(name)
        else:
            self.ignored.append(name)


def import_file(
    engine: Engine,
    path: Path | str,
    table: str,
    mapping: Mapping[str, str] | None = None,
    *,
    file_format: str | None = None,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import `path` into `table`; `mapping` renames file columns to table columns.

    File-level problems (missing file, unknown format or table, unreadable content,
    bad mapping, missing required columns) raise; row-level problems are in the report.
    `progress(n)` is called after each batch with the number of rows it read.
    """
    spec = importable_table(table)
    path = Path(path)
    source = open_source(path, file_format)
    try:
        plan = plan_columns(spec, source.columns, dict(mapping or {}), path.name)
        report = ImportReport(str(path), spec.name, source.format)
        run = _Run(engine, spec, plan, report, now or datetime.now(UTC), f"import:{path.name}")
        for batch in source.batches():
            run.add(batch)
            if progress:
                progress(batch.rows_read)
        _note_columns(spec, plan, report)
        return report
    finally:
        source.close()


def importable_table(name: str) -> schema.Table:
    """The table called `name`, unless it is unknown or kept by Sextant itself."""
    spec = schema.table(name)
    if spec.name in MANAGED_TABLES:
        raise InvalidInput(
            "table_not_importable",
            f"table {name!r} is kept by Sextant's identity merges and cannot be imported",
            field="table",
            hint="import events (with distinct_id) or persons instead",
        )
    return spec


def plan_columns(
    spec: schema.Table, file_columns: list[str], mapping: dict[str, str], file_name: str
) -> ColumnPlan:
    """Which file column fills each table column; every mapping or column problem at once.

    A bad `--map` pair is reported and left out, so the missing columns listed with it are
    the ones still missing once that pair is fixed or dropped.
    """
    problems, valid = [], {}
    for src, dst in mapping.items():
        found = _map_problems(spec, file_columns, src, dst, file_name)
        problems += found
        if not found:
            valid[src] = dst
    targets = list(mapping.values())
    for dst in sorted({d for d in targets if targets.count(d) > 1}):
        problems.append(
            Problem("map_target_repeated", f"--map names {dst!r} as the target twice", field=dst)
        )
    plan = ColumnPlan(spec, valid, sources={dst: src for src, dst in valid.items()})
    for name in file_columns:
        plan.place(name)
    filled = FILLED_IN.get(spec.name, frozenset())
    missing = [c for c in spec.required if c not in plan.sources and c not in filled]
    if missing:
        problems.append(_missing_columns(spec, missing, file_name))
    if problems:
        raise InvalidInput.from_problems(problems)
    return plan


def _map_problems(
    spec: schema.Table, file_columns: list[str], src: str, dst: str, file_name: str
) -> list[Problem]:
    found = []
    if src not in file_columns:
        message = f"--map {src}={dst}: {file_name} has no column {src!r}"
        found.append(Problem("map_source_missing", message, field=src))
    if all(c.name != dst for c in spec.columns):
        columns = ", ".join(c.name for c in spec.columns)
        message = (
            f"--map {src}={dst}: table {spec.name} has no column {dst!r} (its columns: {columns})"
        )
        found.append(Problem("map_target_unknown", message, field=dst))
    elif dst in NOT_FROM_FILE.get(spec.name, ()):
        message = f"--map {src}={dst}: Sextant fills in {spec.name}.{dst} itself"
        found.append(Problem("map_target_filled_in", message, field=dst))
    return found


def _missing_columns(spec: schema.Table, missing: list[str], file_name: str) -> Problem:
    names = ", ".join(missing)
    return Problem(
        "missing_columns",
        f"{file_name} lacks required column{'s' if len(missing) > 1 else ''} of "
        f"{spec.name}: {names}",
        field=missing[0],
        hint="add them, or map the file's columns: --map FILE_COLUMN=TABLE_COLUMN",
    )


def _note_columns(spec: schema.Table, plan: ColumnPlan, report: ImportReport) -> None:
    report.folded_columns, report.ignored_columns = plan.folded, plan.ignored
    table_columns = {c.name for c in spec.columns}
    for name in plan.ignored:
        if name in NOT_FROM_FILE.get(spec.name, ()):
            report.warnings.append(
                f"the file's {name} column is ignored: Sextant fills in {spec.name}.{name}"
            )
        elif name in table_columns:
            report.warnings.append(
                f"the file's {name} column is ignored: --map fills {name} "
                f"from {plan.sources[name]!r}"
            )
    outside = [n for n in plan.ignored if n not in table_columns]
    if outside:
        report.warnings.append(f"ignored columns not in table {spec.name}: {', '.join(outside)}")


class _RowVerdicts:
    """The problems found in one batch: which rows are bad, and the first few problems."""

    def __init__(self, batch: RawBatch, budget: int) -> None:
        self.batch, self.budget = batch, max(budget, 0)
        self.bad = np.zeros(len(batch.rows), dtype=bool)
        self.count = len(batch.bad_rows)
        # (row, column order, column, code, reason); the reader's bad rows come first in a row
        self.found = [(b.row, -1, None, b.code, b.reason) for b in batch.bad_rows]

    def add(self, parsed: values.Parsed, raw: pa.Array, column: str, order: int) -> None:
        for rejection in parsed.rejections:
            index = np.flatnonzero(rejection.mask.to_numpy(zero_copy_only=False))
            self.bad[index] = True
            self.count += len(index)
            for i in index[: self.budget]:  # the earliest rows of each kind can make the cut
                reason = rejection.reason
                if rejection.code != "required":
                    reason = f"{values.shown(raw, int(i))} {reason}"
                row = int(self.batch.rows[i])
                self.found.append((row, order, column, rejection.code, reason))

    def first(self) -> list[dict]:
        self.found.sort(key=lambda p: (p[0], p[1]))
        return [
            {"row": row, "column": column, "code": code, "reason": reason}
            for row, _, column, code, reason in self.found[: self.budget]
        ]


class _Run:
    """One import in progress: validates each batch, stores its good rows, fills the report."""

    def __init__(
        self,
        engine: Engine,
        spec: schema.Table,
        plan: ColumnPlan,
        report: ImportReport,
        now: datetime,
        source_name: str,
    ) -> None:
        self.engine, self.spec, self.plan, self.report = engine, spec, plan, report
        self.now, self.source_name = now, source_name
        self.columns = {
            c.name: replace(c, required=False) if c.name in FILLED_IN.get(spec.name, ()) else c
            for c in spec.columns
        }

    def add(self, batch: RawBatch) -> None:
        for name in batch.columns:  # NDJSON lines may bring keys the first batch lacked
            self.plan.place(name)
        verdicts = _RowVerdicts(batch, MAX_PROBLEMS - len(self.report.problems))
        arrays, objects = {}, None
        for order, (column, src) in enumerate(self.plan.sources.items()):
            raw = batch.columns.get(src)
            raw = pa.nulls(len(batch.rows), pa.string()) if raw is None else raw
            parsed = values.parse_column(raw, self.columns[column])
            verdicts.add(parsed, raw, src, order)
            arrays[column] = parsed.values
            if column == "properties":
                objects = parsed.objects
        extras = {
            name: self._extra(batch, name, verdicts, order)
            for order, name in enumerate(self.plan.folded, start=len(self.plan.sources))
        }
        self._report(batch, verdicts)
        good = ~verdicts.bad
        if good.any():
            keep = pa.array(good)
            arrays = {k: v.filter(keep) for k, v in arrays.items()}
            objects = None if objects is None else _take(objects, good)
            self._store(arrays, objects, {k: _take(v, good) for k, v in extras.items()})

    def _extra(self, batch: RawBatch, name: str, verdicts: _RowVerdicts, order: int) -> list:
        """The values of a column folded into properties, as JSON-ready Python values."""
        if name not in batch.columns:
            return [None] * len(batch.rows)
        raw = batch.columns[name]
        if batch.natives is not None or not pa.types.is_string(raw.type):
            return batch.pylist(name)
        parsed = values.parse(raw, schema.Type.TEXT)  # a CSV value may be invalid UTF-8
        verdicts.add(parsed, raw, name, order)
        return parsed.values.to_pylist()

    def _report(self, batch: RawBatch, verdicts: _RowVerdicts) -> None:
        report = self.report
        report.rows_read += batch.rows_read
        report.rejected += int(verdicts.bad.sum()) + len(batch.bad_rows)
        report.problems_total += verdicts.count
        report.problems += verdicts.first()

    def _store(
        self, arrays: dict[str, pa.Array], objects: list | None, extras: dict[str, list]
    ) -> None:
        size = len(next(iter(arrays.values())))
        if objects is None:
            objects = [None] * size
        if "properties" in self.columns and extras:
            texts = arrays.get("properties", pa.nulls(size, pa.string())).to_pylist()
            merged = fold_properties(objects, extras)
            texts = [
                t if m is o else _dumps(m) for t, m, o in zip(texts, merged, objects, strict=True)
            ]
            arrays["properties"], objects = pa.array(texts, pa.string()), merged
        if self.spec.name == "events":
            arrays = self._complete_events(arrays, objects, size)
        stored = self.engine.append(self.spec.name, pa.table(arrays), dedupe=True)
        self.report.stored += stored
        self.report.duplicates += size - stored

    def _complete_events(
        self, arrays: dict[str, pa.Array], objects: list, size: int
    ) -> dict[str, pa.Array]:
        ids = arrays.get("id", pa.nulls(size, pa.string()))
        if ids.null_count:
            micros = arrays["timestamp"].cast(pa.int64()).to_pylist()
            derived = derive_event_ids(
                arrays["event"].to_pylist(), micros, arrays["distinct_id"].to_pylist(), objects
            )
            arrays["id"] = pc.coalesce(ids, pa.array(derived, pa.string()))
        distinct = arrays["distinct_id"].to_pylist()
        persons = persons_for(self.engine, distinct, self.now)
        arrays["person_id"] = pa.array([persons[d] for d in distinct], pa.int64())
        now = pa.scalar(self.now, pa.timestamp("us", tz="UTC"))
        received = arrays.get("received_at", pa.nulls(size, now.type))
        arrays["received_at"] = pc.coalesce(received, now)
        source = pa.scalar(self.source_name)
        arrays["source"] = pc.coalesce(arrays.get("source", pa.nulls(size, pa.string())), source)
        return arrays


def fold_properties(own: list[dict | None], extras: dict[str, list]) -> list[dict | None]:
    """Each row's extra column values merged into its properties; its own properties win.

    A row without extra values keeps its very object (the caller keeps its text then).

    >>> fold_properties([{"plan": "pro"}, None], {"plan": ["free", None], "n": [1, 2]})
    [{'plan': 'pro', 'n': 1}, {'n': 2}]
    """
    out = []
    for i, obj in enumerate(own):
        extra = {k: v[i] for k, v in extras.items() if v[i] is not None}
        out.append({**extra, **(obj or {})} if extra else obj)
    return out


def derive_event_ids(
    events: list[str], micros: list[int], distinct_ids: list[str], properties: list[dict | None]
) -> list[str]:
    """A deterministic id per event from what it is: name, instant, distinct id, properties.

    The same row gets the same id from CSV, NDJSON or Parquet, so a replay dedupes.

    >>> derive_event_ids(["signup"], [0], ["u1"], [{"b": 1, "a": 2}]) == derive_event_ids(
    ...     ["signup"], [0], ["u1"], [{"a": 2, "b": 1}])
    True
    """
    rows = zip(events, micros, distinct_ids, properties, strict=True)
    return [_uuid5(_canonical([event, at, who, obj])) for event, at, who, obj in rows]


_canonical = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
).encode
_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def _uuid5(name: str) -> str:
    """`str(uuid.uuid5(EVENT_ID_NAMESPACE, name))`, at twice the speed of building UUIDs.

    >>> _uuid5("x") == str(uuid.uuid5(EVENT_ID_NAMESPACE, "x"))
    True
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _take(items: list, good: np.ndarray) -> list:
    return [x for x, ok in zip(items, good, strict=True) if ok]


def _dumps(value: dict) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=str)
    except ValueError:  # NaN from a Parquet float: JSON has no such number
        return json.dumps(
            {k: None if isinstance(v, float) and v != v else v for k, v in value.items()},
            ensure_ascii=False,
            default=str,
        )
