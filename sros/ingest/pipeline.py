"""dlt sources that load the landing zone into the raw schemas.

Landing-zone layout: `<landing>/<source>/<table>/<file>`, where `<source>/<table>` is a
contract's `meta.landing`. A table reads the files directly in its folder that end in `.csv`,
`.csv.gz` or `.parquet` (any case), with `read_landing_file`. Every other file under the
landing zone is **refused**: it gets a load-report row with status `refused` and a reason, and
is not loaded:

- a file in a table folder in another format (`.json`, `.xlsx`, ...): unsupported format;
- a file in a sub-folder of a table folder (`salesforce/lead/2025/x.csv`): nested folder;
- a file in a folder no table of the source declares (`salesforce/leads_typo/x.csv`):
  unknown table folder (the report's `table_name` is the folder's name);
- a file directly in a source's folder (`salesforce/x.csv`): not in a table folder
  (`table_name` is empty);
- a file a table's reader cannot read at all (e.g. a header naming a column twice, bytes
  that are not the format its name says): unreadable, with the reader's message;
- a full export superseded by a newer one (see below).

These rows go to the source's raw schema, `<schema>._sros_load_report`. Files outside every
source's folder (an unknown source folder such as `sales_force/`, or a file at the landing
zone's root) go to `_sros._sros_load_report` through the `landing_root` pipeline
(`ingest_landing_root`). The demo generator's own files at the root (`_manifest.json`,
`ground_truth.json`) are not landing files and are skipped by name.

One dlt source per source system (salesforce, hubspot, ...), one resource per contract table,
plus one resource (`_sros_landing_files`) for the source's refused files. The file versions
handled (path -> modification time and size) are kept in each resource's dlt state, which dlt
commits to the warehouse together with the data: a file is loaded (or refused) once per
version, a rewritten file again, and a late file is read even when its modification time is
older than files already loaded. Each file read yields three kinds of rows:

- the table's rows, merged on the contract's primary key (a re-exported record replaces the
  old one; of two versions in one load, Fivetran-style `_fivetran_synced` decides in a table
  that has it, and the file read later where it has not or where the sync times are equal
  or empty: `_sros_version_order`, see _column_hints). A table's new files are all read
  before dlt gets their rows: when no key is in two of them (the reader already quarantines
  a key's repeats within a file), the load is declared deduplicated and dlt's merge skips the
  window it would rank the versions with, which bounds the rows one load can take
  (_table_hints). A deduplicated load into a table that holds no row yet (the first load)
  is appended: the merge would give the same rows, through a staging copy that costs a third
  of the first ingestion at 1M leads;
- `_sros_quarantine`: every rejected row with file, row, column, value and reason;
- `_sros_load_report`: one row per file version: rows read, loaded, quarantined, refused and
  deleted, status and reason. Rows read = loaded + quarantined + refused, always: a refused
  file's records are all refused (counted when its format can be counted, else null).

Full versus incremental (contract `meta.export`): an incremental file holds new and changed
records, and a record missing from it is kept. A full file holds the whole table as of its
export: each live record of the raw table whose key is not in the newer full file is marked
deleted (`_sros_deleted_at` = the file's modification time, `_sros_deleted_by_file` = the
file) in the same dlt load as the file's rows (one set-based query per table finds them), and
the report counts them in `rows_deleted`; staging drops marked rows. A record that reappears in
a later full file is live again (its new version replaces the marked one). A full file marks no
deletions when it has quarantined rows or no rows at all (a list that is not whole is no
evidence of deletion; the report's `reason` says so). Of several new full files of a table,
only the newest (by modification time, then path) is loaded: the others, and a file older than
the full export already applied, are refused as superseded. Every raw table carries the two
columns (null when never set).

Change history (contract `meta.history.tracked_columns`, see sros/contracts.py): the rows a
run hands a table also go to its history table, `<table>_history`, with dlt's `scd2` merge.
Its row version (`_sros_row_version`) is dlt's row hash of the key and the tracked columns
only, so a change in another column makes no new version, and the key is in it so that two
records with the same tracked values stay two versions. dlt retires a current version
(`_sros_valid_to` = the load's time) only for the keys the load holds: a record absent from
an incremental file keeps its version (what dlt's scd2 `merge_key` on the natural key does;
here a `destination_scope` on the key, so that deleted rows count as present); a changed
record gets a new version valid from the load's time (`_sros_valid_from`, dlt's load package
time: when the change reached the warehouse), and an unchanged one nothing. A deleted record
(marked deleted by a full export, or soft-deleted: `is_deleted`, `_fivetran_deleted`) closes
its current version and opens none (the `source_filter` keeps it out of the inserted rows),
as a dbt snapshot with `hard_deletes: invalidate` did; a record that comes back opens a new
version. Of several rows of one key in a run (several incremental files), the one with the
later `_fivetran_synced`, else from the file read later (files are read in path order), is
the version. A run with no new file
hands the history nothing, so it adds no version.

Every table of a source's contract exists after its ingestion, so that staging reads an
empty table rather than none (a CRM export of only some tables builds): a table that no row
reached in a run (no file, a header-only file, only quarantined rows) and that the warehouse
lacks, or holds without one of its columns (a warehouse loaded before the deletion columns
existed), is created or completed by dlt from the table's hints (`materialize_table_schema`):
the contract's columns with their types, the lineage columns `_sros_row_number` and
`_sros_source_file`, and the deletion columns, empty. A history table is created (or
completed) likewise, from an empty batch of its columns' types: dlt types its row version
from the data only. One query on the warehouse's
information schema per source and run decides; a table that is complete is left alone.

Clean recovery: a run killed during a load leaves a pending dlt load package, and report or
quarantine rows already written for a load dlt never marked complete. `recover` (run at the
start of every ingestion) first completes pending packages (dlt 1.31 `run` would do only that
and skip new files), then deletes report and quarantine rows whose `_dlt_load_id` is not a
completed load in `_dlt_loads`, and copies of a row that a re-run load job appended twice. So
each file version is reported exactly once, with its load. After a load, `verify_load` checks
the reports against what dlt actually normalised and loaded.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dlt
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from dlt.common.normalizers.json.helpers import get_row_hash
from dlt.destinations.sql_client import SqlClientBase
from dlt.extract.source import DltSource

from sros import paths
from sros.config import load_config
from sros.contracts import (
    HISTORY_COLUMNS,
    RAW_TYPES,
    ROW_VERSION_COLUMN,
    VALID_FROM_COLUMN,
    VALID_TO_COLUMN,
    TableContract,
    contracts_for,
    load_contracts,
)
from sros.demo_company.generate import GROUND_TRUTH, MANIFEST
from sros.ingest.reader import (
    ROW_NUMBER_COLUMN,
    SOURCE_FILE_COLUMN,
    VERSION_ORDER_COLUMN,
    FileReadResult,
    LandingFileError,
    key_in_several,
    read_landing_file,
)
from sros.pseudonyms import install_key

QUARANTINE_TABLE = "_sros_quarantine"
LOAD_REPORT_TABLE = "_sros_load_report"
DELETED_AT_COLUMN = "_sros_deleted_at"
DELETED_BY_FILE_COLUMN = "_sros_deleted_by_file"
# Contract columns that mark a record deleted in the CRM (staging drops such rows).
SOFT_DELETE_COLUMNS = ("is_deleted", "_fivetran_deleted")
# The resource of each source that reports the source's refused files, and the pipeline for
# files outside every source's folder (its dataset holds only their load report).
REFUSED_FILES_RESOURCE = "_sros_landing_files"
LANDING_ROOT_SOURCE = "landing_root"
LANDING_ROOT_DATASET = "_sros"
# Written by the demo generator at the landing root: not landing files.
GENERATOR_FILES = frozenset({MANIFEST, GROUND_TRUTH})
# The formats a table reads, longest first (".csv.gz" before ".csv").
READABLE_SUFFIXES = (".csv.gz", ".parquet", ".csv")
# dlt's table hint for `deduplicated` in a merge write disposition (_table_hints).
_DEDUPLICATED_HINT = "x-stage-data-deduplicated"
# Our table hint on a merge table's load appended because the table held no row (_table_hints).
_FIRST_LOAD_HINT = "x-sros-first-load"

_QUARANTINE_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "file_modified_at": {"data_type": "timestamp", "nullable": False},
    "table_name": {"data_type": "text", "nullable": False},
    "row_number": {"data_type": "bigint", "nullable": False},
    "column_name": {"data_type": "text"},
    "value": {"data_type": "text"},
    "reason": {"data_type": "text", "nullable": False},
    "raw_record": {"data_type": "text"},
    "raw_bytes": {"data_type": "binary"},
}
_REPORT_COLUMNS = {
    "source_file": {"data_type": "text", "nullable": False},
    "file_modified_at": {"data_type": "timestamp", "nullable": False},
    "table_name": {"data_type": "text", "nullable": False},
    "rows_read": {"data_type": "bigint"},  # null: a refused file in a format not counted
    "rows_loaded": {"data_type": "bigint", "nullable": False},
    "rows_quarantined": {"data_type": "bigint", "nullable": False},
    "rows_refused": {"data_type": "bigint"},
    "rows_deleted": {"data_type": "bigint", "nullable": False},
    "new_columns": {"data_type": "text"},
    "missing_columns": {"data_type": "text"},
    "warnings": {"data_type": "text"},
    "status": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text"},
}
REPORT_FIELDS = (
    "source_file",
    "table_name",
    "rows_read",
    "rows_loaded",
    "rows_quarantined",
    "rows_refused",
    "rows_deleted",
    "status",
    "reason",
)
_LINEAGE_HINTS = {
    DELETED_AT_COLUMN: {"data_type": "timestamp", "timezone": False},
    DELETED_BY_FILE_COLUMN: {"data_type": "text"},
}
# The reader's lineage columns (every loaded row has them), declared so that a table created
# empty from its contract has them too.
_RECORD_LINEAGE_HINTS = {
    ROW_NUMBER_COLUMN: {"data_type": "bigint"},
    SOURCE_FILE_COLUMN: {"data_type": "text"},
}


class IngestionError(RuntimeError):
    """A load did not reconcile: rows handed to dlt differ from rows it loaded."""


_DLT_TYPES = {
    "varchar": {"data_type": "text"},
    "boolean": {"data_type": "bool"},
    "bigint": {"data_type": "bigint"},
    "double": {"data_type": "double"},
    "date": {"data_type": "date"},
    # Raw timestamps are UTC without a zone, as the contract says (and Fivetran lands them).
    "timestamp": {"data_type": "timestamp", "timezone": False},
    "decimal(18,2)": {"data_type": "decimal", "precision": 18, "scale": 2},
}


def _column_hints(contract: TableContract, *, deduplicated: bool = False) -> dict[str, dict]:
    """dlt column hints of a table: the contract's types, its key not null, the lineage
    columns, and the column that orders a load's versions of one key (none when the load is
    declared deduplicated: _table_hints)."""
    hints = {column.name: dict(_DLT_TYPES[column.data_type]) for column in contract.columns}
    for key in contract.primary_key:  # empty keys are quarantined
        hints[key]["nullable"] = False
    lineage = {**_RECORD_LINEAGE_HINTS, **_LINEAGE_HINTS}
    # Two versions of a record in one load (several new incremental files of the table): dlt
    # keeps the first by one sort column. In a table with `_fivetran_synced`, that is
    # VERSION_ORDER_COLUMN (_with_version_order): the later sync wins, as in Fivetran, and of
    # two versions with the same sync time or none (a direct CRM export leaves it empty), the
    # file read later. In a table without it, `_sros_source_file`: the file read later. Files
    # are read in path order and a key is unique within a file (the reader quarantines
    # repeats), so the result is what loading the files in separate runs gives.
    # None, not absent, when deduplicated: dlt keeps a column hint a load does not set.
    dedup_sort = None if deduplicated else "desc"
    if "_fivetran_synced" in hints:
        lineage[VERSION_ORDER_COLUMN] = {"data_type": "text", "dedup_sort": dedup_sort}
    else:
        lineage[SOURCE_FILE_COLUMN] = {**lineage[SOURCE_FILE_COLUMN], "dedup_sort": dedup_sort}
    return {**hints, **lineage}


def _table_hints(contract: TableContract, *, deduplicated: bool, first_load: bool) -> dict:
    """dlt hints of a table's rows: merged on the contract's key (delete-insert), or appended
    when the load is deduplicated and the table holds no row yet (`first_load`).

    dlt's merge removes a load's repeated keys with one window over all the load's staged rows
    (ROW_NUMBER by key, ordered by the dedup_sort column), which DuckDB does not spill far
    enough: 15.5M touch rows (a 2M-lead company's file) fail at a 6GB limit, the ~77M of a
    10M-lead company at 18.8GB (bench/LOG.md, "10M leads"). A load that holds each key
    once (one file, whose repeated keys the reader quarantines, or several whose keys the
    reader finds apart: `key_in_several`) is declared deduplicated, and dlt inserts its rows
    as they are. The hint is set either way, False too: dlt keeps a table hint a load does not
    set, and a later load with repeated keys must be deduplicated.

    A merge loads the rows into a staging table, deletes their keys from the table and copies
    them over: into a table without rows, a deduplicated load gives the same rows appended
    straight into it (measured at 1M leads: the first ingestion 141 s -> 111 s, the touch
    table's load 25.8 s -> 11.4 s). Should that load be killed and completed by the next run,
    dlt may run again a job it had appended but not recorded done: recover() then removes the
    second copy of each row (a key repeated in a first load can only be such a copy)."""
    appended = deduplicated and first_load
    return dlt.mark.make_hints(
        table_name=contract.name,
        write_disposition=(
            "append" if appended else {"disposition": "merge", "strategy": "delete-insert"}
        ),
        primary_key=list(contract.primary_key),
        columns=_column_hints(contract, deduplicated=deduplicated),
        additional_table_hints={_DEDUPLICATED_HINT: deduplicated, _FIRST_LOAD_HINT: appended},
    )


def _with_version_order(batch: pa.Table) -> pa.Table:
    """The rows of a table with `_fivetran_synced` with VERSION_ORDER_COLUMN: the sync time as
    20-digit microseconds since 1970 (nothing when empty), a space, the landing file. As text
    it sorts as the versions do: by sync time, an empty one first, then by file."""
    if "_fivetran_synced" in batch.column_names:
        micros = pc.cast(pc.cast(batch.column("_fivetran_synced"), pa.timestamp("us")), pa.int64())
        synced = pc.fill_null(pc.utf8_lpad(pc.cast(micros, pa.string()), 20, "0"), "")
    else:  # the file has no such column: dlt loads it empty
        synced = pa.array([""] * batch.num_rows, pa.string())
    order = pc.binary_join_element_wise(synced, batch.column(SOURCE_FILE_COLUMN), " ")
    return batch.append_column(VERSION_ORDER_COLUMN, order)


# --- a table's change history (meta.history) ---------------------------------------------


def _history_hints(contract: TableContract) -> dict:
    """dlt hints of a table's history table: scd2 on the row version, the current version of
    a key retired only when the load holds the key, deleted rows never inserted (see the
    module doc)."""
    columns = _column_hints(contract)
    # one row per key and load already (_history_rows), which orders versions itself
    columns.get(SOURCE_FILE_COLUMN, {}).pop("dedup_sort", None)
    columns.pop(VERSION_ORDER_COLUMN, None)
    columns[ROW_VERSION_COLUMN] = {"data_type": "text", "nullable": False}
    key_matches = " AND ".join(
        f"s.{_quote(key)} = {{table}}.{_quote(key)}" for key in contract.primary_key
    )
    live = [f"{_quote(DELETED_AT_COLUMN)} IS NULL"] + [
        f"NOT COALESCE({_quote(column)}, FALSE)"
        for column in SOFT_DELETE_COLUMNS
        if column in contract.column_names
    ]
    return dlt.mark.make_hints(
        table_name=contract.history_table,
        write_disposition={
            "disposition": "merge",
            "strategy": "scd2",
            "validity_column_names": [VALID_FROM_COLUMN, VALID_TO_COLUMN],
            "active_record_timestamp": None,  # the current version's valid_to is null
            "row_version_column_name": ROW_VERSION_COLUMN,
            # natural key: only the keys of this load may have their version retired (a
            # record missing from an incremental file is not deleted)
            "destination_scope": (
                f"EXISTS (SELECT 1 FROM {{staging_table}} AS s WHERE {key_matches})"
            ),
            # a deleted row retires its key's version but is not inserted as a new one
            "source_filter": " AND ".join(live),
        },
        columns=columns,
    )


def _history_columns(contract: TableContract) -> dict[str, str]:
    """Column -> DuckDB type of the rows handed to a history table (before the row version)."""
    return {
        **{column.name: RAW_TYPES[column.data_type] for column in contract.columns},
        ROW_NUMBER_COLUMN: "BIGINT",
        SOURCE_FILE_COLUMN: "VARCHAR",
        DELETED_AT_COLUMN: "TIMESTAMP",
        DELETED_BY_FILE_COLUMN: "VARCHAR",
    }


def _history_rows(contract: TableContract, batches: list[pa.Table]) -> pa.Table:
    """The rows a run hands a table's history: one per key, from `batches` (the run's rows
    and marked-deleted rows, in the order their files were read): the later
    `_fivetran_synced`, else the later batch, wins. With the row version: dlt's row hash of
    the key and the tracked columns."""
    columns = _history_columns(contract)
    synced = "_fivetran_synced desc nulls last, " if "_fivetran_synced" in columns else ""

    def typed(present: set[str]) -> str:
        return ", ".join(
            f"cast({_quote(name) if name in present else 'null'} as {data_type}) as {_quote(name)}"
            for name, data_type in columns.items()
        )

    with duckdb.connect() as connection:
        selects = [f"select {typed(set())}, 0 as _sros_batch where false"]  # the types
        for position, batch in enumerate(batches):
            connection.register(f"batch_{position}", batch)
            selects.append(
                f"select {typed(set(batch.column_names))}, {position} as _sros_batch "
                f"from batch_{position}"
            )
        keys = ", ".join(_quote(key) for key in contract.primary_key)
        rows = connection.execute(
            f"select * exclude (_sros_batch) from ({' union all '.join(selects)}) "
            f"qualify row_number() over "
            f"(partition by {keys} order by {synced}_sros_batch desc) = 1"
        ).to_arrow_table()
    versioned = [*contract.primary_key, *contract.tracked_columns]
    versions = [get_row_hash(row) for row in rows.select(versioned).to_pylist()]
    rows = rows.append_column(ROW_VERSION_COLUMN, pa.array(versions, pa.string()))
    # not null, as the hints say: the key (an empty key was quarantined) and the version
    not_null = {*contract.primary_key, ROW_VERSION_COLUMN}
    return rows.cast(
        pa.schema(field.with_nullable(field.name not in not_null) for field in rows.schema)
    )


# --- the landing zone's files ------------------------------------------------------------


@dataclass(frozen=True)
class LandingFile:
    """One file under the landing zone; `relative` is its posix path from the landing root."""

    path: Path
    relative: str
    modified_at: datetime
    size: int

    @property
    def version(self) -> str:
        return f"{self.modified_at.isoformat()}|{self.size}"

    @property
    def order(self) -> tuple[datetime, str]:
        return (self.modified_at, self.relative)


def list_files(folder: Path, root: Path, *, recursive: bool = True) -> list[LandingFile]:
    """The files under `folder` (none when it does not exist), sorted by path."""
    found = []
    for directory, folders, names in os.walk(folder):
        folders.sort()
        if not recursive:
            folders.clear()
        for name in names:
            path = Path(directory) / name
            stat = path.stat()
            found.append(
                LandingFile(
                    path=path,
                    relative=path.relative_to(root).as_posix(),
                    modified_at=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                    size=stat.st_size,
                )
            )
    return sorted(found, key=lambda file: file.relative)


def file_format(name: str) -> str:
    """A file name's format as the landing zone sees it: `.csv.gz`, `.csv`, `.json`, ... or
    "" when it has no extension."""
    lowered = name.lower()
    for suffix in READABLE_SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    return Path(lowered).suffix


def source_folders() -> dict[str, str]:
    """Landing folder of each source -> source name."""
    return {
        contract.landing.split("/")[0]: contract.source for contract in load_contracts().values()
    }


def refusal(relative: str, contracts: list[TableContract]) -> tuple[str, str] | None:
    """(table_name, reason) for a file under a source's folder that no table reads; None for a
    file its table reads. `relative` is the path from the landing root."""
    tables = {contract.landing: contract for contract in contracts}
    source_folder, *rest = relative.split("/")
    name = rest[-1]
    if len(rest) == 1:
        return "", (
            f"file directly in the source folder {source_folder}/: put it in the folder of its "
            f"table ({_table_folders(tables)})"
        )
    folder = f"{source_folder}/{rest[0]}"
    if folder not in tables:
        close = difflib.get_close_matches(
            rest[0], [t.split("/")[1] for t in tables], n=1, cutoff=0.8
        )
        hint = f"; did you mean {source_folder}/{close[0]}/?" if close else ""
        return rest[0], (
            f"unknown table folder {folder}/: the contract of source "
            f"{tables[next(iter(tables))].source!r} has no table landing there "
            f"(its folders: {_table_folders(tables)}){hint}"
        )
    if len(rest) > 2:
        return rest[0], (
            f"nested folder: {tables[folder].name} reads only the files directly in {folder}/, "
            f"not in {'/'.join([folder, *rest[1:-1]])}/"
        )
    suffix = file_format(name)
    if suffix not in READABLE_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "no extension"
        return rest[0], (
            f"unsupported format ({shown}): a table reads .csv, .csv.gz and .parquet files"
        )
    return None


def _table_folders(tables: dict[str, TableContract]) -> str:
    return ", ".join(f"{landing}/" for landing in sorted(tables))


def count_records(path: Path) -> int | None:
    """Records in a file of a readable format (CSV data rows, Parquet rows); None when the
    format is not one a table reads, or the file cannot be counted."""
    suffix = file_format(path.name)
    try:
        if suffix == ".parquet":
            return pq.ParquetFile(path).metadata.num_rows
        if suffix in (".csv", ".csv.gz"):
            opener = gzip.open if suffix == ".csv.gz" else open
            with opener(path, "rb") as raw:
                text = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace", newline="")
                reader = csv.reader(text)
                next(reader, None)
                return sum(1 for record in reader if record)
    except (OSError, EOFError, csv.Error, pa.ArrowException):
        return None
    return None


def refused_report(file: LandingFile, table_name: str, reason: str) -> dict:
    """The load-report row of a refused file: none of its records is loaded."""
    records = count_records(file.path)
    return {
        "source_file": file.relative,
        "file_modified_at": file.modified_at,
        "table_name": table_name,
        "rows_read": records,
        "rows_loaded": 0,
        "rows_quarantined": 0,
        "rows_refused": records,
        "rows_deleted": 0,
        "new_columns": "",
        "missing_columns": "",
        "status": "refused",
        "reason": reason,
    }


# --- reading a table's files -------------------------------------------------------------


def _marked_deleted(contract: TableContract, keys: pa.Table, file: LandingFile) -> pa.Table:
    """The live rows of the raw table whose key is not in `keys` (a full file's keys), marked
    deleted by `file`: one anti-join in the warehouse."""
    pipeline = dlt.current.pipeline()
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return pa.table({})
        existing = [
            name
            for (name,) in client.execute_sql(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                client.dataset_name,
                contract.name,
            )
        ]
        if not existing:  # the table does not exist yet
            return pa.table({})
        columns = [c for c in existing if not c.startswith("_dlt_") and c not in _LINEAGE_HINTS]
        # A table loaded before the deletion columns existed has every row live.
        live = f"raw.{DELETED_AT_COLUMN} is null" if DELETED_AT_COLUMN in existing else "true"
        connection = client.native_connection
        connection.register("_sros_full_export_keys", keys)
        try:
            matches = " and ".join(
                f"export.{_quote(column)} = raw.{_quote(column)}" for column in contract.primary_key
            )
            marked = connection.execute(
                f"select {', '.join(f'raw.{_quote(c)}' for c in columns)}, "
                f"?::timestamp as {DELETED_AT_COLUMN}, "
                f"?::varchar as {DELETED_BY_FILE_COLUMN} "
                f"from {client.make_qualified_table_name(contract.name)} as raw "
                f"where {live} and not exists "
                f"(select 1 from _sros_full_export_keys as export where {matches})",
                [file.modified_at.replace(tzinfo=None), file.relative],
            ).to_arrow_table()
        finally:
            connection.unregister("_sros_full_export_keys")
    return marked


# What a file that cannot be read at all raises from the reader: its content is the problem, so
# the file version is refused (and read again once rewritten); other errors (disk, memory)
# fail the load and the next run retries the file.
_UNREADABLE = (
    LandingFileError,
    duckdb.ParserException,
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    pa.ArrowInvalid,
    UnicodeDecodeError,
)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _table_reader(contract: TableContract, root: Path, warehouse: _WarehouseColumns):
    """A dlt resource that reads the new file versions of one table into rows.

    Each of its three outputs carries its own hints (a table variant), so the quarantine and
    the report do not inherit the table's key and merge disposition.
    """
    # The table created empty: dlt adds its own row columns (_dlt_id, _dlt_load_id, not null)
    # to a table it materialises before it has seen data, which the rows loaded later (Arrow
    # tables, without them) would then fail. Loaded tables never carry them, so the table is
    # declared as one that has seen data: it gets exactly the columns of its hints.
    empty_table_hints = dlt.mark.make_hints(
        table_name=contract.name,
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=list(contract.primary_key),
        columns=_column_hints(contract),
        additional_table_hints={"x-normalizer": {"seen-data": True}},
    )
    quarantine_hints = dlt.mark.make_hints(
        table_name=QUARANTINE_TABLE, write_disposition="append", columns=_QUARANTINE_COLUMNS
    )
    report_hints = dlt.mark.make_hints(
        table_name=LOAD_REPORT_TABLE, write_disposition="append", columns=_REPORT_COLUMNS
    )

    def report(row: dict) -> Iterator:
        yield dlt.mark.with_hints([row], report_hints, create_table_variant=True)

    def history(batches: list[pa.Table]) -> Iterator:
        """The run's rows to the table's history table (meta.history), or the table created
        empty when no row came and the warehouse lacks it (or one of its columns)."""
        if batches or not warehouse.columns(contract.history_table) >= {
            *_history_columns(contract),
            *HISTORY_COLUMNS,
        }:
            # with no row, an empty table of the history's types (dlt takes the row version's
            # type from the data: dlt.mark.materialize_table_schema() cannot create it)
            rows = _history_rows(contract, batches)
            yield dlt.mark.with_hints(rows, _history_hints(contract), create_table_variant=True)

    @dlt.resource(name=contract.name)
    def read_files() -> Iterator:
        state = dlt.current.resource_state()
        handled: dict[str, str] = state.setdefault("loaded_file_versions", {})
        files = [
            file
            for file in list_files(root / contract.landing, root, recursive=False)
            if file_format(file.path.name) in READABLE_SUFFIXES
            and handled.get(file.relative) != file.version
        ]
        refused: list[tuple[LandingFile, str]] = []
        if contract.export == "full" and files:
            files.sort(key=lambda file: file.order)
            *older, newest = files
            refused += [
                (file, f"superseded: {newest.relative} is a newer full export of the table")
                for file in older
            ]
            files = [newest]
            applied = state.get("applied_full_export")
            if applied and newest.order < (datetime.fromisoformat(applied[0]), applied[1]):
                refused.append(
                    (
                        newest,
                        f"superseded: older than the full export already applied "
                        f"({applied[1]}, modified at {applied[0]})",
                    )
                )
                files = []
        for file, reason in refused:
            handled[file.relative] = file.version
            yield from report(refused_report(file, contract.name, reason))
        reads: list[tuple[LandingFile, FileReadResult]] = []  # in path order
        for file in files:
            handled[file.relative] = file.version
            try:
                result = read_landing_file(
                    file.path,
                    contract,
                    display_name=file.relative,
                    encoding=load_config().source(contract.source).encoding,
                )
            except _UNREADABLE as error:  # the file's content, not the machine: not retried
                reason = f"unreadable: {type(error).__name__}: {error}"
                yield from report(refused_report(file, contract.name, reason))
                continue
            reads.append((file, result))
        # A full export's marked-deleted keys are not in its (one) file: unique too. Only a
        # table with files to load asks the warehouse whether it holds rows: each asking
        # opens a connection, most of a daily run's ingestion (README, "The daily run").
        results = [result for _, result in reads]
        table_hints = (
            _table_hints(
                contract,
                deduplicated=not key_in_several(results, contract.primary_key),
                first_load=not warehouse.holds_rows(contract.name),
            )
            if reads
            else {}
        )
        has_rows = False  # whether this run hands the table any row
        history_batches: list[pa.Table] = []  # the rows for the history, in file order
        for file, result in reads:
            row = {**result.report, "rows_refused": 0, "rows_deleted": 0, "reason": None}
            row["file_modified_at"] = file.modified_at
            if contract.export == "full":
                state["applied_full_export"] = [file.modified_at.isoformat(), file.relative]
                if row["rows_quarantined"] or not result.num_rows:
                    row["reason"] = (
                        f"full export with {row['rows_quarantined']} quarantined row(s): "
                        "no record marked deleted; fix the file and export it again"
                        if row["rows_quarantined"]
                        else "full export without rows: no record marked deleted"
                    )
                else:
                    keys = result.table(list(contract.primary_key))
                    deleted = _marked_deleted(contract, keys, file)
                    row["rows_deleted"] = deleted.num_rows
                    if deleted.num_rows:
                        has_rows = True
                        history_batches.append(deleted)
                        yield dlt.mark.with_hints(deleted, table_hints, create_table_variant=True)
            # The file's rows go to dlt a batch at a time, never whole in memory (a history
            # table's are kept: it takes the run's last version of each key). The deletion
            # columns come from the hints: null.
            for batch in result.batches():
                has_rows = True
                if contract.history_table:
                    history_batches.append(batch)
                if VERSION_ORDER_COLUMN in table_hints["columns"]:
                    batch = _with_version_order(batch)
                yield dlt.mark.with_hints(batch, table_hints, create_table_variant=True)
            result.close()
            if result.quarantine:
                yield dlt.mark.with_hints(
                    result.quarantine, quarantine_hints, create_table_variant=True
                )
            yield from report(row)
        if not has_rows and not warehouse.columns(contract.name) >= set(_column_hints(contract)):
            # No row for a table that does not exist yet (no file, a header-only file, only
            # rejected rows) or lacks a column of its hints (a warehouse loaded before the
            # deletion columns existed): dlt creates it, or adds the columns, empty.
            yield dlt.mark.with_hints(
                dlt.mark.materialize_table_schema(), empty_table_hints, create_table_variant=True
            )
        if contract.history_table:
            yield from history(history_batches)

    return read_files


class _WarehouseColumns:
    """The columns of each table of a source's raw schema in the warehouse, read with one
    query the first time a table reader asks during a run (one instance per run's source),
    and whether a table holds any row."""

    def __init__(self) -> None:
        self._tables: dict[str, set[str]] | None = None

    def holds_rows(self, table: str) -> bool:
        if not self.columns(table):
            return False
        with dlt.current.pipeline().sql_client() as client:
            qualified = client.make_qualified_table_name(table)
            [(found,)] = client.execute_sql(f"select exists (select 1 from {qualified})")
        return bool(found)

    def columns(self, table: str) -> set[str]:
        if self._tables is None:
            self._tables = {}
            with dlt.current.pipeline().sql_client() as client:
                if client.has_dataset():
                    for name, column in client.execute_sql(
                        "select table_name, column_name from information_schema.columns "
                        "where table_schema = ?",
                        client.dataset_name,
                    ):
                        self._tables.setdefault(name, set()).add(column)
        return self._tables.get(table, set())


def _refused_files(name: str, folders: list[Path], root: Path, judge) -> dlt.sources.DltResource:
    """A dlt resource reporting, once per file version, the files under `folders` that
    `judge(relative)` refuses ((table_name, reason), or None for a file read elsewhere)."""
    report_hints = dlt.mark.make_hints(
        table_name=LOAD_REPORT_TABLE, write_disposition="append", columns=_REPORT_COLUMNS
    )

    @dlt.resource(name=name)
    def refused_files() -> Iterator:
        handled: dict[str, str] = dlt.current.resource_state().setdefault(
            "refused_file_versions", {}
        )
        rows = []
        for folder in folders:
            for file in list_files(folder, root):
                judged = judge(file.relative)
                if judged is None or handled.get(file.relative) == file.version:
                    continue
                handled[file.relative] = file.version
                rows.append(refused_report(file, *judged))
        if rows:
            yield dlt.mark.with_hints(rows, report_hints, create_table_variant=True)

    return refused_files


def landing_source(source_name: str, landing_dir: Path | None = None) -> DltSource:
    """The dlt source for one source system's landing folder."""
    root = (landing_dir or paths.landing_dir()).resolve()
    contracts = contracts_for(source_name)
    if not contracts:
        raise ValueError(f"no contracts for source {source_name!r}; see models/staging/*/")
    folders = sorted({contract.landing.split("/")[0] for contract in contracts})

    @dlt.source(name=source_name, max_table_nesting=0)
    def source() -> Iterator:
        warehouse = _WarehouseColumns()
        for contract in contracts:
            yield _table_reader(contract, root, warehouse)
        yield _refused_files(
            REFUSED_FILES_RESOURCE,
            [root / folder for folder in folders],
            root,
            lambda relative: refusal(relative, contracts),
        )

    return source()


def root_refusal(relative: str, known: dict[str, str]) -> tuple[str, str] | None:
    """(table_name, reason) for a file outside every source's folder."""
    first, *rest = relative.split("/")
    if not rest:
        if first in GENERATOR_FILES:
            return None
        return "", (
            "file at the landing zone's root: landing files go in <source>/<table>/ "
            f"(sources: {', '.join(f'{folder}/' for folder in sorted(known))})"
        )
    if first in known:
        return None
    close = difflib.get_close_matches(first, list(known), n=1, cutoff=0.8)
    hint = f"; did you mean {close[0]}/?" if close else ""
    return first, (
        f"unknown source folder {first}/: no contract lands there "
        f"(sources: {', '.join(f'{folder}/' for folder in sorted(known))}){hint}"
    )


def landing_root_source(landing_dir: Path | None = None) -> DltSource:
    """The dlt source reporting files outside every source's folder (see the module doc)."""
    root = (landing_dir or paths.landing_dir()).resolve()
    known = source_folders()

    @dlt.source(name=LANDING_ROOT_SOURCE, max_table_nesting=0)
    def source() -> Iterator:
        folders = [root] if root.exists() else []
        yield _refused_files(
            "unknown_landing_files", folders, root, lambda relative: root_refusal(relative, known)
        )

    return source()


def dlt_source(source_name: str, landing_dir: Path | None = None) -> DltSource:
    """The dlt source of a source system, or of the landing root for `landing_root`."""
    if source_name == LANDING_ROOT_SOURCE:
        return landing_root_source(landing_dir)
    return landing_source(source_name, landing_dir)


def landing_pipeline(
    source_name: str, warehouse_path: Path | None = None, dlt_dir: Path | None = None
) -> dlt.Pipeline:
    """The dlt pipeline loading one source system into its raw schema in the warehouse (or,
    for `landing_root`, the report of files outside every source's folder into `_sros`)."""
    if source_name == LANDING_ROOT_SOURCE:
        schema = LANDING_ROOT_DATASET
    else:
        schema = next(c.schema for (s, _), c in load_contracts().items() if s == source_name)
    # dlt's load keeps DuckDB's default memory limit (80% of RAM), not SROS_DUCKDB_MEMORY_LIMIT:
    # a load with repeated keys is deduplicated with one window over the whole load, which
    # DuckDB cannot spill (_table_hints). Measured: 15.5M touch rows fail at 6GB and take
    # 39.1 s at 18GB; 7.7M take 19.6 s at 6GB (bench/LOG.md, "10M leads").
    return dlt.pipeline(
        pipeline_name=f"sros_{source_name}",
        destination=dlt.destinations.duckdb(str(warehouse_path or paths.warehouse_path())),
        dataset_name=schema,
        pipelines_dir=str(dlt_dir or paths.dlt_dir()),
    )


# --- recovery and verification -----------------------------------------------------------


def recover(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Complete what a killed run left, before a new load: finish pending load packages, then
    delete report and quarantine rows of loads that never completed and second copies of a
    row a re-run load job appended again. Returns rows deleted per table."""
    appended: dict[str, list[str]] = {}
    if pipeline.has_pending_data:
        if pipeline.list_extracted_load_packages():
            pipeline.normalize()
        if pipeline.list_normalized_load_packages():
            appended = _deduplicate_pending_loads(pipeline)
            pipeline.load()
    removed: dict[str, int] = {}
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return removed
        existing = {
            name
            for (name,) in client.execute_sql(
                "select table_name from information_schema.tables where table_schema = ?",
                client.dataset_name,
            )
        }
        completed = (
            f"select load_id from {client.make_qualified_table_name('_dlt_loads')} where status = 0"
            if "_dlt_loads" in existing
            else "select cast(null as varchar) where false"  # no load ever completed
        )
        for table in (LOAD_REPORT_TABLE, QUARANTINE_TABLE):
            if table not in existing:
                continue
            qualified = client.make_qualified_table_name(table)
            # The rows a re-run load job appended again share their _dlt_id with the first.
            phantom = (
                f"where _dlt_load_id not in ({completed}) or rowid not in "
                f"(select min(rowid) from {qualified} group by _dlt_id)"
            )
            if count := _delete_rows(client, qualified, phantom):
                removed[table] = count
        for table, key in appended.items():
            # A first load's job run again appended a second copy of its rows (each key is
            # once in a first load, so a repeated key is such a copy).
            qualified = client.make_qualified_table_name(table)
            copies = (
                f"where rowid not in (select min(rowid) from {qualified} "
                f"group by {', '.join(map(_quote, key))})"
            )
            if count := _delete_rows(client, qualified, copies):
                removed[table] = count
    return removed


def _delete_rows(client: SqlClientBase, qualified: str, where: str) -> int:
    """Delete the rows of table `qualified` that `where` (a WHERE clause) selects; -> how many."""
    [(count,)] = client.execute_sql(f"select count(*) from {qualified} {where}")
    if count:
        client.execute_sql(f"delete from {qualified} {where}")
    return count


def _deduplicate_pending_loads(pipeline: dlt.Pipeline) -> dict[str, list[str]]:
    """Have dlt deduplicate every table of the pending loads it completes, and return the
    tables those loads append as a first load, with their key columns.

    dlt runs again a load job it had not recorded complete, and a copy job that had already
    appended its file to the staging table then appends it twice. A load declared
    deduplicated (_table_hints) would insert both copies, so a pending load completes with
    dlt's deduplication: each repeat is a copy of one row, so whichever it keeps is right.
    A first load appended straight into its table (_table_hints) has no staging table to
    deduplicate: recover() removes such a second copy from the table after the load.
    The load's tables are in its package's schema, which dlt's load reads (dlt 1.31 has no
    public call to change it)."""
    packages = pipeline._get_load_storage().normalized_packages
    appended: dict[str, list[str]] = {}
    for load_id in pipeline.list_normalized_load_packages():
        schema = packages.load_schema(load_id)
        declared = [table for table in schema.tables.values() if table.get(_DEDUPLICATED_HINT)]
        for table in declared:
            table[_DEDUPLICATED_HINT] = False
            if table.get(_FIRST_LOAD_HINT):
                appended[table["name"]] = [
                    name for name, column in table["columns"].items() if column.get("primary_key")
                ]
        if declared:
            packages.save_schema(load_id, schema)
    return appended


def verify_load(pipeline: dlt.Pipeline, load_ids: list[str]) -> list[dict]:
    """Check that every row a load's files passed was loaded, and return the load reports.

    Rows read = rows loaded + rows quarantined + rows refused is checked per file when it is
    read; here the rows loaded and marked deleted per table (summed over the load reports)
    must equal the rows dlt normalised into that table in the same load.
    """
    if not load_ids:
        return []
    recover(pipeline)
    normalised = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    placeholders = ", ".join("?" for _ in load_ids)
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return []
        report_table = client.make_qualified_table_name(LOAD_REPORT_TABLE)
        try:
            rows = client.execute_sql(
                f"select {', '.join(REPORT_FIELDS)} from {report_table} "
                f"where _dlt_load_id in ({placeholders}) order by source_file, file_modified_at",
                *load_ids,
            )
        except Exception as error:  # the report table does not exist yet: nothing was read
            if "does not exist" in str(error):
                return []
            raise
    reports = [dict(zip(REPORT_FIELDS, row, strict=True)) for row in rows]
    written_by_table: dict[str, int] = {}
    for report in reports:
        if report["status"] == "refused":
            continue
        written_by_table[report["table_name"]] = (
            written_by_table.get(report["table_name"], 0)
            + report["rows_loaded"]
            + report["rows_deleted"]
        )
    mismatches = [
        f"{table}: files passed {passed} rows, dlt loaded {normalised.get(table, 0)}"
        for table, passed in sorted(written_by_table.items())
        if normalised.get(table, 0) != passed
    ]
    if mismatches:
        raise IngestionError(
            f"load {', '.join(load_ids)} of {pipeline.pipeline_name} does not reconcile: "
            + "; ".join(mismatches)
        )
    return reports


def ingest(
    source_name: str,
    landing_dir: Path | None = None,
    warehouse_path: Path | None = None,
    dlt_dir: Path | None = None,
) -> list[dict]:
    """Load one source system's new landing files outside Dagster (benchmarks, scripts) and
    return the verified load reports (refused files included). `landing_root` reports the
    files outside every source's folder. Dagster runs the same source and pipeline through
    dagster-dlt."""
    pipeline = landing_pipeline(source_name, warehouse_path, dlt_dir)
    recover(pipeline)
    load_info = pipeline.run(dlt_source(source_name, landing_dir))
    install_key(warehouse_path or paths.warehouse_path())  # for dbt: sros/pseudonyms.py
    return verify_load(pipeline, load_info.loads_ids)


def ingest_landing_root(
    landing_dir: Path | None = None,
    warehouse_path: Path | None = None,
    dlt_dir: Path | None = None,
) -> list[dict]:
    """Report the files outside every source's folder (`_sros._sros_load_report`)."""
    return ingest(LANDING_ROOT_SOURCE, landing_dir, warehouse_path, dlt_dir)
