"""Ingestion: dlt loads each source system's landing files into its raw schema.

One Dagster multi-asset per source system; one asset per raw table, keyed
`<source>/<table>` like dagster-dbt keys the matching dbt source, so the lineage runs from
landing file to raw table to staging model, and one asset `<source>/_sros_landing_files` for
the files under the source's folder that no table reads (refused, see sros/ingest/pipeline.py).
A raw history table (`<table>_history`, contract `meta.history`) is written by its table's
resource, so it is an external asset `<source>/<table>_history` downstream of the table's,
reported materialized whenever the table's asset is.
A last multi-asset, `landing_root/unknown_landing_files`, reports the files outside every
source's folder (an unknown source folder, a file at the landing root) into `_sros`.

After each load two asset checks per raw table read the load report of committed loads: every
file reconciles (blocking), and no row was quarantined (warning, with the first rejected rows
shown); one check per source (and one for the landing root) warns about refused files,
naming each file and its reason; and `no_load_warnings` (warning) per raw table shows the
load report's warnings: a file that loaded but looks wrong, such as a percentage column whose
values all look like fractions.
"""

from collections.abc import Iterator
from typing import TYPE_CHECKING

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.defs.landing import landing_key
from sros import locks, paths
from sros.contracts import TableContract, contracts_for, source_names
from sros.ingest.pipeline import (
    LANDING_ROOT_DATASET,
    LANDING_ROOT_SOURCE,
    LOAD_REPORT_TABLE,
    QUARANTINE_TABLE,
    REFUSED_FILES_RESOURCE,
    dlt_source,
    landing_pipeline,
    recover,
    verify_load,
)
from sros.locks import hold_working

if TYPE_CHECKING:
    import duckdb


