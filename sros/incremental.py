"""Incremental tables built by an older SROS, found before the build.

An incremental model's run reads its own table: the days to rebuild are found by comparing
that table with the model's input (int_person_touchpoints, fct_sales_activities, ...). A
table built before the model gained, lost or renamed a column therefore fails that run deep
in the build with a database error ("Table "loaded" does not have a column named ..."), and
dbt's `on_schema_change` cannot help: the model's own query fails first. Every incremental
model declares all its columns in its yml (tests/test_incremental_models.py checks a fresh
build against it), so comparing the warehouse's table with that list finds such a table
before dbt starts, and the run stops at once with the command that rebuilds it.

The same holds on the Spark engine: there the built columns are read from the Parquet files
of the local session's tables (sros.spark.built_table_columns), so the check needs no JVM.
Spark also needs the table partitioned as the model says: its incremental strategy,
insert_overwrite, replaces the partitions the run writes, and in a table without them (one an
older SROS built as a plain table, before its model became incremental) it would replace the
whole table with the run's few days, silently. The partition columns come from the table's
folders (sros.spark.built_table_partitions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

# The columns (lower case) of a built table, by schema and name; an empty set when the table
# has not been built.
ColumnsOf = Callable[[str, str], set[str]]
# The partition columns (lower case) of a built table, by schema and name (Spark).
PartitionsOf = Callable[[str, str], set[str]]


@dataclass(frozen=True)
class OutdatedTable:
    """An incremental model whose table in the warehouse has other columns than its yml."""

    model: str
    relation: str
    missing: tuple[str, ...]  # declared by the model, not in the table
    extra: tuple[str, ...]  # in the table, no longer declared
    # (the model's partition columns, the table's) when they differ (Spark); else None
    partitions: tuple[tuple[str, ...], tuple[str, ...]] | None = None

    def describe(self) -> str:
        parts = [f"missing {', '.join(self.missing)}" if self.missing else ""]
        parts.append(f"no longer built: {', '.join(self.extra)}" if self.extra else "")
        if self.partitions is not None:
            declared, built = (", ".join(columns) or "nothing" for columns in self.partitions)
            parts.append(f"partitioned by {built}, the model by {declared}")
        return f"{self.relation} ({'; '.join(part for part in parts if part)})"


class OutdatedIncrementalTables(RuntimeError):
    """The warehouse holds incremental tables an older SROS built; says how to rebuild them
    (on the engine's dbt target: `spark` builds Spark's tables)."""

    def __init__(self, tables: list[OutdatedTable], target: str = "duckdb") -> None:
        self.tables = tables
        selection = " ".join(f"+{table.model}" for table in tables)
        on_target = " --target spark" if target == "spark" else ""
        where = "Spark's tables hold" if target == "spark" else "the warehouse has"
        super().__init__(
            f"{where} incremental tables of an older SROS, which this version cannot "
            f"add to: {'; '.join(table.describe() for table in tables)}. Rebuild them once "
            f"from the raw tables (nothing is lost): sros dbt run --full-refresh{on_target} "
            f"--select {selection}, then run again"
        )


def incremental_models(manifest: dict) -> list[dict]:
    """The models materialized `incremental` in a dbt manifest (a disabled model is not in
    its nodes), by name."""
    return sorted(
        (
            node
            for node in manifest["nodes"].values()
            if node["resource_type"] == "model"
            and node["config"].get("materialized") == "incremental"
        ),
        key=lambda node: node["name"],
    )


def duckdb_table_columns(connection: duckdb.DuckDBPyConnection) -> ColumnsOf:
    """The built columns of the tables of a connected DuckDB warehouse."""

    def columns_of(schema: str, table: str) -> set[str]:
        return {
            name.lower()
            for (name,) in connection.execute(
                "select column_name from information_schema.columns"
                " where table_schema = ? and table_name = ?",
                [schema, table],
            ).fetchall()
        }

    return columns_of


def outdated_incremental_tables(
    manifest: dict, columns_of: ColumnsOf, partitions_of: PartitionsOf | None = None
) -> list[OutdatedTable]:
    """The incremental models whose table is built with other columns than the model
    declares (compared by name, ignoring case, as DuckDB and Spark do), or, with
    partitions_of (Spark), partitioned otherwise than the model's partition_by. A table not
    built yet is not outdated: the build creates it."""
    outdated = []
    for node in incremental_models(manifest):
        schema, table = node["schema"], node["alias"]
        built = columns_of(schema, table)
        if not built:
            continue
        declared = {name.lower() for name in node["columns"]}
        columns_differ = bool(declared) and built != declared
        partitions = None
        if partitions_of is not None:
            partition_by = node["config"].get("partition_by") or []
            if isinstance(partition_by, str):
                partition_by = [partition_by]
            wanted = {column.lower() for column in partition_by}
            found = partitions_of(schema, table)
            if wanted != found:
                partitions = (tuple(sorted(wanted)), tuple(sorted(found)))
        if columns_differ or partitions is not None:
            outdated.append(
                OutdatedTable(
                    model=node["name"],
                    relation=f"{schema}.{table}",
                    missing=tuple(sorted(declared - built)) if columns_differ else (),
                    extra=tuple(sorted(built - declared)) if columns_differ else (),
                    partitions=partitions,
                )
            )
    return outdated
