"""Ingestion: dlt loads each source system's landing files into its raw schema.

One Dagster multi-asset per source system; one asset per raw table, keyed
`<source>/<table>` like dagster-dbt keys the matching dbt source, so the lineage runs from
landing file to raw table to staging model. After each load two asset checks per raw table
read the load report: every file reconciles (blocking), and no row was quarantined (warning,
with the first rejected rows shown). A third, `no_load_warnings` (warning), shows the load
report's warnings: a file that loaded but looks wrong, such as a percentage column whose values
all look like fractions.
"""

from collections.abc import Iterator

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from orchestration.defs.landing import landing_key
from sros import locks, paths
from sros.contracts import contracts_for, source_names
from sros.ingest.pipeline import (
    LOAD_REPORT_TABLE,
    QUARANTINE_TABLE,
    landing_pipeline,
    landing_source,
    verify_load,
)
from sros.locks import hold_working


class RawTableTranslator(DagsterDltTranslator):
    """Raw tables are keyed like dagster-dbt keys dbt sources: [source, table]."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        spec = super().get_asset_spec(data)
        source, table = data.resource.source_name, data.resource.name
        return spec.replace_attributes(
            key=dg.AssetKey([source, table]),
            deps=[landing_key(source, table)],
            group_name="raw",
            description=f"Raw {source}.{table}, loaded by dlt from the landing files.",
        )


def _ingestion_assets(source: str) -> dg.AssetsDefinition:
    # The source and pipeline given to the decorator only describe the assets; each run builds
    # its own, so paths (SROS_HOME, ...) are read when the run starts, not at import.
    @dlt_assets(
        dlt_source=landing_source(source),
        dlt_pipeline=landing_pipeline(source),
        name=f"ingest_{source}",
        dagster_dlt_translator=RawTableTranslator(),
    )
    def ingest(context: dg.AssetExecutionContext, dlt: DagsterDltResource) -> Iterator:
        pipeline = landing_pipeline(source)
        # dlt opens the working file several times; hold it for the whole load, waiting out
        # another process's brief lock once, at the start (sros/locks.py).
        with hold_working(paths.warehouse_path(), notify=context.log.warning):
            yield from dlt.run(
                context=context, dlt_source=landing_source(source), dlt_pipeline=pipeline
            )
            load_info = pipeline.last_trace.last_load_info if pipeline.last_trace else None
            reports = verify_load(pipeline, load_info.loads_ids if load_info else [])
        for report in reports:
            context.log.info(
                "%(source_file)s: read %(rows_read)s, loaded %(rows_loaded)s, "
                "quarantined %(rows_quarantined)s (%(status)s)",
                report,
            )

    return ingest


INGESTION_ASSETS = [_ingestion_assets(source) for source in source_names()]


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
                description="Every landing file: rows read = rows loaded + rows quarantined.",
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
                        f"select count(*), count(*) filter (where rows_read <> rows_loaded + "
                        f"rows_quarantined), coalesce(sum(rows_quarantined), 0) "
                        f"from {schema}.{LOAD_REPORT_TABLE} where table_name = ?",
                        [contract.name],
                    ).fetchone()
                if quarantined and QUARANTINE_TABLE in tables:
                    sample = connection.execute(
                        f"select source_file, row_number, column_name, value, reason "
                        f"from {schema}.{QUARANTINE_TABLE} where table_name = ? "
                        f"order by source_file, row_number limit 5",
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


def _sample_table(rows: list[tuple]) -> str:
    if not rows:
        return "none"
    lines = ["| file | row | column | value | reason |", "| --- | --- | --- | --- | --- |"]
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
                        "order by source_file",
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


LOAD_CHECKS = [_load_checks(source) for source in source_names()] + [
    _warning_checks(source) for source in source_names()
]
