"""Read one landing file against its table contract.

A landing file is a CSV export (header row, RFC 4180 quoting, UTF-8 with or without BOM, LF
or CRLF). Reading it gives three things:

- the rows that pass, typed as the contract says (timestamps converted to UTC), plus two
  lineage columns: `_sros_source_file` and `_sros_row_number` (the record's number in the
  file, 1 = first record after the header);
- the rejected rows, one quarantine row per problem, naming file, row, column, value and
  reason;
- a load-report row that reconciles rows read = rows passed + rows quarantined, where rows
  read is counted by an independent parser (Python's csv module).

DuckDB does the parsing: its CSV reader with `store_rejects` records structurally broken rows
(too few or too many fields, bad quoting), and `try_cast` finds values that do not fit their
column type. One structural problem DuckDB drops without a reject: a quoted field still open
at the end of the file (a file cut off mid-record); that last record is quarantined here.
Nothing is dropped silently.
"""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from sros.contracts import RAW_TYPES, TableContract

SOURCE_FILE_COLUMN = "_sros_source_file"
ROW_NUMBER_COLUMN = "_sros_row_number"


class LandingFileError(ValueError):
    """A landing file cannot be read at all (e.g. no header row)."""


@dataclass
class FileReadResult:
    """What one landing file gave: rows to load, rows to quarantine and the file's report."""

    rows: pa.Table
    quarantine: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)


def read_header(path: Path) -> list[str]:
    """The header row ([] for an empty file)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        return next(csv.reader(handle), [])


def count_records(path: Path) -> int:
    """The number of data records, counted by Python's csv parser (a second, independent
    parser, so the load report's reconciliation means something)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        next(reader, None)
        return sum(1 for record in reader if record)


def _cast_expression(column: str, data_type: str) -> str:
    quoted = _quote(column)
    if data_type == "timestamp":
        # A string with an offset must be moved to UTC; a plain cast to TIMESTAMP would drop it.
        return f"timezone('UTC', try_cast({quoted} as timestamptz))"
    if data_type == "varchar":
        return quoted
    return f"try_cast({quoted} as {RAW_TYPES[data_type]})"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _record_numbers(n_records: int, rejected: set[int]) -> np.ndarray:
    """Record numbers of the rows DuckDB returned: all of 1..n except the rejected ones, in
    file order (the reader runs single-threaded, so order is preserved)."""
    numbers = np.arange(1, n_records + 1, dtype=np.int64)
    if rejected:
        numbers = numbers[~np.isin(numbers, np.fromiter(rejected, dtype=np.int64))]
    return numbers


def read_landing_file(
    path: Path, contract: TableContract, *, display_name: str | None = None
) -> FileReadResult:
    """Read, type and validate one landing file. `display_name` is how the file is named in
    errors, the quarantine and the report (default: its path)."""
    name = display_name or str(path)
    header = read_header(path)
    # The independent count runs beside DuckDB's parse (which releases the GIL).
    with ThreadPoolExecutor(max_workers=1) as counter:
        counting = counter.submit(count_records, path)
        result = _read_and_validate(path, contract, name, header)
        records_counted = counting.result()
    report = result.report
    if records_counted == report["rows_loaded"] + report["rows_quarantined"] + 1:
        _quarantine_truncated_last_record(result, path, header, contract.name)
    return _reconciled(result, records_counted, name)