class RawTableTranslator(DagsterDltTranslator):
    """Raw tables are keyed like dagster-dbt keys dbt sources: [source, table]."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        source, table = data.resource.source_name, data.resource.name
        if source == LANDING_ROOT_SOURCE:
            deps, description = (
                [],
                (
                    "Files outside every source's folder (unknown source folders, files at the "
                    f"landing root): refused, each reported in {LANDING_ROOT_DATASET}."
                    f"{LOAD_REPORT_TABLE}."
                ),
            )
        elif table == REFUSED_FILES_RESOURCE:
            deps = [landing_key(source, contract.name) for contract in contracts_for(source)]
            description = (
                f"Files under the {source} landing folder that no table reads (unknown table "
                f"folder, nested folder, unsupported format): refused, each reported in "
                f"{LOAD_REPORT_TABLE}."
            )
        else:
            deps = [landing_key(source, table)]
            description = f"Raw {source}.{table}, loaded by dlt from the landing files."
        return spec.replace_attributes(
            key=dg.AssetKey([source, table]),
            deps=deps,
            group_name="raw",
            description=description,
        )


def _ingestion_assets(source: str) -> dg.AssetsDefinition:
    # The source and pipeline given to the decorator only describe the assets; each run builds
    # its own, so paths (SROS_HOME, ...) are read when the run starts, not at import.
    @dlt_assets(
        dlt_source=dlt_source(source),
        dlt_pipeline=landing_pipeline(source),
        name=f"ingest_{source}",
        dagster_dlt_translator=RawTableTranslator(),
    )
    def ingest(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator:
        pipeline = landing_pipeline(source)
        # dlt opens the working file several times; hold it for the whole load, waiting out
        # another process's brief lock once, at the start (sros/locks.py).
        with hold_working(paths.warehouse_path(), notify=context.log.warning):
            # A killed run's pending load first, and no report row without its committed load.
            removed = recover(pipeline)
            if removed:
                context.log.warning(
                    "removed report rows of loads that never completed: %s", removed
                )
            yield from dlt.run(
                context=context, dlt_source=dlt_source(source), dlt_pipeline=pipeline
            )
            load_info = pipeline.last_trace.last_load_info if pipeline.last_trace else None
            reports = verify_load(pipeline, load_info.loads_ids if load_info else [])
        for contract in contracts_for(source):
            if contract.history_table and _raw_key(contract) in context.selected_asset_keys:
                yield dg.AssetMaterialization(asset_key=_history_key(contract))
        for report in reports:
            if report["status"] == "refused":
                context.log.warning("%(source_file)s refused: %(reason)s", report)
                continue
            context.log.info(
                "%(source_file)s: read %(rows_read)s, loaded %(rows_loaded)s, "
                "quarantined %(rows_quarantined)s, marked deleted %(rows_deleted)s (%(status)s)",
                report,
            )

    return ingest


def _raw_key(contract: TableContract) -> dg.AssetKey:
    return dg.AssetKey([contract.source, contract.name])


def _history_key(contract: TableContract) -> dg.AssetKey:
    return dg.AssetKey([contract.source, contract.history_table])


HISTORY_ASSETS = [
    dg.AssetSpec(
        key=_history_key(contract),
        deps=[_raw_key(contract)],
        group_name="raw",
        description=(
            f"Raw {contract.source}.{contract.history_table}: the versions of "
            f"{', '.join(contract.tracked_columns)} of {contract.name}, written by dlt (scd2) "
            f"when it loads {contract.source}.{contract.name}."
        ),
    )
    for source in source_names()
    for contract in contracts_for(source)
    if contract.history_table
]
INGESTION_ASSETS = [
    *(_ingestion_assets(source) for source in [*source_names(), LANDING_ROOT_SOURCE]),
    *HISTORY_ASSETS,
]


def _committed(schema: str) -> str:
    """SQL: the report rows of loads dlt completed (a killed load's rows never count)."""
    return f"_dlt_load_id in (select load_id from {schema}._dlt_loads where status = 0)"


def _load_checks(source: str) -> dg.AssetChecksDefinition:
    contracts = contracts_for(source)
    schema = contracts[0].schema
    specs = [
        spec
        for contract in contracts
        for spec in (
            dg.AssetCheckSpec(
                "load_reconciles",
                asset=dg.AssetKey([source, contract.name]),
                blocking=True,
                description=(
                    "Every landing file: rows read = rows loaded + rows quarantined + rows refused."
                ),
            ),
            dg.AssetCheckSpec(
                "no_quarantined_rows",
                asset=dg.AssetKey([source, contract.name]),
                description="No row of the loaded files was quarantined (see the sample).",
            ),
        )
    ]

    @dg.multi_asset_check(specs=specs, name=f"{source}_load_checks", can_subset=True)
    def load_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        working = locks.connect(paths.warehouse_path(), read_only=True, notify=context.log.warning)
        with working as connection:
            tables = {
                name
                for (name,) in connection.execute(
                    "select table_name from information_schema.tables where table_schema = ?",
                    [schema],
                ).fetchall()
            }
            for contract in contracts:
                key = dg.AssetKey([source, contract.name])
                selected = {
                    check.name
                    for check in context.selected_asset_check_keys
                    if check.asset_key == key
                }
                if not selected:
                    continue
                files, unreconciled, quarantined, sample = 0, 0, 0, []
                if LOAD_REPORT_TABLE in tables:
                    files, unreconciled, quarantined = connection.execute(
                        f"select count(*), count(*) filter (where rows_read is distinct from "
                        f"rows_loaded + rows_quarantined + rows_refused), "
                        f"coalesce(sum(rows_quarantined), 0) "
                        f"from {schema}.{LOAD_REPORT_TABLE} where table_name = ? "
                        f"and {_committed(schema)}",
                        [contract.name],
                    ).fetchone()
                if quarantined and QUARANTINE_TABLE in tables:
                    sample = connection.execute(
                        f"select source_file, row_number, column_name, value, reason "
                        f"from {schema}.{QUARANTINE_TABLE} where table_name = ? "
                        f"and {_committed(schema)} order by source_file, row_number limit 5",
                        [contract.name],
                    ).fetchall()
                if "load_reconciles" in selected:
                    yield dg.AssetCheckResult(
                        asset_key=key,
                        check_name="load_reconciles",
                        passed=unreconciled == 0,
                        metadata={"files": files, "files_not_reconciled": unreconciled},
                    )
                if "no_quarantined_rows" in selected:
                    yield dg.AssetCheckResult(
                        asset_key=key,
                        check_name="no_quarantined_rows",
                        passed=quarantined == 0,
                        severity=dg.AssetCheckSeverity.WARN,
                        metadata={
                            "rows_quarantined": int(quarantined),
                            "sample": dg.MetadataValue.md(_sample_table(sample)),
                        },
                    )

    return load_checks


def refused_files(connection: "duckdb.DuckDBPyConnection", schema: str) -> list[tuple]:
    """(file, table folder, rows, reason) of every refused file version in `schema`'s load
    report (committed loads only), by file."""
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? "
        "and table_name in (?, '_dlt_loads')",
        [schema, LOAD_REPORT_TABLE],
    ).fetchone()[0]
    if found < 2:
        return []
    return connection.execute(
        f"select source_file, table_name, rows_refused, reason from {schema}.{LOAD_REPORT_TABLE} "
        f"where status = 'refused' and {_committed(schema)} order by source_file, file_modified_at"
    ).fetchall()


