"""File formats: tell a file's format, check its content is that format, read it in batches.

Readers stream (bounded memory) and number rows as a person finds them: CSV and TSV by
spreadsheet row (the header is row 1, blank lines count, a quoted value spanning lines is
one row, so it is the line number unless a value spans lines), NDJSON by line, Parquet by
1-based row index. All CSV columns are read as text, so large ids stay exact.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sextant.errors import InvalidInput, NotFound, SextantError, Unsupported

FORMATS = ("csv", "tsv", "parquet", "ndjson")
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_EXTENSION_HINTS = {
    ".xlsx": "save the sheet as CSV UTF-8 and import that",
    ".xls": "save the sheet as CSV UTF-8 and import that",
    ".json": "for one JSON object per line, name it .ndjson or pass --format ndjson",
}
ROW_WORD = {"csv": "row", "tsv": "row", "parquet": "row", "ndjson": "line"}
BATCH_ROWS = 65_536
CSV_BLOCK_BYTES = 8 << 20
_HEAD_BYTES = 64 << 10
_READ_ERRORS = (pa.ArrowException, OSError, EOFError, zlib.error, UnicodeDecodeError)
_MAGIC = (
    (b"PAR1", "a Parquet file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xff\xfe", "UTF-16 text (save it as UTF-8)"),
    (b"\xfe\xff", "UTF-16 text (save it as UTF-8)"),
)
_GZIP = b"\x1f\x8b"


@dataclass
class BadRow:
    """A row the reader itself could not make sense of (wrong field count, not JSON)."""

    row: int
    code: str
    reason: str


@dataclass
class RawBatch:
    """Raw values of some rows: `rows[i]` is the number of the i-th row in the file."""

    rows: np.ndarray
    columns: dict[str, pa.Array]
    bad_rows: list[BadRow] = field(default_factory=list)
    natives: dict[str, list] | None = None  # NDJSON: values as parsed, for properties

    @property
    def rows_read(self) -> int:
        return len(self.rows) + len(self.bad_rows)

    def pylist(self, name: str) -> list:
        if self.natives is not None and name in self.natives:
            return self.natives[name]
        return self.columns[name].to_pylist()


def file_format(path: Path, override: str | None = None) -> str:
    """The format named by `override` or by the file's extension (`.gz` aside)."""
    if override is not None:
        if override.lower() not in FORMATS:
            raise Unsupported(
                "unsupported_format",
                f"unknown format {override!r}; supported: {', '.join(FORMATS)}",
                field="format",
            )
        return override.lower()
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    ext = suffixes[-1] if suffixes else ""
    if ext not in EXTENSIONS:
        shown = f"extension {ext!r}" if ext else "no extension"
        raise Unsupported(
            "unsupported_format",
            f"cannot import {path.name}: {shown}; supported: "
            f"{', '.join(EXTENSIONS)} (CSV, TSV and NDJSON may end in .gz)",
            field="file",
            hint=_EXTENSION_HINTS.get(ext, "rename the file or pass --format " + "|".join(FORMATS)),
        )
    return EXTENSIONS[ext]


def check_file(path: Path, override: str | None = None) -> str:
    """Raise a clear error for a missing, empty or unknown-type file; return its format."""
    if not path.exists():
        raise NotFound("file_not_found", f"no file at {path}", field="file")
    if not path.is_file():
        raise InvalidInput("not_a_file", f"{path} is not a file", field="file")
    fmt = file_format(path, override)
    if path.stat().st_size == 0:
        raise InvalidInput(
            "empty_file", f"{path.name} is empty: no header and no rows", field="file"
        )
    return fmt


def describe(head: bytes) -> str | None:
    """What binary content looks like, or None for text.

    >>> describe(b"\\x89PNG\\r\\n")
    'a PNG image'
    >>> describe(b"id,name\\n1,a\\n") is None
    True
    """
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    return "binary data" if b"\x00" in head else None


def unreadable(path: Path, fmt: str, what: str, hint: str | None = None) -> InvalidInput:
    return InvalidInput(
        "unreadable_file",
        f"cannot read {path.name} as {fmt.upper()}: {what}",
        field="file",
        hint=hint,
    )