def _quarantine_truncated_last_record(
    result: FileReadResult, path: Path, header: list[str], table: str
) -> None:
    """Quarantine the last record if the file ends inside a quoted field (a file cut off
    mid-record). DuckDB's reader drops such a record without recording a reject, while the
    csv module returns it, so without this the file would fail to reconcile with no row named.
    """
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        n_records, begins, last_begins = 0, 0, 0
        for record in reader:
            if record:
                n_records, last_begins = n_records + 1, begins
            begins = reader.line_num
    if n_records < 2:  # the header is the only record
        return
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        tail = "".join(islice(handle, last_begins, None))
    if not _ends_inside_quotes(tail):
        return
    fields = next(csv.reader(io.StringIO(tail, newline="")))
    last_line = begins  # the csv reader's line count: the file's last line
    column = header[len(fields) - 1] if len(fields) <= len(header) else None
    result.quarantine.append(
        _quarantine_row(
            result.report["source_file"],
            result.report["file_modified_at"],
            table,
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
    path: Path, contract: TableContract, name: str, header: list[str]
) -> FileReadResult:
    modified_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    report = {
        "source_file": name,
        "file_modified_at": modified_at,
        "table_name": contract.name,
        "rows_read": 0,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "new_columns": "",
        "missing_columns": "",
        "status": "empty",
    }
    if not header:
        return FileReadResult(rows=pa.table({}), report=report)

    duplicated = sorted({column for column in header if header.count(column) > 1})
    if duplicated:
        raise LandingFileError(f"{name}: header names column(s) {duplicated} more than once")
    missing = [column for column in contract.column_names if column not in header]
    new = [column for column in header if column not in contract.column_names]
    report["missing_columns"] = ",".join(missing)
    report["new_columns"] = ",".join(new)

    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        columns = "{" + ", ".join(f"{_literal(column)}: 'VARCHAR'" for column in header) + "}"
        # Single-threaded, so the table's rowid follows the file's record order.
        connection.execute(
            f"""
            create temp table text_rows as
            select * from read_csv(
                ?, header = true, auto_detect = false, columns = {columns},
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                store_rejects = true, parallel = false
            )
            """,
            [str(path)],
        )
        structural = connection.sql(
            """
            select line - 1 as row_number, min(error_type) as error_type,
                   min(error_message) as message, min(csv_line) as raw_record
            from reject_errors group by line order by line
            """
        ).fetchall()
        quarantine = [
            _quarantine_row(
                name,
                modified_at,
                contract.name,
                int(row_number),
                None,
                None,
                f"malformed row ({error_type.lower()}): {message}",
                (raw_record or "").strip("\r\n"),
            )
            for row_number, error_type, message, raw_record in structural
        ]
        _number_records(connection, {entry["row_number"] for entry in quarantine})

        missing_keys = [key for key in contract.primary_key if key in missing]
        if missing_keys:
            # Without its key no row can be merged; keep every row in quarantine, load none.
            reason = f"required key column {missing_keys[0]!r} is missing from the header"
            quarantine.extend(
                _quarantine_row(
                    name, modified_at, contract.name, int(number), missing_keys[0], None, reason
                )
                for (number,) in connection.execute(
                    f"select {ROW_NUMBER_COLUMN} from numbered order by 1"
                ).fetchall()
            )
            typed = pa.table({})
        else:
            typed, value_problems = _type_and_validate(
                connection, contract, header, name, modified_at
            )
            quarantine.extend(value_problems)
    finally:
        connection.close()

    quarantined_rows = len({entry["row_number"] for entry in quarantine})
    report["rows_loaded"] = typed.num_rows
    report["rows_quarantined"] = quarantined_rows
    return FileReadResult(rows=typed, quarantine=quarantine, report=report)


def _reconciled(result: FileReadResult, records_counted: int, name: str) -> FileReadResult:
    """Fill in rows read (the independent count) and the status; refuse a file whose rows
    do not add up."""
    report = result.report
    loaded, quarantined = report["rows_loaded"], report["rows_quarantined"]
    report["rows_read"] = records_counted
    report["status"] = (
        "rejected"
        if loaded == 0 and quarantined
        else "loaded_with_rejects"
        if quarantined
        else "loaded"
        if loaded
        else "empty"
    )
    if records_counted != loaded + quarantined:
        raise LandingFileError(
            f"{name}: rows do not reconcile: the csv parser read {records_counted} records, "
            f"but {loaded} passed and {quarantined} were quarantined. The file may use a "
            "delimiter, quoting or encoding other than RFC 4180 UTF-8 CSV."
        )
    return result


def _quarantine_row(
    name: str,
    modified_at: datetime,
    table: str,
    row_number: int,
    column: str | None,
    value: str | None,
    reason: str,
    raw_record: str | None = None,
) -> dict:
    return {
        "source_file": name,
        "file_modified_at": modified_at,
        "table_name": table,
        "row_number": row_number,
        "column_name": column,
        "value": value,
        "reason": reason,
        "raw_record": raw_record,
    }


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
    header: list[str],
    name: str,
    modified_at: datetime,
) -> tuple[pa.Table, list[dict]]:
    """Cast every contract column, and quarantine rows with a value that does not cast, an
    empty key, or a key already seen earlier in the same file.

    One vectorised pass flags bad rows; the (usually few) flagged rows are then described
    column by column.
    """
    typed_columns, failures = [], []
    for column in header:
        quoted = _quote(column)
        if column not in contract.column_names:
            typed_columns.append(quoted)  # schema drift: a new column lands as text
            continue
        data_type = contract.column(column).data_type
        expression = _cast_expression(column, data_type)
        typed_columns.append(f"{expression} as {quoted}")
        if data_type != "varchar":
            failures.append((column, data_type, f"({quoted} is not null and {expression} is null)"))

    key = [_quote(column) for column in contract.primary_key]
    key_aliases = [f"duplicate_key_{position}" for position in range(len(key))]
    connection.execute(
        "create temp table duplicate_keys as select "
        + ", ".join(f"{column} as {alias}" for column, alias in zip(key, key_aliases, strict=True))
        + f", min({ROW_NUMBER_COLUMN}) as first_row_with_key "
        f"from numbered group by all having count(*) > 1"
    )
    has_duplicates = connection.execute("select count(*) from duplicate_keys").fetchone()[0] > 0
    key_is_null = " or ".join(f"numbered.{column} is null" for column in key)
    is_duplicate = (
        f"coalesce(duplicate_keys.first_row_with_key <> numbered.{ROW_NUMBER_COLUMN}, false)"
        if has_duplicates
        else "false"
    )
    join = (
        "left join duplicate_keys on "
        + " and ".join(
            f"numbered.{column} = duplicate_keys.{alias}"
            for column, alias in zip(key, key_aliases, strict=True)
        )
        if has_duplicates
        else ""
    )
    is_bad = " or ".join([key_is_null, is_duplicate] + [condition for *_, condition in failures])
    connection.execute(
        f"""
        create temp table checked as
        select
            {", ".join(typed_columns)},
            {ROW_NUMBER_COLUMN},
            {"duplicate_keys.first_row_with_key" if has_duplicates else "null"}
                as first_row_with_key,
            ({is_bad}) as is_bad
        from numbered {join}
        """
    )
    quarantine = _describe_bad_rows(connection, contract, failures, name, modified_at)
    passed = connection.execute(
        f"select * exclude (is_bad, first_row_with_key), ? as {SOURCE_FILE_COLUMN} "
        f"from checked where not is_bad",
        [name],
    ).to_arrow_table()
    # Rows with an empty key were quarantined, so the key columns are declared not null.
    schema = pa.schema(
        field.with_nullable(False) if field.name in contract.primary_key else field
        for field in passed.schema
    )
    return passed.cast(schema), quarantine


