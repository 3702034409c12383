"""Read one landing file against its table contract.

A landing file is a CSV export (header row, RFC 4180 quoting, LF or CRLF), plain or
gzip-compressed (`.csv.gz`), in its source's configured encoding (`sources.<name>.encoding`
in sros.yml, default UTF-8 with or without BOM), or a Parquet file (`.parquet`, columns by
name). `read_landing_file` is the one entry point for all three, and it never raises for
what a file contains: a file it cannot read is quarantined whole (see "Isolation"). Reading
gives three things:

- the rows that pass, typed as the contract says (timestamps converted to UTC), plus two
  lineage columns: `_sros_source_file` and `_sros_row_number` (the record's number in the
  file, 1 = first record after the header);
- the rejected rows, one quarantine row per problem, naming file, row, column, value and
  reason;
- a load-report row that reconciles rows read = rows passed + rows quarantined, where rows
  read is counted by an independent parser (Python's csv module, or for a file without
  quotes or carriage returns its non-empty lines; for Parquet, the file's metadata), and that
  lists `warnings` (see "Units").

Memory: a file of any size reads within a bounded memory. The reader's DuckDB has the dbt
build's memory limit (SROS_DUCKDB_MEMORY_LIMIT) and spills to a scratch directory beyond it,
and the passed rows are written there as Parquet and handed on `BATCH_ROWS` at a time
(`FileReadResult.batches`), never as one in-memory table.

DuckDB does the parsing: its CSV reader with `store_rejects` records structurally broken rows
(too few or too many fields, bad quoting, bytes that are not valid UTF-8, a line over its
2,000,000-byte limit), and `try_cast` finds values that do not fit their column type. One
structural problem DuckDB drops without a reject: a quoted field still open at the end of the
file (a file cut off mid-record); that last record is quarantined here. Nothing is dropped
silently. All checks run vectorised in DuckDB; Python only describes the (few) rows flagged.

Encoding: DuckDB reads UTF-8 only, so a file of another configured encoding (cp1252,
latin-1, utf-16, ...) is first transcoded to a temporary UTF-8 file, streaming. A byte that
does not decode in the configured encoding quarantines its record (row by row: the file's
other records load) with the reason `bytes that are not valid <encoding>`. Such a record's
`raw_record` can only be an approximation (undecodable bytes shown as U+FFFD), so the
quarantine row also keeps the record's exact original bytes in `raw_bytes`. `raw_bytes` is
filled whenever `raw_record` is not the exact record (undecodable bytes, or a line over
DuckDB's limit, whose text DuckDB truncates), and is null otherwise.

Keys: the values of the contract's key columns are trimmed of leading and trailing
whitespace at ingestion (the raw table holds the trimmed key). Then, in one file:

- a key that is empty, or only whitespace, quarantines its row (`primary key is empty`);
- a key seen at an earlier row quarantines the later rows (`duplicate primary key (...)
  first seen at row n`): `X` and `X ` are the same key after trimming;
- in a key column whose contract says `case_sensitive: false` (Salesforce 18-character ids),
  keys that differ only by letter case (`X` and `x`) name one record spelled two ways; which
  spelling and which version is right cannot be told, so every row of that key is
  quarantined, each naming the other rows and their spellings (`primary key ('X') conflicts
  with row 2 ('X ') and row 3 ('x'): the keys differ only by case ...`). Case-sensitive
  columns (the default) keep them apart. Only keys within one file are compared: a later file
  spelling a key in another case is merged as another record (Salesforce exports spell an id
  the same way every time).

Keys are compared as the typed key columns hold them; the groups of rows sharing a key are
found with one GROUP BY over the materialised key columns, and only their rows are updated.

Required columns: a column whose contract says `required: true` (the models cannot work
without its value) must be in the header, or the file is readable but none of its rows can be
loaded: every record is quarantined with a reason naming the column and the file, as for a
missing key column. A row whose required value is empty or only whitespace is quarantined
(`required column 'created_date' is empty ...`, with the value as the file had it: "" for
an empty field). Other non-key columns may be missing (null, listed in the report's
`missing_columns`) or empty (null).

Numbers: a value must fit its contract type exactly; it is never rounded. A
`decimal(18,2)` with more decimal places (`1234.567`, a European `1.234`), a `bigint` with a
fractional part (`12.5`) or any value out of its type's range (17 digits before the point of
a `decimal(18,2)`, a `bigint` over 2^63 - 1) is quarantined with a reason saying which
(`more decimal places than decimal(18,2) allows (2); not rounded`, `out of range for ...`).
A `double` must be finite (`nan`, `inf` are quarantined). DuckDB's own casts round
silently, so the check is: a plain number with no more decimal places than the type has (a
regular expression, the usual case) fits when it casts; any other text (`1234.567`, `1e3`,
`12.500`) fits only when its cast equals its cast to the widest decimal (38 digits) with the
same integer digits, i.e. nothing was rounded (`12.500` and `1e3` fit exactly). Vectorised;
the slow 38-digit cast runs only for the rows the expression does not match.

Units: a column whose contract says `unit: percent` (0-100) whose non-null values in a file
all lie between 0 and 1 (at least one above 0), or `unit: fraction` (0-1) with values above
1, still loads: it may be right (every deal at 1%), but it looks like the other unit was
exported. The load report's `warnings` names the file, column and what was seen, and the
`no_load_warnings` asset check (orchestration/defs/ingestion.py) shows it.

Every quarantine row keeps the whole record it rejects in `raw_record`, so nothing is lost:

- a record whose fields line up with the header (a value that does not cast, an empty or
  duplicate key, a file without its key column or with clashing column names) is kept as a
  JSON object of header name -> the field's text as the file had it (after CSV unquoting; an
  empty field is ""), in header order, e.g. `{"id":"006A","amount":"ten"}`;
- a structurally malformed record (reason `malformed row ...` or `unclosed quote ...`), or a
  record of a file rejected whole, is kept as its original CSV text: its fields do not line
  up with the header, so pairing them with names would be a guess.

Isolation: a file the reader cannot process as a whole never stops the source's other files
and tables, and `read_landing_file` raises nothing for it. The file is quarantined whole,
status `rejected`, every reason starting `file rejected: `:

- when its records can still be told apart (Python's csv module splits the file: a header
  naming a column twice or with an empty name, e.g. a trailing comma on every line; rows
  that do not reconcile), every record is quarantined with its record number and CSV text;
- when they cannot (a binary file: NUL bytes, e.g. UTF-16 read as UTF-8; a corrupt gzip or
  Parquet file; a file that fails to transcode), the whole file is ONE quarantine row with
  `row_number` 0 ("the file, not a record"), its bytes in `raw_bytes` (the first 16 MiB; the
  landing file itself is never changed), and the report counts it as one row read and
  quarantined.

In both cases rows read = rows loaded (0) + rows quarantined holds and nothing is loaded. A
header-only file with such a header, or without a key or required column, has no record to
quarantine: its report (rows 0, `rejected`) carries the reason in `warnings`. Errors that
are not about the file's content (the landing file vanishing, a full disk) still raise.
Python's csv field limit (131,072 characters by default) is raised to DuckDB's line limit, so
a long text field loads; a line over DuckDB's limit quarantines its record only.

Column names: dlt normalises every column name with its naming convention (snake_case;
`Partner Tier__c` lands as `partner_tier__c`). Header names that land in the same warehouse
column (`Stage Name` next to `stage_name`, `ID` next to `id`, `Close Date` in a file without
the contract's `close_date`, or a spelling of a lineage column) would make dlt fail the load
of the whole source, naming neither file nor column (or, for `Close Date`, load its text
uncast into the contract's column). Like a missing key column, such a file is readable but
none of its rows can be loaded: every record is quarantined with a reason naming the header
spellings and the warehouse column, and the source's other files and tables load. The
load report's `new_columns` names each new column as it lands in the warehouse, with the
header spelling when it differs: `partner_tier__c (header 'Partner Tier__c')`.

DuckDB reads the columns under positional names (`field_0`, ...), so header names that
DuckDB would take for the same identifier (it ignores case) or for one of the reader's own
columns are never a problem while reading.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO, TextIO

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.common.normalizers.naming.snake_case import NamingConvention

from sros.config import duckdb_memory_limit
from sros.contracts import RAW_TYPES, TableContract
from sros.sql import sql_string

SOURCE_FILE_COLUMN = "_sros_source_file"
ROW_NUMBER_COLUMN = "_sros_row_number"
# Added by ingestion (sros.ingest.pipeline) to the rows of a table with `_fivetran_synced`: the
# order of a record's versions within one load (the sync time, then the file).
VERSION_ORDER_COLUMN = "_sros_version_order"
DEFAULT_ENCODING = "utf-8"
# The quarantine row of a file whose records cannot be told apart: the file, not a record.
WHOLE_FILE_ROW = 0
# DuckDB's read_csv line limit (its default, written out); a longer line is a reject.
MAX_LINE_SIZE = 2_000_000
# How many passed rows the reader hands on at a time (each a dlt item).
BATCH_ROWS = 500_000
# How much of a file rejected whole the quarantine keeps in raw_bytes.
RAW_BYTES_LIMIT = 16 * 1024 * 1024
# What "leading and trailing whitespace" of a key means.
_WHITESPACE = " \t\n\r\x0b\x0c\u00a0"
# DuckDB reject types whose csv_line is not the record's exact text.
_LOSSY_REJECTS = ("INVALID ENCODING", "LINE SIZE OVER MAXIMUM")
_BIGINT_RANGE = (-(2**63), 2**63 - 1)

# Python's csv module refuses fields over 131,072 characters by default, which failed whole
# files that DuckDB reads; the independent count must read every record DuckDB can.
csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))

# dlt's default naming convention, which the landing pipelines use (a test checks this).
_NAMING = NamingConvention()


class LandingFileError(ValueError):
    """A landing file cannot be read as a whole; the reader quarantines it whole."""


class _Undelimitable(LandingFileError):
    """...and its records cannot be told apart: one quarantine row for the whole file."""


@dataclass
class FileReadResult:
    """What one landing file gave: the rows that passed, the rows to quarantine and the file's
    report.

    The passed rows wait in a Parquet file in a scratch directory of their own, never whole in
    memory: `batches()` hands them on `BATCH_ROWS` at a time (what ingestion gives dlt), and
    `rows` reads them whole (for small tables and tests). `close()` removes the scratch
    directory (so does garbage collection)."""

    quarantine: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)
    rows_file: Path | None = None  # the passed rows, under positional column names
    names: list[str] = field(default_factory=list)  # the rows' column names, in order
    key_columns: tuple[str, ...] = ()  # declared not null: an empty key was quarantined
    scratch: tempfile.TemporaryDirectory | None = field(default=None, repr=False)

    @property
    def num_rows(self) -> int:
        return pq.ParquetFile(self.rows_file).metadata.num_rows if self.rows_file else 0

    def batches(self, columns: list[str] | None = None) -> Iterator[pa.Table]:
        """The passed rows in file order, at most BATCH_ROWS at a time (`columns`: a subset)."""
        if not self.rows_file:
            return
        wanted = columns or self.names
        positions = [f"c{self.names.index(name)}" for name in wanted]
        parquet = pq.ParquetFile(self.rows_file)
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=positions):
            rows = pa.Table.from_batches([batch]).rename_columns(wanted)
            yield rows.cast(
                pa.schema(
                    column.with_nullable(column.name not in self.key_columns)
                    for column in rows.schema
                )
            )

    @property
    def rows(self) -> pa.Table:
        """The passed rows, whole."""
        return self.table()

    def table(self, columns: list[str] | None = None) -> pa.Table:
        """The passed rows (`columns`: a subset), whole."""
        batches = list(self.batches(columns))
        if not batches:
            return pa.table({})
        return pa.concat_tables(batches)

    def close(self) -> None:
        if self.scratch is not None:
            self.scratch.cleanup()
            self.scratch, self.rows_file = None, None


def key_in_several(results: list[FileReadResult], key: tuple[str, ...]) -> bool:
    """Whether a value of `key` is in the passed rows of more than one of `results` (files of
    one table). Within one file a key passes once (`_flag_shared_keys`), so when this is false
    the files' rows together hold each key once. DuckDB groups the keys within
    SROS_DUCKDB_MEMORY_LIMIT and spills beyond it, so any number of rows fits."""
    with_rows = [result for result in results if result.num_rows]
    if len(with_rows) < 2:
        return False
    selects = [
        "select "
        + ", ".join(f"c{result.names.index(column)} as {_quote(column)}" for column in key)
        + f" from read_parquet({sql_string(str(result.rows_file))})"
        for result in with_rows
    ]
    with tempfile.TemporaryDirectory(prefix="sros-keys-") as scratch:
        connection = _connect(Path(scratch))
        try:
            shared = connection.execute(
                f"select 1 from ({' union all '.join(selects)}) "
                f"group by {', '.join(map(_quote, key))} having count(*) > 1 limit 1"
            ).fetchone()
        finally:
            connection.close()
    return shared is not None


@dataclass(frozen=True)
class _View:
    """The CSV bytes DuckDB and the csv module read: the landing file itself when it is UTF-8
    (gzip-compressed or not), else a temporary UTF-8 transcoding of it, in which a byte that
    did not decode is kept as itself (so DuckDB rejects its record as invalid UTF-8)."""

    path: Path
    compressed: bool
    encoding: str  # the landing file's configured encoding
    transcoded: bool

    def open_bytes(self) -> BinaryIO:
        return gzip.open(self.path, "rb") if self.compressed else self.path.open("rb")

    def open_text(self) -> TextIO:
        return io.TextIOWrapper(
            self.open_bytes(), encoding="utf-8-sig", errors="surrogateescape", newline=""
        )

    def original_bytes(self, data: bytes) -> bytes:
        """The landing file's bytes for bytes of this view."""
        if not self.transcoded:
            return data
        return data.decode("utf-8", "surrogateescape").encode(self.encoding, "surrogateescape")


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def _is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(".parquet")