class Source:
    """An open file: its column names, its row count when known, its batches."""

    format: str
    columns: list[str]
    expected_rows: int | None = None

    def __init__(self, path: Path, fmt: str) -> None:
        self.path, self.format = path, fmt

    def batches(self) -> Iterator[RawBatch]:
        """The file's rows in batches; a failure half-way is an `unreadable_file` error."""
        done = 0
        try:
            for batch in self._batches():
                done += batch.rows_read
                yield batch
        except SextantError:
            raise
        except _READ_ERRORS as exc:
            raise unreadable(
                self.path,
                self.format,
                f"{exc} (after {done:,} rows)",
                hint="the rows before that point are stored; fix the file and import it "
                "again: rows already stored are skipped",
            ) from None

    def _batches(self) -> Iterator[RawBatch]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


def open_source(path: Path, override: str | None = None) -> Source:
    """The file ready to read, or a clear error when it is missing, empty or not its format."""
    fmt = check_file(path, override)
    if fmt == "parquet":
        return ParquetSource(path)
    _check_text(path, fmt)
    return NdjsonSource(path) if fmt == "ndjson" else CsvSource(path, fmt)


def inspect(path: Path, override: str | None = None) -> tuple[str, int | None]:
    """Check the file as `open_source` does, cheaply; return its format and row count if known."""
    fmt = check_file(path, override)
    if fmt != "parquet":
        _check_text(path, fmt)
        return fmt, None
    source = ParquetSource(path)
    source.close()
    return fmt, source.expected_rows


def _check_text(path: Path, fmt: str) -> None:
    head = _head(path, fmt)
    if not head.strip():
        raise InvalidInput("empty_file", f"{path.name} has no header and no rows", field="file")
    what = describe(head)
    if what:
        parquet = what.endswith("Parquet file")
        hint = "pass --format parquet or rename it to .parquet" if parquet else None
        raise unreadable(path, fmt, f"it looks like {what}", hint)