def _describe_bad_rows(
    connection: duckdb.DuckDBPyConnection,
    contract: TableContract,
    failures: list[tuple[str, str, str]],
    name: str,
    modified_at: datetime,
) -> list[dict]:
    """One quarantine row per problem of each flagged row."""
    bad_rows = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, first_row_with_key from checked where is_bad"
    ).fetchall()
    if not bad_rows:
        return []
    first_seen = {int(row): first for row, first in bad_rows}
    key_columns = ", ".join(_quote(column) for column in contract.primary_key)
    value_checks = ", ".join(
        f"case when {condition} then {_quote(column)} end as {_quote('bad:' + column)}"
        for column, _, condition in failures
    )
    selected = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, {key_columns}"
        + (f", {value_checks}" if value_checks else "")
        + f" from numbered where {ROW_NUMBER_COLUMN} in (select {ROW_NUMBER_COLUMN} "
        f"from checked where is_bad) order by 1"
    ).fetchall()
    n_keys = len(contract.primary_key)
    quarantine = []
    for record in selected:
        row, keys, values = int(record[0]), record[1 : 1 + n_keys], record[1 + n_keys :]
        if any(value is None for value in keys):
            quarantine.append(
                _quarantine_row(
                    name,
                    modified_at,
                    contract.name,
                    row,
                    contract.primary_key[0],
                    None,
                    "primary key is empty",
                )
            )
        elif first_seen[row] not in (None, row):
            quarantine.append(
                _quarantine_row(
                    name,
                    modified_at,
                    contract.name,
                    row,
                    contract.primary_key[0],
                    keys[0],
                    f"duplicate primary key ({', '.join(keys)}) first seen at row "
                    f"{first_seen[row]}",
                )
            )
        for (column, data_type, _), value in zip(failures, values, strict=True):
            if value is not None:
                quarantine.append(
                    _quarantine_row(
                        name,
                        modified_at,
                        contract.name,
                        row,
                        column,
                        value,
                        f"not a valid {data_type}",
                    )
                )
    return quarantine