@contextmanager
def _csv_view(path: Path, encoding: str) -> Iterator[_View]:
    """The file as UTF-8 CSV: itself, or transcoded (streaming) to a temporary file."""
    compressed = path.name.lower().endswith(".gz")
    if _is_utf8(encoding):
        yield _View(path, compressed, encoding, transcoded=False)
        return
    with tempfile.TemporaryDirectory(prefix="sros-transcode-") as folder:
        target = Path(folder) / "utf8.csv"
        decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")
        with (
            _View(path, compressed, encoding, False).open_bytes() as source,
            target.open("wb") as out,
        ):
            while chunk := source.read(1 << 20):
                out.write(decoder.decode(chunk).encode("utf-8", "surrogateescape"))
            out.write(decoder.decode(b"", final=True).encode("utf-8", "surrogateescape"))
        yield _View(target, False, encoding, transcoded=True)


def _view_of(path: Path | _View) -> _View:
    return (
        path if isinstance(path, _View) else _View(path, path.name.endswith(".gz"), "utf-8", False)
    )


def read_header(path: Path | _View) -> list[str]:
    """The header row ([] for an empty file)."""
    with _view_of(path).open_text() as handle:
        return next(csv.reader(handle), [])


def count_records(path: Path | _View, chunk_bytes: int = 1 << 24) -> int:
    """The number of data records, counted by Python's csv parser (a second, independent
    parser, so the load report's reconciliation means something). A file without a quote
    or a carriage return is counted by its lines instead (_count_plain_records), which is
    the same number, ten times faster."""
    view = _view_of(path)
    plain = _count_plain_records(view, chunk_bytes)
    if plain is not None:
        return plain
    with view.open_text() as handle:
        reader = csv.reader(handle)
        next((record for record in reader if record), None)  # the header
        return sum(1 for record in reader if record)