def _open_text(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when they are gzip (whatever the name says)."""
    with path.open("rb") as probe:
        gz = probe.read(2) == _GZIP
    return gzip.open(path, "rb") if gz else path.open("rb")


def _head(path: Path, fmt: str) -> bytes:
    try:
        with _open_text(path) as stream:
            return stream.read(_HEAD_BYTES)
    except _READ_ERRORS as exc:
        raise unreadable(path, fmt, str(exc)) from None


# --- CSV and TSV -------------------------------------------------------------------------------


class CsvSource(Source):
    def __init__(self, path: Path, fmt: str) -> None:
        super().__init__(path, fmt)
        self._parse = dict(delimiter="\t" if fmt == "tsv" else ",", newlines_in_values=True)
        try:
            with _open_text(path) as stream:
                names = pacsv.open_csv(
                    stream,
                    read_options=pacsv.ReadOptions(use_threads=False),
                    parse_options=pacsv.ParseOptions(
                        **self._parse, invalid_row_handler=lambda row: "skip"
                    ),
                    convert_options=pacsv.ConvertOptions(check_utf8=False),
                ).schema.names
        except _READ_ERRORS as exc:
            raise unreadable(path, fmt, str(exc)) from None
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise InvalidInput(
                "duplicate_columns",
                f"{path.name} has more than one column named {', '.join(map(repr, repeated))}",
                field=repeated[0],
            )
        self.columns = names

    def _batches(self) -> Iterator[RawBatch]:
        skipped: deque[BadRow] = deque()

        def on_invalid(row: pacsv.InvalidRow) -> str:
            reason = f"has {row.actual_columns} fields where the header has {row.expected_columns}"
            skipped.append(BadRow(row.number, "wrong_field_count", reason))
            return "skip"

        with _open_text(self.path) as stream:
            reader = pacsv.open_csv(
                stream,
                # One thread: Arrow numbers the rows it skips only when reading in order.
                read_options=pacsv.ReadOptions(use_threads=False, block_size=CSV_BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(
                    **self._parse, ignore_empty_lines=False, invalid_row_handler=on_invalid
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in self.columns},
                    check_utf8=False,
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            next_row = 2  # the header is row 1
            for batch in reader:
                end, bad = next_row + batch.num_rows, []
                while skipped and skipped[0].row < end:
                    bad.append(skipped.popleft())
                    end += 1
                rows = np.setdiff1d(np.arange(next_row, end), [b.row for b in bad])
                next_row = end
                yield _without_blank_rows(
                    RawBatch(rows, dict(zip(self.columns, batch.columns, strict=True)), bad)
                )
            if skipped:
                yield RawBatch(np.array([], dtype=np.int64), {}, list(skipped))


def _without_blank_rows(batch: RawBatch) -> RawBatch:
    """Drop rows with no value at all: blank lines are not rows."""
    if not batch.columns:
        return batch
    blank = None
    for array in batch.columns.values():
        null = pc.is_null(array)
        blank = null if blank is None else pc.and_(blank, null)
    if not pc.any(blank).as_py():
        return batch
    keep = pc.invert(blank)
    columns = {n: a.filter(keep) for n, a in batch.columns.items()}
    return RawBatch(batch.rows[keep.to_numpy(zero_copy_only=False)], columns, batch.bad_rows)


# --- Parquet -----------------------------------------------------------------------------------


class ParquetSource(Source):
    def __init__(self, path: Path) -> None:
        super().__init__(path, "parquet")
        try:
            self._file = pq.ParquetFile(path)
            self.columns = self._file.schema_arrow.names
        except _READ_ERRORS as exc:
            with path.open("rb") as f:
                what = describe(f.read(_HEAD_BYTES))
            raise unreadable(
                path, "parquet", f"it looks like {what}" if what else str(exc)
            ) from None
        self.expected_rows = self._file.metadata.num_rows

    def _batches(self) -> Iterator[RawBatch]:
        start = 1
        for batch in self._file.iter_batches(batch_size=BATCH_ROWS):
            rows = np.arange(start, start + batch.num_rows)
            start += batch.num_rows
            yield RawBatch(rows, dict(zip(batch.schema.names, batch.columns, strict=True)))

    def close(self) -> None:
        self._file.close()


# --- NDJSON ------------------------------------------------------------------------------------


class NdjsonSource(Source):
    """One JSON object per line; a line that is not one is a bad row, not a bad file."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "ndjson")
        self._stream = _open_text(path)
        self._lines = enumerate(self._stream, start=1)
        try:
            self._first = self._next_batch()
        except _READ_ERRORS as exc:
            self.close()
            raise unreadable(path, "ndjson", str(exc)) from None
        # Columns are the keys of the first batch; later keys are welcome all the same.
        self.columns = list(self._first.columns) if self._first else []

    def _batches(self) -> Iterator[RawBatch]:
        batch = self._first
        while batch is not None:
            yield batch
            batch = self._next_batch()

    def _next_batch(self) -> RawBatch | None:
        chunk = list(islice(self._lines, BATCH_ROWS))
        if not chunk:
            return None
        rows, objects, bad = [], [], []
        for number, line in chunk:
            if not line.strip():
                continue
            obj, problem = _json_line(line)
            if problem is None:
                rows.append(number)
                objects.append(obj)
            else:
                bad.append(BadRow(number, problem[0], problem[1]))
        keys = list(dict.fromkeys(k for obj in objects for k in obj))
        natives = {k: [obj.get(k) for obj in objects] for k in keys}
        columns = {k: pa.array([_as_text(x) for x in v], pa.string()) for k, v in natives.items()}
        return RawBatch(np.array(rows, dtype=np.int64), columns, bad, natives)

    def close(self) -> None:
        self._stream.close()


def _json_line(line: bytes) -> tuple[dict | None, tuple[str, str] | None]:
    try:
        obj = json.loads(line, parse_constant=_no_constant)
    except UnicodeDecodeError:
        return None, ("invalid_utf8", "is not valid UTF-8 text")
    except ValueError as exc:
        detail = f"{exc.msg} at column {exc.colno}" if hasattr(exc, "colno") else str(exc)
        return None, ("not_json", f"is not valid JSON ({detail})")
    except RecursionError:
        return None, ("not_json", "is not valid JSON (nested too deeply)")
    if not isinstance(obj, dict):
        kind = _JSON_KINDS.get(type(obj), "value")
        return None, ("not_an_object", f"is a JSON {kind}, not an object")
    return obj, None


_JSON_KINDS = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


def _as_text(value: object) -> str | None:
    """A parsed JSON value as text for `values.parse`: ints exact, objects as JSON.

    >>> [_as_text(v) for v in (9007199254740993, 1.5, True, "x", {"a": 1}, None)]
    ['9007199254740993', '1.5', 'true', 'x', '{"a": 1}', None]
    """
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)
