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

Every quarantine row keeps the whole record it rejects in `raw_record`, so nothing is lost:

- a record whose fields line up with the header (a value that does not cast, an empty or
  duplicate key, a file without its key column or with clashing column names) is kept as a
  JSON object of header name -> the field's text as the file had it (after CSV unquoting; an
  empty field is ""), in header order, e.g. `{"id":"006A","amount":"ten"}`;
- a structurally malformed record (reason `malformed row ...` or `unclosed quote ...`) is
  kept as its original CSV text: its fields do not line up with the header, so pairing them
  with names would be a guess.

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
from dlt.common.normalizers.naming.snake_case import NamingConvention

from sros.contracts import RAW_TYPES, TableContract

SOURCE_FILE_COLUMN = "_sros_source_file"
ROW_NUMBER_COLUMN = "_sros_row_number"

# dlt's default naming convention, which the landing pipelines use (a test checks this).
_NAMING = NamingConvention()


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


def warehouse_column(name: str) -> str:
    """The warehouse column a header name lands in. dlt normalises the column names of an
    Arrow table with `normalize_path` (snake_case, keeping a `__` such as Salesforce's
    `__c`), so this is what it does here too."""
    return _NAMING.normalize_path(name)


def _text_field(position: int) -> str:
    """The name under which DuckDB reads the header's column at `position`."""
    return f"field_{position}"


def _cast_expression(field: str, data_type: str) -> str:
    quoted = _quote(field)
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
    report["new_columns"] = ",".join(_new_column_label(column) for column in new)
    fields = {column: _text_field(position) for position, column in enumerate(header)}

    connection = duckdb.connect()
    try:
        connection.execute("set TimeZone = 'UTC'")
        columns = (
            "{"
            + ", ".join(f"{_literal(text_field)}: 'VARCHAR'" for text_field in fields.values())
            + "}"
        )
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

        unloadable = _unloadable_file(header, contract, missing)
        if unloadable:
            # No row of the file can be loaded; keep every row in quarantine, load none.
            column, reason = unloadable
            quarantine.extend(
                _quarantine_row(
                    name, modified_at, contract.name, int(number), column, None, reason, record
                )
                for number, record in connection.execute(
                    f"select {ROW_NUMBER_COLUMN}, {_record_json(fields)} from numbered order by 1"
                ).fetchall()
            )
            typed = pa.table({})
        else:
            typed, value_problems = _type_and_validate(
                connection, contract, fields, name, modified_at
            )
            quarantine.extend(value_problems)
    finally:
        connection.close()

    quarantined_rows = len({entry["row_number"] for entry in quarantine})
    report["rows_loaded"] = typed.num_rows
    report["rows_quarantined"] = quarantined_rows
    return FileReadResult(rows=typed, quarantine=quarantine, report=report)


def _new_column_label(column: str) -> str:
    """A new column as the load report names it: its warehouse name, and the header spelling
    when that differs (`partner_tier__c (header 'Partner Tier__c')`)."""
    landed = warehouse_column(column)
    return landed if landed == column else f"{landed} (header {column!r})"


def _unloadable_file(
    header: list[str], contract: TableContract, missing: list[str]
) -> tuple[str, str] | None:
    """(column, reason) if no row of the file can be loaded: header names that land in the
    same warehouse column, or a key column missing from the header."""
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
        f"{_literal(column)}, coalesce({_quote(field)}, '')" for column, field in fields.items()
    )
    return f"json_object({pairs})::varchar"


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
    fields: dict[str, str],
    name: str,
    modified_at: datetime,
) -> tuple[pa.Table, list[dict]]:
    """Cast every contract column, and quarantine rows with a value that does not cast, an
    empty key, or a key already seen earlier in the same file. `fields` maps each header
    name to the name DuckDB read it under.

    One vectorised pass flags bad rows; the (usually few) flagged rows are then described
    column by column.
    """
    typed_columns, failures = [], []
    for column, text_field in fields.items():
        quoted = _quote(text_field)
        if column not in contract.column_names:
            typed_columns.append(quoted)  # schema drift: a new column lands as text
            continue
        data_type = contract.column(column).data_type
        expression = _cast_expression(text_field, data_type)
        typed_columns.append(f"{expression} as {quoted}")
        if data_type != "varchar":
            failures.append((column, data_type, f"({quoted} is not null and {expression} is null)"))

    key = [_quote(fields[column]) for column in contract.primary_key]
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
    quarantine = _describe_bad_rows(connection, contract, fields, failures, name, modified_at)
    passed = connection.execute(
        f"select * exclude (is_bad, first_row_with_key), ? as {SOURCE_FILE_COLUMN} "
        f"from checked where not is_bad",
        [name],
    ).to_arrow_table()
    passed = passed.rename_columns([*fields, ROW_NUMBER_COLUMN, SOURCE_FILE_COLUMN])
    # Rows with an empty key were quarantined, so the key columns are declared not null.
    schema = pa.schema(
        field.with_nullable(False) if field.name in contract.primary_key else field
        for field in passed.schema
    )
    return passed.cast(schema), quarantine


def _describe_bad_rows(
    connection: duckdb.DuckDBPyConnection,
    contract: TableContract,
    fields: dict[str, str],
    failures: list[tuple[str, str, str]],
    name: str,
    modified_at: datetime,
) -> list[dict]:
    """One quarantine row per problem of each flagged row, each with the whole record."""
    bad_rows = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, first_row_with_key from checked where is_bad"
    ).fetchall()
    if not bad_rows:
        return []
    first_seen = {int(row): first for row, first in bad_rows}
    key_columns = ", ".join(_quote(fields[column]) for column in contract.primary_key)
    value_checks = "".join(
        f", case when {condition} then {_quote(fields[column])} end"
        for column, _, condition in failures
    )
    selected = connection.execute(
        f"select {ROW_NUMBER_COLUMN}, {_record_json(fields)}, {key_columns}{value_checks} "
        f"from numbered where {ROW_NUMBER_COLUMN} in (select {ROW_NUMBER_COLUMN} "
        f"from checked where is_bad) order by 1"
    ).fetchall()
    n_keys = len(contract.primary_key)
    quarantine = []
    for record in selected:
        row, raw_record = int(record[0]), record[1]
        keys, values = record[2 : 2 + n_keys], record[2 + n_keys :]
        problems = []
        if any(value is None for value in keys):
            problems.append((contract.primary_key[0], None, "primary key is empty"))
        elif first_seen[row] not in (None, row):
            problems.append(
                (
                    contract.primary_key[0],
                    keys[0],
                    f"duplicate primary key ({', '.join(keys)}) first seen at row "
                    f"{first_seen[row]}",
                )
            )
        problems.extend(
            (column, value, f"not a valid {data_type}")
            for (column, data_type, _), value in zip(failures, values, strict=True)
            if value is not None
        )
        quarantine.extend(
            _quarantine_row(
                name, modified_at, contract.name, row, column, value, reason, raw_record
            )
            for column, value, reason in problems
        )
    return quarantine