def _count_plain_records(view: _View, chunk_bytes: int) -> int | None:
    """The data records of a file holding no double quote and no carriage return, or None
    for any other file. Without quotes and CRs the csv module ends a record at each LF and
    nothing else, and skips exactly the empty lines, so its count is the number of non-empty
    lines less the header. (In UTF-8 and in surrogate-escaped bytes, LF, CR and the quote
    never occur inside a multi-byte character.)"""
    lines = blank = 0
    previous = b"\n"  # a LF first in the file would end an empty first line
    last = b""
    with view.open_bytes() as handle:
        start = handle.read(len(codecs.BOM_UTF8))  # not part of the first line (utf-8-sig)
        start = start.removeprefix(codecs.BOM_UTF8)
        for chunk in chain([start], iter(lambda: handle.read(chunk_bytes), b"")):
            if not chunk:
                continue
            if b'"' in chunk or b"\r" in chunk:
                return None
            lines += chunk.count(b"\n")
            if previous == b"\n" and chunk[:1] == b"\n":
                blank += 1
            if b"\n\n" in chunk:  # an empty line within the chunk: count each LF after a LF
                blank += len(_LF_AFTER_LF.findall(chunk))
            previous = last = chunk[-1:]
    if last and last != b"\n":
        lines += 1  # the last line has no line ending
    return max(lines - blank - 1, 0)


_LF_AFTER_LF = re.compile(rb"(?<=\n)\n")


def _record_bytes(view: _View, wanted: set[int] | None = None) -> Iterator[tuple[int, bytes]]:
    """(record number, the record's exact bytes in the landing file, without its line ending)
    of the records numbered in `wanted` (all when None), split by the csv module. Read as
    latin-1, one character per byte, so character offsets are byte offsets; the bytes that
    delimit CSV are ASCII, so the split is the same as in UTF-8."""
    with view.open_bytes() as raw:
        text = io.TextIOWrapper(raw, encoding="latin-1", newline="")
        lines: list[str] = []

        def feed() -> Iterator[str]:
            for line in text:
                lines.append(line)
                yield line

        number = -1  # the header is record 0
        for record in csv.reader(feed()):
            chunk = "".join(lines)
            lines.clear()
            if not record:
                continue
            number += 1
            if number == 0 or (wanted is not None and number not in wanted):
                continue
            if chunk.endswith("\r\n"):
                chunk = chunk[:-2]
            elif chunk.endswith(("\n", "\r")):
                chunk = chunk[:-1]
            yield number, view.original_bytes(chunk.encode("latin-1"))


def warehouse_column(name: str) -> str:
    """The warehouse column a header name lands in. dlt normalises the column names of an
    Arrow table with `normalize_path` (snake_case, keeping a `__` such as Salesforce's
    `__c`), so this is what it does here too."""
    return _NAMING.normalize_path(name)


def _text_field(position: int) -> str:
    """The name under which DuckDB reads the header's column at `position`."""
    return f"field_{position}"


def _cast_expression(text: str, data_type: str) -> str:
    """SQL casting the text expression `text` to the contract type (null if it does not)."""
    if data_type == "timestamp":
        # A string with an offset must be moved to UTC; a plain cast to TIMESTAMP would drop it.
        return f"timezone('UTC', try_cast({text} as timestamptz))"
    if data_type == "varchar":
        return text
    return f"try_cast({text} as {RAW_TYPES[data_type]})"


def _misfit_condition(text: str, cast: str, data_type: str) -> str | None:
    """SQL true when the text expression `text` has a value that does not fit `data_type`
    exactly (`cast` is its cast): it does not cast, or casting rounded it or took it out of
    range. DuckDB's casts to DECIMAL and BIGINT round (`1234.567` -> 1234.57, `12.5` -> 13).
    A plain number with no more decimal places than the type has (the usual case, matched by
    a regular expression) fits whenever it casts; any other text (`1234.567`, `12.50`, `1e3`)
    is compared with its cast to the widest decimal with the same integer digits (38 digits
    in all), which is exact but slow, so only those rows pay for it."""
    if data_type == "varchar":
        return None
    decimal = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", RAW_TYPES[data_type])
    if decimal or data_type == "bigint":
        precision, scale = (int(group) for group in decimal.groups()) if decimal else (19, 0)
        places = rf"(\.[0-9]{{0,{scale}}})?" if scale else ""
        plain = sql_string(rf" *[+-]?[0-9]+{places} *")
        exact = f"try_cast({text} as DECIMAL(38,{38 - (precision - scale)}))"
        # A CASE, not AND: DuckDB evaluates a CASE branch only for the rows that reach it.
        return (
            f"({text} is not null and ({cast} is null or case when regexp_full_match({text}, "
            f"{plain}) then false else not coalesce({cast} = {exact}, false) end))"
        )
    if data_type == "double":
        return f"({text} is not null and not coalesce(isfinite({cast}), false))"
    return f"({text} is not null and {cast} is null)"