def _refused_files_check(source: str) -> dg.AssetChecksDefinition:
    """A warning on the source's refused-files asset, naming every refused file and why."""
    if source == LANDING_ROOT_SOURCE:
        schema, asset = LANDING_ROOT_DATASET, dg.AssetKey([source, "unknown_landing_files"])
    else:
        schema = contracts_for(source)[0].schema
        asset = dg.AssetKey([source, REFUSED_FILES_RESOURCE])

    @dg.asset_check(
        asset=asset,
        name="no_refused_files",
        description="Every file under the landing folder is read by a table (none refused).",
    )
    def no_refused_files() -> dg.AssetCheckResult:
        working = locks.connect(paths.warehouse_path(), read_only=True)
        with working as connection:
            refused = refused_files(connection, schema)
        return dg.AssetCheckResult(
            passed=not refused,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "files_refused": len(refused),
                "files": dg.MetadataValue.md(
                    _markdown(["file", "table folder", "rows", "reason"], refused[:20])
                ),
            },
        )

    return no_refused_files


def _sample_table(rows: list[tuple]) -> str:
    return _markdown(["file", "row", "column", "value", "reason"], rows)


def _markdown(header: list[str], rows: list[tuple]) -> str:
    if not rows:
        return "none"
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _warning_checks(source: str) -> dg.AssetChecksDefinition:
    """`no_load_warnings` per raw table: the load report's warnings (a percent column whose
    values all look like fractions, ...), file by file. The files loaded; the check warns."""
    contracts = contracts_for(source)
    schema = contracts[0].schema
    specs = [
        dg.AssetCheckSpec(
            "no_load_warnings",
            asset=dg.AssetKey([source, contract.name]),
            description="No loaded file raised a warning (e.g. a percentage given as a fraction).",
        )
        for contract in contracts
    ]

    @dg.multi_asset_check(specs=specs, name=f"{source}_load_warning_checks", can_subset=True)
    def warning_checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        selected = {check.asset_key for check in context.selected_asset_check_keys}
        working = locks.connect(paths.warehouse_path(), read_only=True, notify=context.log.warning)
        with working as connection:
            columns = {
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, LOAD_REPORT_TABLE],
                ).fetchall()
            }
            for contract in contracts:
                key = dg.AssetKey([source, contract.name])
                if key not in selected:
                    continue
                warnings = []
                if "warnings" in columns:
                    warnings = connection.execute(
                        f"select source_file, warnings from {schema}.{LOAD_REPORT_TABLE} "
                        "where table_name = ? and coalesce(warnings, '') <> '' "
                        f"and {_committed(schema)} order by source_file",
                        [contract.name],
                    ).fetchall()
                yield dg.AssetCheckResult(
                    asset_key=key,
                    check_name="no_load_warnings",
                    passed=not warnings,
                    severity=dg.AssetCheckSeverity.WARN,
                    metadata={
                        "files_with_warnings": len(warnings),
                        "warnings": dg.MetadataValue.md(_warning_table(warnings[:20])),
                    },
                )

    return warning_checks


def _warning_table(rows: list[tuple]) -> str:
    if not rows:
        return "none"
    lines = ["| file | warnings |", "| --- | --- |"]
    lines += [f"| {file} | {text.replace('|', '/')} |" for file, text in rows]
    return "\n".join(lines)


LOAD_CHECKS = [
    *(_load_checks(source) for source in source_names()),
    *(_refused_files_check(source) for source in [*source_names(), LANDING_ROOT_SOURCE]),
    *(_warning_checks(source) for source in source_names()),
]
