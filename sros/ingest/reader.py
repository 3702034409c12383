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
column type. Nothing is dropped silently.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


def count_records(path: Path) -> tuple[list[str], int]:
    """The header and the number of data records, counted by Python's csv parser (a second,
    independent parser, so the load report's reconciliation means something)."""
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            return [], 0
        return header, sum(1 for record in reader if record)


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
    header, records_counted = count_records(path)
    modified_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    report = {
        "source_file": name,
        "file_modified_at": modified_at,
        "table_name": contract.name,
        "rows_read": records_counted,
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
        text_rows = connection.sql(
            f"""
            select * from read_csv(
                ?, header = true, auto_detect = false, columns = {columns},
                delim = ',', quote = '"', escape = '"', strict_mode = true,
                store_rejects = true, parallel = false
            )
            """,
            params=[str(path)],
        ).arrow()
        if isinstance(text_rows, pa.RecordBatchReader):
            text_rows = text_rows.read_all()
        structural = connection.sql(
            """
            select line - 1 as row_number, min(error_type) as error_type,
                   min(error_message) as message, min(csv_line) as raw_record
            from reject_errors group by line order by line
            """
        ).fetchall()
        quarantine = [
            {
                "source_file": name,
                "file_modified_at": modified_at,
                "table_name": contract.name,
                "row_number": int(row_number),
                "column_name": None,
                "value": None,
                "reason": f"malformed row ({error_type.lower()}): {message}",
                "raw_record": (raw_record or "").strip("\r\n"),
            }
            for row_number, error_type, message, raw_record in structural
        ]
        rejected = {entry["row_number"] for entry in quarantine}
        n_records = text_rows.num_rows + len(rejected)
        text_rows = text_rows.append_column(
            ROW_NUMBER_COLUMN, pa.array(_record_numbers(n_records, rejected))
        )

        missing_keys = [key for key in contract.primary_key if key in missing]
        if missing_keys:
            # Without its key no row can be merged; keep every row in quarantine, load none.
            quarantine.extend(
                _quarantine_row(
                    name,
                    modified_at,
                    contract.name,
                    int(number),
                    key,
                    None,
                    f"required key column {key!r} is missing from the header",
                )
                for number in text_rows.column(ROW_NUMBER_COLUMN).to_pylist()
                for key in missing_keys[:1]
            )
            typed = pa.table({})
        else:
            typed, value_problems = _type_and_validate(
                connection, text_rows, contract, header, name, modified_at
            )
            quarantine.extend(value_problems)
    finally:
        connection.close()

    quarantined_rows = len({entry["row_number"] for entry in quarantine})
    report["rows_loaded"] = typed.num_rows
    report["rows_quarantined"] = quarantined_rows
    report["status"] = (
        "rejected"
        if typed.num_rows == 0 and quarantined_rows
        else "loaded_with_rejects"
        if quarantined_rows
        else "loaded"
        if typed.num_rows
        else "empty"
    )
    if records_counted != typed.num_rows + quarantined_rows:
        raise LandingFileError(
            f"{name}: rows do not reconcile: the csv parser read {records_counted} records, "
            f"but {typed.num_rows} passed and {quarantined_rows} were quarantined. The file "
            "may use a delimiter, quoting or encoding other than RFC 4180 UTF-8 CSV."
        )
    return FileReadResult(rows=typed, quarantine=quarantine, report=report)


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


def _type_and_validate(
    connection: duckdb.DuckDBPyConnection,
    text_rows: pa.Table,
    contract: TableContract,
    header: list[str],
    name: str,
    modified_at: datetime,
) -> tuple[pa.Table, list[dict]]:
    """Cast every contract column, and quarantine rows with a value that does not cast or a
    primary key already seen earlier in the same file."""
    connection.register("text_rows", text_rows)
    typed_columns, checks = [], []
    for column in header:
        quoted = _quote(column)
        if column in contract.column_names:
            data_type = contract.column(column).data_type
            expression = _cast_expression(column, data_type)
            typed_columns.append(f"{expression} as {quoted}")
            if data_type != "varchar":
                checks.append(
                    f"case when {quoted} is not null and {expression} is null "
                    f"then {{'column': '{column}', 'value': {quoted}, "
                    f"'reason': 'not a valid {data_type}'}} end"
                )
        else:
            typed_columns.append(quoted)  # schema drift: a new column lands as text
    key = ", ".join(_quote(column) for column in contract.primary_key)
    key_is_null = " or ".join(f"{_quote(column)} is null" for column in contract.primary_key)
    checks.append(
        f"case when {key_is_null} then {{'column': '{contract.primary_key[0]}', "
        f"'value': cast(null as varchar), 'reason': 'primary key is empty'}} end"
    )
    checks.append(
        f"case when first_row_with_key <> {ROW_NUMBER_COLUMN} then "
        f"{{'column': '{contract.primary_key[0]}', 'value': {_quote(contract.primary_key[0])}, "
        f"'reason': 'duplicate primary key (' || {_repr_key(contract)} "
        f"|| ') first seen at row ' || first_row_with_key}} end"
    )
    connection.execute(
        f"""
        create temp table checked as
        select
            {", ".join(typed_columns)},
            {ROW_NUMBER_COLUMN},
            list_filter([{", ".join(checks)}], problem -> problem is not null) as problems
        from (
            select *, min({ROW_NUMBER_COLUMN}) over (partition by {key}) as first_row_with_key
            from text_rows
        )
        order by {ROW_NUMBER_COLUMN}
        """
    )
    problems = connection.sql(
        f"""
        select {ROW_NUMBER_COLUMN}, problem.column, problem.value, problem.reason
        from (select {ROW_NUMBER_COLUMN}, unnest(problems) as problem from checked)
        order by 1
        """
    ).fetchall()
    quarantine = [
        _quarantine_row(name, modified_at, contract.name, int(row), column, value, reason)
        for row, column, value, reason in problems
    ]
    passed = connection.sql(
        f"select * exclude (problems), ? as {SOURCE_FILE_COLUMN} from checked "
        f"where len(problems) = 0 order by {ROW_NUMBER_COLUMN}",
        params=[name],
    ).arrow()
    if isinstance(passed, pa.RecordBatchReader):
        passed = passed.read_all()
    return passed, quarantine


def _repr_key(contract: TableContract) -> str:
    return " || ', ' || ".join(
        f"coalesce(cast({_quote(column)} as varchar), '')" for column in contract.primary_key
    )