def _misfit_reason(value: str, data_type: str) -> str:
    """Why `value` does not fit `data_type` (the row was flagged in SQL; this only words it)."""
    text = value.strip()
    decimal = re.fullmatch(r"decimal\((\d+),(\d+)\)", data_type)
    if decimal or data_type == "bigint":
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            if data_type == "bigint":
                if number != number.to_integral_value():
                    return "not a whole number: bigint takes no decimal places (not rounded)"
                if not _BIGINT_RANGE[0] <= number <= _BIGINT_RANGE[1]:
                    return "out of range for bigint (-2^63 to 2^63 - 1)"
            else:
                precision, scale = int(decimal.group(1)), int(decimal.group(2))
                if number.normalize().as_tuple().exponent < -scale:
                    return f"more decimal places than {data_type} allows ({scale}); not rounded"
                if abs(number) >= Decimal(10) ** (precision - scale):
                    return (
                        f"out of range for {data_type}: at most {precision - scale} digits "
                        "before the decimal point"
                    )
    if data_type == "double":
        try:
            number_ = float(text)
        except ValueError:
            number_ = None
        if number_ is not None and number_ != number_:
            return "not a finite number (NaN) for double"
        if number_ is not None and number_ in (float("inf"), float("-inf")):
            return "out of range for double (or infinite)"
    return f"not a valid {data_type}"


