"""dlt sources that load the landing zone into the raw schemas.

One dlt source per source system (salesforce, hubspot, marketing, ...), one resource per
contract table. A resource lists `<landing>/<table>/*.csv` with dlt's filesystem source and
reads each file version it has not loaded before with `read_landing_file`. The versions loaded
(path -> modification time and size) are kept in the resource's dlt state, which dlt commits to
the warehouse together with the data: a file is loaded once, a rewritten file again, and a
late file is loaded even when its modification time is older than files already loaded (a
max-modification-date cursor would skip it). Each file yields three kinds of rows:

- the table's rows, merged on the contract's primary key (a re-exported record replaces the
  old one; Fivetran-style `_fivetran_synced` decides between two versions in one load);
- `_sros_quarantine`: every rejected row with file, row, column, value and reason;
- `_sros_load_report`: one row per file: rows read, loaded and quarantined.

After a load, `verify_load` checks the reports against what dlt actually normalised and loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dlt
from dlt.extract.source import DltSource
from dlt.sources.filesystem import FileItemDict, filesystem

from sros import paths
from sros.config import load_config
from sros.contracts import TableContract, contracts_for, load_contracts
from sros.ingest.reader import read_landing_file
from sros.pseudonyms import install_key

QUARANTINE_TABLE = "_sros_quarantine"
LOAD_REPORT_TABLE = "_sros_load_report"

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
    "rows_read": {"data_type": "bigint", "nullable": False},
    "rows_loaded": {"data_type": "bigint", "nullable": False},
    "rows_quarantined": {"data_type": "bigint", "nullable": False},
    "new_columns": {"data_type": "text"},
    "missing_columns": {"data_type": "text"},
    "warnings": {"data_type": "text"},
    "status": {"data_type": "text", "nullable": False},
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


def _column_hints(contract: TableContract) -> dict[str, dict]:
    hints = {column.name: dict(_DLT_TYPES[column.data_type]) for column in contract.columns}
    if "_fivetran_synced" in hints:
        # Two versions of a record in one load: the later sync wins, as in Fivetran.
        hints["_fivetran_synced"]["dedup_sort"] = "desc"
    return hints


def _table_reader(contract: TableContract):
    """A dlt transformer that turns listed landing files of one table into rows.

    Each of its three outputs carries its own hints (a table variant), so the quarantine and
    the report do not inherit the table's key and merge disposition.
    """
    table_hints = dlt.mark.make_hints(
        table_name=contract.name,
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
        primary_key=list(contract.primary_key),
        columns=_column_hints(contract),
    )
    quarantine_hints = dlt.mark.make_hints(
        table_name=QUARANTINE_TABLE, write_disposition="append", columns=_QUARANTINE_COLUMNS
    )
    report_hints = dlt.mark.make_hints(
        table_name=LOAD_REPORT_TABLE, write_disposition="append", columns=_REPORT_COLUMNS
    )

    @dlt.transformer(name=contract.name)
    def read_files(files: list[FileItemDict]) -> Iterator:
        loaded_versions: dict[str, str] = dlt.current.resource_state().setdefault(
            "loaded_file_versions", {}
        )
        for file_item in sorted(files, key=lambda item: item["relative_path"]):
            version = f"{file_item['modification_date'].isoformat()}|{file_item['size_in_bytes']}"
            if loaded_versions.get(file_item["relative_path"]) == version:
                continue
            loaded_versions[file_item["relative_path"]] = version
            result = read_landing_file(
                Path(file_item.local_file_path),
                contract,
                display_name=f"{contract.landing}/{file_item['relative_path']}",
                encoding=load_config().source(contract.source).encoding,
            )
            if result.rows.num_rows:
                yield dlt.mark.with_hints(result.rows, table_hints, create_table_variant=True)
            if result.quarantine:
                yield dlt.mark.with_hints(
                    result.quarantine, quarantine_hints, create_table_variant=True
                )
            yield dlt.mark.with_hints([result.report], report_hints, create_table_variant=True)

    return read_files


def landing_source(source_name: str, landing_dir: Path | None = None) -> DltSource:
    """The dlt source for one source system's landing folder."""
    root = (landing_dir or paths.landing_dir()).resolve()
    contracts = contracts_for(source_name)
    if not contracts:
        raise ValueError(f"no contracts for source {source_name!r}; see models/staging/*/")

    @dlt.source(name=source_name, max_table_nesting=0)
    def source() -> Iterator:
        for contract in contracts:
            files = filesystem(  # a folder that does not exist lists no files
                bucket_url=(root / contract.landing).as_uri(), file_glob="*.csv"
            ).with_name(f"{contract.name}_files")
            yield (files | _table_reader(contract)).with_name(contract.name)

    return source()


def landing_pipeline(
    source_name: str, warehouse_path: Path | None = None, dlt_dir: Path | None = None
) -> dlt.Pipeline:
    """The dlt pipeline loading one source system into its raw schema in the warehouse."""
    schema = next(c.schema for (s, _), c in load_contracts().items() if s == source_name)
    return dlt.pipeline(
        pipeline_name=f"sros_{source_name}",
        destination=dlt.destinations.duckdb(str(warehouse_path or paths.warehouse_path())),
        dataset_name=schema,
        pipelines_dir=str(dlt_dir or paths.dlt_dir()),
    )


def verify_load(pipeline: dlt.Pipeline, load_ids: list[str]) -> list[dict]:
    """Check that every row a load's files passed was loaded, and return the load reports.

    Rows read = rows loaded + rows quarantined is checked per file when it is read; here the
    rows loaded per table (summed over the load reports) must equal the rows dlt normalised
    into that table in the same load.
    """
    if not load_ids:
        return []
    normalised = pipeline.last_trace.last_normalize_info.row_counts if pipeline.last_trace else {}
    placeholders = ", ".join("?" for _ in load_ids)
    with pipeline.sql_client() as client:
        if not client.has_dataset():
            return []
        report_table = client.make_qualified_table_name(LOAD_REPORT_TABLE)
        try:
            rows = client.execute_sql(
                f"select source_file, table_name, rows_read, rows_loaded, rows_quarantined, "
                f"status from {report_table} where _dlt_load_id in ({placeholders}) "
                f"order by source_file",
                *load_ids,
            )
        except Exception as error:  # the report table does not exist yet: nothing was read
            if "does not exist" in str(error):
                return []
            raise
    reports = [
        dict(
            zip(
                [
                    "source_file",
                    "table_name",
                    "rows_read",
                    "rows_loaded",
                    "rows_quarantined",
                    "status",
                ],
                row,
                strict=True,
            )
        )
        for row in rows
    ]
    loaded_by_table: dict[str, int] = {}
    for report in reports:
        loaded_by_table[report["table_name"]] = (
            loaded_by_table.get(report["table_name"], 0) + report["rows_loaded"]
        )
    mismatches = [
        f"{table}: files passed {passed} rows, dlt loaded {normalised.get(table, 0)}"
        for table, passed in sorted(loaded_by_table.items())
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
    return the verified load reports. Dagster runs the same source and pipeline through
    dagster-dlt."""
    pipeline = landing_pipeline(source_name, warehouse_path, dlt_dir)
    load_info = pipeline.run(landing_source(source_name, landing_dir))
    install_key(warehouse_path or paths.warehouse_path())  # for dbt: sros/pseudonyms.py
    return verify_load(pipeline, load_info.loads_ids)