def _trimmed(text: str) -> str:
    """SQL for the text expression `text` without leading and trailing whitespace, null when
    nothing is left. Trimming a set of characters is slow in DuckDB, so only values whose
    first or last character is whitespace (cheap tests: `ascii` reads the first character,
    `suffix` compares bytes) are trimmed; a CASE branch runs only for the rows reaching it."""
    codes = ", ".join(str(ord(character)) for character in _WHITESPACE)
    ends = " or ".join(f"suffix({text}, {sql_string(character)})" for character in _WHITESPACE)
    return (
        f"case when ascii({text}) in ({codes}) or {ends} "
        f"then nullif(trim({text}, {sql_string(_WHITESPACE)}), '') else nullif({text}, '') end"
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _record_numbers(n_records: int, rejected: set[int]) -> np.ndarray:
    """Record numbers of the rows DuckDB returned: all of 1..n except the rejected ones, in
    file order (a file with a rejected record was parsed on one thread: `_read_csv_text`)."""
    numbers = np.arange(1, n_records + 1, dtype=np.int64)
    if rejected:
        numbers = numbers[~np.isin(numbers, np.fromiter(rejected, dtype=np.int64))]
    return numbers


def read_landing_file(
    path: Path,
    contract: TableContract,
    *,
    display_name: str | None = None,
    encoding: str = DEFAULT_ENCODING,
) -> FileReadResult:
    """Read, type and validate one landing file: `.csv`, `.csv.gz` (in `encoding`, the
    source's configured encoding) or `.parquet`. `display_name` is how the file is named in
    errors, the quarantine and the report (default: its path). Raises nothing for what the
    file contains: a file that cannot be read is quarantined whole (status `rejected`). A
    setting the reader cannot work with (SROS_DUCKDB_MEMORY_LIMIT) raises ConfigError here,
    before the file is touched: it is no fault of the file, which a run with the setting
    fixed then reads."""
    duckdb_memory_limit()
    name = display_name or str(path)
    report = _new_report(name, datetime.fromtimestamp(path.stat().st_mtime, tz=UTC), contract)
    try:
        if _is_parquet(path):
            try:
                return _read_parquet(path, contract, report)
            except Exception as error:  # isolation: the file, not the source
                return _rejected_file(path, None, contract, report, error, encoding)
        with _csv_view(path, encoding) as view:
            try:
                return _read_csv(view, contract, report)
            except Exception as error:  # isolation: the file, not the source
                return _rejected_file(path, view, contract, report, error, encoding)
    except Exception as error:  # transcoding failed, or rejecting per record
        return _rejected_file(path, None, contract, report, error, encoding)


def _new_report(name: str, modified_at: datetime, contract: TableContract) -> dict:
    return {
        "source_file": name,
        "file_modified_at": modified_at,
        "table_name": contract.name,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "new_columns": "",
        "missing_columns": "",
        "warnings": "",
        "status": "empty",
    }


def _read_csv(view: _View, contract: TableContract, report: dict) -> FileReadResult:
    with view.open_bytes() as handle:
        head = handle.read(1 << 16)
    if b"\x00" in head:
        utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        raise _Undelimitable(
            f"binary content (a NUL byte at byte {head.index(0)}): not a CSV text file"
            + (
                f" in {view.encoding}; it starts with a UTF-16 byte-order mark: set the "
                "source's encoding to utf-16 in sros.yml (sources.<source>.encoding)"
                if utf16
                else ""
            )
        )
    header = read_header(view)
    if not header:
        if count_records(view):
            raise LandingFileError(
                "line 1 is empty and records follow it: the header must be the file's first "
                "line; remove the empty line(s) before it"
            )
        return FileReadResult(report=report)
    _check_header(header, view.encoding)
    # The independent count runs beside DuckDB's parse (which releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as counter:
        counting = counter.submit(count_records, view)
        result = _read_and_validate(view, contract, report, header)
        records_counted = counting.result()
    if records_counted == report["rows_loaded"] + report["rows_quarantined"] + 1:
        _quarantine_truncated_last_record(result, view, header, contract.name)
    return _reconciled(result, records_counted)


def _check_header(header: list[str], encoding: str) -> None:
    """Raise LandingFileError for a header no row can be loaded under."""
    undecodable = [name for name in header if re.search("[\udc80-\udcff]", name)]
    if undecodable:
        shown = [name.encode("utf-8", "surrogateescape") for name in undecodable]
        raise LandingFileError(
            f"the header has bytes that are not valid {encoding} ({shown}); set the source's "
            "encoding in sros.yml (sources.<source>.encoding) if the file is in another one"
        )
    unnamed = [position for position, name in enumerate(header, 1) if not name.strip()]
    if unnamed:
        raise LandingFileError(
            f"header column {_join([str(position) for position in unnamed])} of {len(header)} "
            f"{'has' if len(unnamed) == 1 else 'have'} no name (a trailing comma on every "
            "line?); every column needs a name: remove the empty column or name it"
        )
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise LandingFileError(
            f"the header names column(s) {duplicated} more than once; rename or drop the "
            "duplicates so that each column has a name of its own"
        )


def _quarantine_truncated_last_record(
    result: FileReadResult, view: _View, header: list[str], table: str
) -> None:
    """Quarantine the last record if the file ends inside a quoted field (a file cut off
    mid-record). DuckDB's reader drops such a record without recording a reject, while the
    csv module returns it, so without this the file would fail to reconcile with no row named.
    """
    with view.open_text() as handle:
        reader = csv.reader(handle)
        n_records, begins, last_begins = 0, 0, 0
        for record in reader:
            if record:
                n_records, last_begins = n_records + 1, begins
            begins = reader.line_num
    if n_records < 2:  # the header is the only record
        return
    with view.open_text() as handle:
        tail = "".join(islice(handle, last_begins, None))
    if not _ends_inside_quotes(tail):
        return
    fields = next(csv.reader(io.StringIO(tail, newline="")))
    last_line = begins  # the csv reader's line count: the file's last line
    column = header[len(fields) - 1] if len(fields) <= len(header) else None
    result.quarantine.append(
        _quarantine_row(
            result.report,
            n_records - 1,
            column,
            fields[-1] if column else None,
            f"unclosed quote: a quoted field of the record starting on line {last_begins + 1} "
            f"is never closed, so the record runs to the end of the file (line {last_line}); "
            "the file looks cut off or has a stray quote",
            tail.rstrip("\r\n"),
        )
    )
    result.report["rows_quarantined"] += 1


def _ends_inside_quotes(text: str) -> bool:
    """Whether an RFC 4180 quoted field is still open at the end of `text`."""
    state = "start"  # start of a field, "unquoted", "quoted" or "quote" (a quote in quotes)
    for char in text:
        if state == "quoted":
            state = "quote" if char == '"' else "quoted"
        elif char in ",\r\n":
            state = "start"
        elif char == '"' and state in ("start", "quote"):
            state = "quoted"
        else:
            state = "unquoted"
    return state == "quoted"


def _read_and_validate(
    source: _View | Path, contract: TableContract, report: dict, header: list[str]
) -> FileReadResult:
    """Read the file's text into DuckDB (a CSV view, or a Parquet file's columns cast to
    text), then type and validate it."""
    missing = [column for column in contract.column_names if column not in header]
    new = [column for column in header if column not in contract.column_names]
    report["missing_columns"] = ",".join(missing)
    report["new_columns"] = ",".join(_new_column_label(column) for column in new)
    report["warnings"] = _misspelled_header_warnings(new, missing, report["source_file"])
    fields = {column: _text_field(position) for position, column in enumerate(header)}

    scratch = tempfile.TemporaryDirectory(prefix="sros-read-")
    rows_file, names = None, []
    connection = _connect(Path(scratch.name))
    try:
        if isinstance(source, _View):
            quarantine = _read_csv_text(connection, source, fields, report)
        else:
            quarantine = []
            connection.execute(
                "create temp table text_rows as select "
                + ", ".join(
                    f"cast(#{position} as varchar) as {_quote(text_field)}"
                    for position, text_field in enumerate(fields.values(), 1)
                )
                + " from read_parquet(?)",
                [str(source)],
            )
        _number_records(connection, {entry["row_number"] for entry in quarantine})

        unloadable = _unloadable_file(header, contract, missing, report["source_file"])
        if unloadable:
            # No row of the file can be loaded; keep every row in quarantine, load none.
            column, reason = unloadable
            quarantine.extend(
                _quarantine_row(report, int(number), column, None, reason, record)
                for number, record in connection.execute(
                    f"select {ROW_NUMBER_COLUMN}, {_record_json(fields)} from numbered order by 1"
                ).fetchall()
            )
            report["rows_loaded"] = 0
            if not quarantine:  # a header-only file: no record to quarantine, so say it here
                report["warnings"] = f"file rejected: {reason}"
        else:
            rows_file = Path(scratch.name) / "passed.parquet"
            names = [*fields, ROW_NUMBER_COLUMN, SOURCE_FILE_COLUMN]
            report["rows_loaded"], value_problems = _type_and_validate(
                connection, contract, fields, report, rows_file
            )
            quarantine.extend(value_problems)
    finally:
        connection.close()

    report["rows_quarantined"] = len({entry["row_number"] for entry in quarantine})
    return FileReadResult(
        quarantine=quarantine,
        report=report,
        rows_file=rows_file,
        names=names,
        key_columns=tuple(contract.primary_key),
        scratch=scratch,
    )


def _connect(scratch: Path) -> duckdb.DuckDBPyConnection:
    """The in-memory DuckDB that reads one file: in UTC, within the memory the build's DuckDB
    has (SROS_DUCKDB_MEMORY_LIMIT), spilling to `scratch` beyond it, so a file of any size
    reads on a machine of any size."""
    connection = duckdb.connect(
        config={"memory_limit": duckdb_memory_limit(), "temp_directory": str(scratch / "spill")}
    )
    connection.execute("set TimeZone = 'UTC'")
    return connection


def _parse_csv_text(
    connection: duckdb.DuckDBPyConnection, view: _View, columns: str, *, parallel: bool
) -> None:
    """(Re)create `text_rows`, every field as text, and record malformed records in DuckDB's
    `reject_errors`."""
    connection.execute(
        f"""
        create or replace temp table text_rows as
        select * from read_csv(
            ?, header = true, auto_detect = false, columns = {columns},
            delim = ',', quote = '"', escape = '"', strict_mode = true,
            store_rejects = true, parallel = {str(parallel).lower()},
            max_line_size = {MAX_LINE_SIZE},
            compression = '{"gzip" if view.compressed else "none"}'
        )
        """,
        [str(view.path)],
    )


def _read_csv_text(
    connection: duckdb.DuckDBPyConnection, view: _View, fields: dict[str, str], report: dict
) -> list[dict]:
    """Create `text_rows` from the CSV view; -> the quarantine rows of its malformed records."""
    columns = (
        "{"
        + ", ".join(f"{sql_string(text_field)}: 'VARCHAR'" for text_field in fields.values())
        + "}"
    )
    # Parsed on every thread first, in half the time (bench/LOG.md): the parallel CSV
    # reader's rowid is the record order (every record of a 1M-lead landing zone numbered as
    # on one thread), unlike the later tables built from these rows, which the copy sorts. A
    # file with a malformed record is parsed again on one thread, whose reports name the
    # record's column where the parallel reader's may not (a file cut inside a quoted field).
    _parse_csv_text(connection, view, columns, parallel=True)
    if connection.execute("select count(*) from reject_errors").fetchone()[0]:
        connection.execute("delete from reject_errors")
        connection.execute("delete from reject_scans")
        _parse_csv_text(connection, view, columns, parallel=False)
    structural = connection.sql(
        f"""
        select line - 1 as row_number, min(error_type) as error_type,
               min(error_message) as message, min(csv_line) as raw_record,
               bool_or(error_type in ({", ".join(map(sql_string, _LOSSY_REJECTS))})) as lossy,
               bool_or(error_type = 'INVALID ENCODING') as undecodable,
               min(column_name) filter (where error_type = 'INVALID ENCODING') as field
        from reject_errors group by line order by line
        """
    ).fetchall()
    lossy = {int(row[0]) for row in structural if row[4]}
    exact = dict(_record_bytes(view, lossy)) if lossy else {}
    columns = {text_field: column for column, text_field in fields.items()}
    quarantine = []
    for row_number, error_type, message, raw_record, _, undecodable, field_ in structural:
        number, raw_bytes = int(row_number), exact.get(int(row_number))
        reason, column = f"malformed row ({error_type.lower()}): {message}", None
        if undecodable:
            reason, column = _undecodable_reason(raw_bytes, view.encoding), columns.get(field_)
        if raw_bytes is not None:
            raw_record = raw_bytes.decode(view.encoding, "replace")
        quarantine.append(
            _quarantine_row(
                report, number, column, None, reason, (raw_record or "").strip("\r\n"), raw_bytes
            )
        )
    return quarantine


def _undecodable_reason(raw_bytes: bytes | None, encoding: str) -> str:
    where = ""
    if raw_bytes is not None:
        try:
            raw_bytes.decode(encoding)
        except UnicodeDecodeError as error:
            bad = raw_bytes[error.start : error.end].hex(" ").upper()
            where = f" (0x{bad} at byte {error.start + 1} of the record)"
    return (
        f"bytes that are not valid {encoding}{where}: the record's exact bytes are kept in "
        "raw_bytes; if the source exports another encoding, set it in sros.yml "
        "(sources.<source>.encoding)"
    )


def _new_column_label(column: str) -> str:
    """A new column as the load report names it: its warehouse name, and the header spelling
    when that differs (`partner_tier__c (header 'Partner Tier__c')`)."""
    landed = warehouse_column(column)
    return landed if landed == column else f"{landed} (header {column!r})"


def _unloadable_file(
    header: list[str], contract: TableContract, missing: list[str], source_file: str
) -> tuple[str, str] | None:
    """(column, reason) if no row of the file can be loaded: header names that land in the
    same warehouse column, or a key or required column (contract `meta.required`) missing
    from the header."""
    clashes = _column_name_clashes(header, contract)
    if clashes:
        # Name the column the file added (the new spelling), else the first one clashing.
        clashing = [name for _, names in clashes for name, where in names if where == "header"]
        column = next((c for c in clashing if c not in contract.column_names), clashing[0])
        described = "; ".join(
            _join([_describe_name(name, where) for name, where in names])
            + f" would {'both' if len(names) == 2 else 'all'} land in warehouse column "
            + repr(landed)
            for landed, names in clashes
        )
        return column, (
            f"column names clash: {described} (dlt normalises column names to snake_case); "
            "rename or drop header columns so that each lands in a column of its own"
        )
    missing_keys = [key for key in contract.primary_key if key in missing]
    if missing_keys:
        return missing_keys[0], (
            f"required key column {missing_keys[0]!r} is missing from the header"
        )
    missing_required = [column for column in contract.required_columns if column in missing]
    if missing_required:
        return missing_required[0], (
            f"required column{'s' if len(missing_required) > 1 else ''} "
            f"{_join([repr(column) for column in missing_required])} "
            f"{'are' if len(missing_required) > 1 else 'is'} missing from the header of "
            f"{source_file} (contract {contract.source}.{contract.name}, meta.required: the "
            "models need a value in every row); add the column to the export"
        )
    return None


def _column_name_clashes(
    header: list[str], contract: TableContract
) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each warehouse column that more than one name would land in: the header's columns,
    the contract's columns the header lacks (dlt creates them from the contract) and the
    lineage columns the reader adds. -> [(warehouse column, [(name, where)])], where is
    "header", "contract" or "lineage"; in header order."""
    claims: dict[str, list[tuple[str, str]]] = {}
    for column, where in [
        *((column, "header") for column in header),
        *((column, "contract") for column in contract.column_names if column not in header),
        (SOURCE_FILE_COLUMN, "lineage"),
        (ROW_NUMBER_COLUMN, "lineage"),
        *(
            [(VERSION_ORDER_COLUMN, "lineage")]
            if "_fivetran_synced" in contract.column_names
            else []
        ),
    ]:
        claims.setdefault(warehouse_column(column), []).append((column, where))
    return [(landed, names) for landed, names in claims.items() if len(names) > 1]


def _describe_name(name: str, where: str) -> str:
    if where == "header":
        return f"header {name!r}"
    if where == "contract":
        return f"the contract's column {name!r} (not in this header)"
    return f"the lineage column {name!r} added by ingestion"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _record_json(fields: dict[str, str]) -> str:
    """SQL for a record as a JSON object of header name -> the field's text (empty: "")."""
    pairs = ", ".join(
        f"{sql_string(column)}, coalesce({_quote(field)}, '')" for column, field in fields.items()
    )
    return f"json_object({pairs})::varchar"


def _reconciled(result: FileReadResult, records_counted: int) -> FileReadResult:
    """Fill in rows read (the independent count) and the status; a file whose rows do not
    add up raises LandingFileError (and is quarantined whole)."""
    report = result.report
    loaded, quarantined = report["rows_loaded"], report["rows_quarantined"]
    report["rows_read"] = records_counted
    report["status"] = (
        "rejected"
        if (loaded == 0 and quarantined) or report["warnings"].startswith("file rejected: ")
        else "loaded_with_rejects"
        if quarantined
        else "loaded"
        if loaded
        else "empty"
    )
    if records_counted != loaded + quarantined:
        raise LandingFileError(
            f"rows do not reconcile: the csv parser read {records_counted} records, "
            f"but {loaded} passed and {quarantined} were quarantined; the file may use a "
            "delimiter or quoting other than RFC 4180 CSV"
        )
    return result


def _quarantine_row(
    report: dict,
    row_number: int,
    column: str | None,
    value: str | None,
    reason: str,
    raw_record: str | None = None,
    raw_bytes: bytes | None = None,
) -> dict:
    return {
        "source_file": report["source_file"],
        "file_modified_at": report["file_modified_at"],
        "table_name": report["table_name"],
        "row_number": row_number,
        "column_name": column,
        "value": value,
        "reason": reason,
        "raw_record": raw_record,
        "raw_bytes": raw_bytes,
    }


def _rejection_reason(error: Exception, encoding: str) -> str:
    """`file rejected: ...`: what kept the file from being read, and what to do."""
    if isinstance(error, LandingFileError):
        what = str(error)
    elif isinstance(error, UnicodeError):
        what = f"it does not transcode from {encoding}: {error}"
    elif isinstance(error, gzip.BadGzipFile | EOFError):
        what = f"not a readable gzip file: {error}"
    elif isinstance(error, csv.Error):
        what = f"the csv parser failed: {error}"
    elif isinstance(error, duckdb.Error | pa.ArrowException):
        what = f"it could not be read: {str(error).splitlines()[0]}"
    else:
        what = f"the reader failed on it ({type(error).__name__}: {error})"
    return (
        f"file rejected: {what.rstrip('.')}. Nothing of it was loaded; fix the file and land "
        "it again"
    )


def _rejected_file(
    path: Path,
    view: _View | None,
    contract: TableContract,
    report: dict,
    error: Exception,
    encoding: str,
) -> FileReadResult:
    """Quarantine a file whole: every record with its CSV text when the csv module can split
    it, else the whole file as one row (WHOLE_FILE_ROW) with its bytes. Raises nothing."""
    reason = _rejection_reason(error, encoding)
    quarantine: list[dict] | None = None
    if view is not None and not isinstance(error, _Undelimitable):
        try:
            quarantine = []
            for number, raw in _record_bytes(view):
                text = raw.decode(encoding, "replace")
                exact = text.encode(encoding, "replace") == raw
                quarantine.append(
                    _quarantine_row(
                        report, number, None, None, reason, text, None if exact else raw
                    )
                )
        except Exception:  # the records cannot be told apart either
            quarantine = None
    if quarantine is None:
        try:
            with path.open("rb") as handle:
                raw = handle.read(RAW_BYTES_LIMIT + 1)
            size = path.stat().st_size
        except OSError as unreadable:
            raw, size = None, 0
            reason += f" ({unreadable})"
        if raw is not None and len(raw) > RAW_BYTES_LIMIT:
            raw = raw[:RAW_BYTES_LIMIT]
            reason += f" (raw_bytes holds its first {RAW_BYTES_LIMIT} of {size} bytes)"
        quarantine = [_quarantine_row(report, WHOLE_FILE_ROW, None, None, reason, None, raw)]
    report.update(
        rows_read=len(quarantine),
        rows_loaded=0,
        rows_quarantined=len(quarantine),
        status="rejected",
        warnings="" if quarantine else reason,
    )
    return FileReadResult(quarantine=quarantine, report=report)


def _read_parquet(path: Path, contract: TableContract, report: dict) -> FileReadResult:
    """A Parquet file: columns by name, cast from their text with the CSV rules; rows read is
    the count in the file's metadata."""
    parquet = pq.ParquetFile(path)
    header = parquet.schema_arrow.names
    rows_read = parquet.metadata.num_rows
    if not header:
        return FileReadResult(report=report)
    _check_header(header, "utf-8")
    return _reconciled(_read_and_validate(path, contract, report, header), rows_read)


def _number_records(connection: duckdb.DuckDBPyConnection, rejected: set[int]) -> None:
    """Create `numbered`: the read rows with their record number in the file. Rejected records
    are missing from the read rows, so numbers after one skip it."""
    if not rejected:
        connection.execute(
            f"create temp view numbered as "
            f"select *, rowid + 1 as {ROW_NUMBER_COLUMN} from text_rows"
        )
        return
    n_read = connection.execute("select count(*) from text_rows").fetchone()[0]
    numbers = _record_numbers(n_read + len(rejected), rejected)
    connection.register(
        "record_numbers",
        pa.table({"read_position": np.arange(n_read, dtype=np.int64), "record_number": numbers}),
    )
    connection.execute(
        f"create temp table numbered as "
        f"select text_rows.*, record_numbers.record_number as {ROW_NUMBER_COLUMN} "
        f"from text_rows join record_numbers on text_rows.rowid = record_numbers.read_position"
    )


def _type_and_validate(
    connection: duckdb.DuckDBPyConnection,
    contract: TableContract,
    fields: dict[str, str],
    report: dict,
    rows_file: Path,
) -> tuple[int, list[dict]]:
    """Cast every contract column, and quarantine rows with a value that does not fit its
    type exactly, an empty key, a key already seen earlier in the same file, or (in a
    case-insensitive key column) a key that differs only by case from another row's. Key
    values are trimmed first. Warn about a ratio column that looks like the other unit.
    `fields` maps each header name to the name DuckDB read it under.

    One vectorised pass flags bad rows; the (usually few) flagged rows are then described
    column by column. The passed rows are written to `rows_file` (Parquet, columns named
    c0, c1, ... in header order, then the record number and the source file); -> how many
    passed, and the quarantine rows.
    """
    keys = {column: _trimmed(_quote(fields[column])) for column in contract.primary_key}
    typed_columns, failures = [], []
    for column, text_field in fields.items():
        quoted = _quote(text_field)
        if column not in contract.column_names:
            typed_columns.append(quoted)  # schema drift: a new column lands as text
            continue
        data_type = contract.column(column).data_type
        text = keys.get(column, quoted)
        expression = _cast_expression(text, data_type)
        typed_columns.append(f"{expression} as {quoted}")
        condition = _misfit_condition(text, expression, data_type)
        if condition:
            failures.append((column, data_type, condition))

    # A required column (contract meta.required) that is empty or only whitespace.
    empty_required = [
        (column, f"{_trimmed(_quote(fields[column]))} is null")
        for column in contract.required_columns
        if column in fields
    ]
    key_is_null = " or ".join(f"{expression} is null" for expression in keys.values())
    is_bad = " or ".join(
        [key_is_null]
        + [condition for _, condition in empty_required]
        + [condition for *_, condition in failures]
    )
    connection.execute(
        f"""
        create temp table checked as
        select
            {", ".join(typed_columns)},
            {ROW_NUMBER_COLUMN},
            null::bigint as first_row_with_key,
            false as case_conflict,
            ({is_bad}) as is_bad
        from numbered
        """
    )
    _flag_shared_keys(connection, contract, fields)
    quarantine = _describe_bad_rows(
        connection, contract, fields, keys, failures, empty_required, report
    )
    report["warnings"] = "; ".join(
        warning
        for warning in (
            report["warnings"],
            _unit_warnings(connection, contract, fields, report["source_file"]),
        )
        if warning
    )
    columns = [*map(_quote, fields.values()), ROW_NUMBER_COLUMN]
    # The sort is needed: `checked`, created on several threads, does not keep the file's
    # order (tests/test_ingestion.py::test_a_large_file_goes_on_in_file_order).
    connection.execute(
        "copy (select "
        + ", ".join(f"{column} as c{position}" for position, column in enumerate(columns))
        + f", {sql_string(report['source_file'])} as c{len(columns)} "
        f"from checked where not is_bad order by {ROW_NUMBER_COLUMN}) "
        f"to {sql_string(str(rows_file))} (format parquet)"
    )
    return pq.ParquetFile(rows_file).metadata.num_rows, quarantine


def _flag_shared_keys(
    connection: duckdb.DuckDBPyConnection, contract: TableContract, fields: dict[str, str]
) -> None:
    """Flag in `checked` the rows sharing a key with an earlier row (`first_row_with_key`),
    and the rows of a key spelled in more than one case (`case_conflict`). Keys are compared
    as `checked` holds them (trimmed, typed), in lower case where the contract's column is
    case-insensitive. The groups are found from the materialised key columns, and only the
    (usually no) rows of a group are updated."""
    key_columns = [
        (_quote(fields[column]), not contract.column(column).case_sensitive)
        for column in contract.primary_key
    ]
    normalised = [
        f"lower(checked.{key})" if insensitive else f"checked.{key}"
        for key, insensitive in key_columns
    ]
    aliases = [f"key_{position}" for position in range(len(key_columns))]
    spellings = [
        f"min(checked.{key}) <> max(checked.{key})"
        for key, insensitive in key_columns
        if insensitive
    ]
    # Explicit positions: with GROUP BY ALL, a HAVING on a key would group by the raw column.
    connection.execute(
        "create temp table key_groups as select * exclude (rows_with_key) from (select "
        + ", ".join(f"{expr} as {alias}" for expr, alias in zip(normalised, aliases, strict=True))
        + f", min(checked.{ROW_NUMBER_COLUMN}) as first_row_with_key, "
        "false as case_conflict, count(*) as rows_with_key "
        f"from checked group by {', '.join(str(n) for n in range(1, len(aliases) + 1))}) "
        "where rows_with_key > 1 and " + " and ".join(f"{alias} is not null" for alias in aliases)
    )
    if not connection.execute("select count(*) from key_groups").fetchone()[0]:
        return
    on_key = " and ".join(
        f"{expr} = key_groups.{alias}" for expr, alias in zip(normalised, aliases, strict=True)
    )
    if spellings:  # only the rows of shared keys: a group is spelled two ways
        keys = ", ".join(f"key_groups.{alias}" for alias in aliases)
        connection.execute(
            f"update key_groups set case_conflict = true where ({keys}) in (select ({keys}) "
            f"from checked join key_groups on {on_key} group by all "
            f"having {' or '.join(spellings)})"
        )
    connection.execute(
        f"""
        update checked set
            first_row_with_key = key_groups.first_row_with_key,
            case_conflict = key_groups.case_conflict,
            is_bad = checked.is_bad or key_groups.case_conflict
                or key_groups.first_row_with_key <> checked.{ROW_NUMBER_COLUMN}
        from key_groups where {on_key}
        """
    )


def _misspelled_header_warnings(new: list[str], missing: list[str], source_file: str) -> str:
    """A new column whose name is a near miss of a contract column the file lacks (`industy`
    for `industry`): it loads as a column of its own and the contract's stays empty, so the
    load report warns (`no_load_warnings`). `; `-separated, "" when none."""
    warnings = []
    for column in new:
        close = difflib.get_close_matches(column.lower(), missing, n=1, cutoff=0.8)
        if close:
            warnings.append(
                f"{source_file}: header {column!r} is not a contract column and looks like "
                f"{close[0]!r}, which the file lacks: {close[0]} loads empty; correct the "
                "header if it is a typo"
            )
    return "; ".join(warnings)


def _unit_warnings(
    connection: duckdb.DuckDBPyConnection,
    contract: TableContract,
    fields: dict[str, str],
    source_file: str,
) -> str:
    """The load report's warnings: ratio columns (contract `unit`) whose loaded values all
    look like the other unit. `; `-separated, "" when none."""
    columns = [
        column
        for column in contract.columns
        if column.unit and column.name in fields and column.data_type != "varchar"
    ]
    if not columns:
        return ""
    aggregates = ", ".join(
        f"count({c}), count({c}) filter (where {c} between 0 and 1), "
        f"count({c}) filter (where {c} > 0), count({c}) filter (where {c} > 1), max({c})"
        for c in (_quote(fields[column.name]) for column in columns)
    )
    counts = connection.execute(f"select {aggregates} from checked where not is_bad").fetchone()
    warnings = []
    for position, column in enumerate(columns):
        n, fractions, positive, above_one, largest = counts[5 * position : 5 * position + 5]
        if column.unit == "percent" and n and fractions == n and positive:
            warnings.append(
                f"{source_file}: {column.name}: all {n} values are between 0 and 1 (largest "
                f"{largest:g}); the contract says percent (0-100): was a fraction exported?"
            )
        if column.unit == "fraction" and above_one:
            warnings.append(
                f"{source_file}: {column.name}: {above_one} of {n} values are above 1 "
                f"(largest {largest:g}); the contract says fraction (0-1): was a percentage "
                "exported?"
            )
    return "; ".join(warnings)


def _describe_bad_rows(
    connection: duckdb.DuckDBPyConnection,
    contract: TableContract,
    fields: dict[str, str],
    keys: dict[str, str],
    failures: list[tuple[str, str, str]],
    empty_required: list[tuple[str, str]],
    report: dict,
) -> list[dict]:
    """One quarantine row per problem of each flagged row, each with the whole record.
    `failures` are (column, type, SQL true when the value does not fit), `empty_required`
    (column, SQL true when the required column is empty)."""
    bad_rows = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, first_row_with_key, case_conflict from checked where is_bad"
    ).fetchall()
    if not bad_rows:
        return []
    first_seen = {int(row): first for row, first, _ in bad_rows}
    conflicts = _case_conflicts(connection, contract, keys) if any(c for *_, c in bad_rows) else {}
    raw_keys = ", ".join(_quote(fields[column]) for column in contract.primary_key)
    trimmed_keys = ", ".join(keys.values())
    value_checks = "".join(
        f", case when {condition} then {_quote(fields[column])} end"
        for column, _, condition in failures
    ) + "".join(
        f", case when {condition} then coalesce({_quote(fields[column])}, '') end"
        for column, condition in empty_required
    )
    selected = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, {_record_json(fields)}, {raw_keys}, {trimmed_keys}"
        f"{value_checks} from numbered where {ROW_NUMBER_COLUMN} in (select "
        f"{ROW_NUMBER_COLUMN} from checked where is_bad) order by 1"
    ).fetchall()
    n_keys = len(contract.primary_key)
    key_column = contract.primary_key[0]
    quarantine = []
    for record in selected:
        row, raw_record = int(record[0]), record[1]
        raw = record[2 : 2 + n_keys]
        trimmed = record[2 + n_keys : 2 + 2 * n_keys]
        values = record[2 + 2 * n_keys : 2 + 2 * n_keys + len(failures)]
        empty = {  # required column -> its blank value ("" when the field was empty)
            column: value
            for (column, _), value in zip(
                empty_required, record[2 + 2 * n_keys + len(failures) :], strict=True
            )
            if value is not None
        }
        problems = []
        if any(value is None for value in trimmed):
            problems.append((key_column, raw[0], "primary key is empty"))
        elif row in conflicts:
            problems.append((key_column, raw[0], conflicts[row]))
        elif first_seen[row] not in (None, row):
            problems.append(
                (
                    key_column,
                    raw[0],
                    f"duplicate primary key ({', '.join(trimmed)}) first seen at row "
                    f"{first_seen[row]}",
                )
            )
        problems.extend(
            (
                column,
                value,
                f"required column {column!r} is empty (contract meta.required: the models "
                "need a value in every row)",
            )
            for column, value in empty.items()
        )
        problems.extend(
            (column, value, _misfit_reason(value, data_type))
            for (column, data_type, _), value in zip(failures, values, strict=True)
            if value is not None and column not in empty  # a blank is "empty", not a misfit
        )
        quarantine.extend(
            _quarantine_row(report, row, column, value, reason, raw_record)
            for column, value, reason in problems
        )
    return quarantine


def _case_conflicts(
    connection: duckdb.DuckDBPyConnection, contract: TableContract, keys: dict[str, str]
) -> dict[int, str]:
    """Row -> the reason of each row whose key differs only by case from another row's (in
    case-insensitive key columns), naming the other rows and their spellings."""
    rows = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, {', '.join(keys.values())} from numbered "
        f"where {ROW_NUMBER_COLUMN} in (select {ROW_NUMBER_COLUMN} from checked "
        "where case_conflict) order by 1"
    ).fetchall()
    insensitive = [c for c in contract.primary_key if not contract.column(c).case_sensitive]
    groups: dict[tuple, list[tuple[int, tuple]]] = {}
    for row, *key in rows:
        normalised = tuple(
            value.lower() if not contract.column(column).case_sensitive else value
            for column, value in zip(contract.primary_key, key, strict=True)
        )
        groups.setdefault(normalised, []).append((int(row), tuple(key)))
    reasons = {}
    for members in groups.values():
        for row, key in members:
            others = _join(
                [
                    f"row {other} ({', '.join(repr(value) for value in other_key)})"
                    for other, other_key in members
                    if other != row
                ]
            )
            reasons[row] = (
                f"primary key ({', '.join(repr(value) for value in key)}) conflicts with "
                f"{others}: the keys differ only by case and {_join(insensitive)} "
                f"{'is' if len(insensitive) == 1 else 'are'} case-insensitive (contract meta "
                "case_sensitive: false, e.g. Salesforce 18-character ids), so the rows are one "
                "record spelled differently; which is right cannot be told, so none is loaded"
            )
    return reasons
