"""The Spark engine's hand-over: the ingested raw tables, as Parquet, where Spark reads them.

Ingestion (dlt: typing by the contract, quarantine, load reports, deletions, history) writes
the raw schemas of the DuckDB warehouse on either engine. For the `spark` target, each source
table dbt declares is then written to `<spark_dir>/raw/<schema>/<table>/part-0.parquet` and
registered in Spark's catalog as an external table over that folder (the dbt operation
`register_parquet_sources`), so the models read `raw_salesforce.lead` on Spark as they do on
DuckDB. (A cluster needs that folder on storage it reads; only the local session is built
and tested here.)

A table's folder is replaced whole: the new file is written beside it and renamed into place,
so a reader sees the previous export or the new one, never half of one, and an interrupted
export leaves the previous one standing. Running it again writes the same files.

`session()` opens the local session the `spark` target describes, for what reads Spark's
tables outside dbt (the Great Expectations suites, expectations/runner.py).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from sros import paths
from sros.incremental import ColumnsOf, PartitionsOf
from sros.paths import PROJECT_DIR
from sros.sql import sql_string, sql_string_list

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def raw_root() -> Path:
    """Where the raw tables are written as Parquet for Spark."""
    return paths.spark_dir() / "raw"


def source_tables(manifest: Path) -> list[tuple[str, str]]:
    """The (schema, table) of every enabled dbt source in a parsed manifest: what the Spark
    build reads, so what must be exported."""
    document = json.loads(manifest.read_text())
    return sorted(
        {(source["schema"], source["identifier"]) for source in document["sources"].values()}
    )


def export_raw_tables(
    warehouse: Path, tables: Iterable[tuple[str, str]], root: Path | None = None
) -> dict[str, int]:
    """Write each (schema, table) of the DuckDB warehouse to <root>/<schema>/<table>/ as one
    Parquet file; return the rows written per `schema.table`. A table the warehouse lacks is
    an error naming it (ingestion creates every table of an enabled source, so a missing one
    means ingestion has not run for it)."""
    root = root or raw_root()
    written: dict[str, int] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        present = set(
            con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        )
        tables = list(tables)
        missing = [
            f"{schema}.{table}" for schema, table in tables if (schema, table) not in present
        ]
        if missing:
            raise FileNotFoundError(
                f"{warehouse} has no table {', '.join(missing)}: run the ingestion "
                "(`sros ingest`) before the Spark build"
            )
        for schema, table in tables:
            folder = root / schema / table
            folder.parent.mkdir(parents=True, exist_ok=True)
            staging = folder.parent / f".{table}.{uuid.uuid4().hex}"
            staging.mkdir()
            try:
                target = staging / "part-0.parquet"
                quoted = f'"{schema}"."{table}"'
                con.execute(
                    f"copy (select * from {quoted}) to {sql_string(str(target))} (format parquet)"
                )
                written[f"{schema}.{table}"] = con.execute(
                    f"select count(*) from {quoted}"
                ).fetchone()[0]
                previous = folder.parent / f".{table}.{uuid.uuid4().hex}.old"
                if folder.exists():
                    folder.rename(previous)
                staging.rename(folder)
                shutil.rmtree(previous, ignore_errors=True)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
    return written


def tables_root() -> Path:
    """Where the local Spark session keeps the tables dbt builds (`spark.sql.warehouse.dir`
    of the `spark` target): <root>/<schema>.db/<table>/."""
    return paths.spark_dir() / "warehouse"


def built_tables(manifest: Path) -> list[dict]:
    """The seeds and table models (incremental ones included) of a parsed manifest: what a
    Spark build writes as files."""
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sorted(
        (
            node
            for node in nodes
            if node["resource_type"] in ("model", "seed")
            and node["config"].get("materialized") in ("table", "incremental", "seed")
        ),
        key=lambda node: node["unique_id"],
    )


def _data_files(folder: Path) -> list[str]:
    """The Parquet data files of a table folder Spark wrote (not its hidden and `_` files:
    `_SUCCESS`, a write's `_temporary`, checksums), sorted; none for a folder not there."""
    return sorted(
        str(path)
        for path in folder.rglob("*.parquet")
        if not any(part.startswith((".", "_")) for part in path.relative_to(folder).parts)
    )


def built_table_columns(root: Path | None = None) -> ColumnsOf:
    """The columns (lower case) of a table the local session built, from its Parquet files:
    their schema and the partition folders' names (`occurred_date=2025-01-01/`). What
    sros.incremental compares with a model's yml before a build, without starting Spark. A
    table with no data file (not built, or built empty) has none: nothing to compare."""
    root = root or tables_root()

    def columns_of(schema: str, table: str) -> set[str]:
        files = _data_files(root / f"{schema}.db" / table)
        if not files:
            return set()
        with duckdb.connect() as con:
            relation = con.sql(
                f"select * from read_parquet({sql_string_list(files)}, hive_partitioning = true)"
            )
            return {column.lower() for column in relation.columns}

    return columns_of


def built_table_partitions(root: Path | None = None) -> PartitionsOf:
    """The partition columns (lower case) of a table the local session built: the names of
    its partition folders (`occurred_date=2025-01-01/`); none for a table written as plain
    files."""
    root = root or tables_root()

    def partitions_of(schema: str, table: str) -> set[str]:
        folder = root / f"{schema}.db" / table
        return {
            part.split("=", 1)[0].lower()
            for file in _data_files(folder)
            for part in Path(file).relative_to(folder).parts[:-1]
            if "=" in part
        }

    return partitions_of


def import_built_tables(
    manifest: Path, warehouse: Path, root: Path | None = None
) -> dict[str, int]:
    """Copy every table the Spark build wrote (seeds and every model) into the
    DuckDB warehouse, replacing the tables of the same name in one transaction; return the
    rows per `schema.table`. A model with a contract keeps its declared column order and
    types (Spark moves a partition column last; its folder names give it back as text)."""
    root = root or tables_root()
    copied: dict[str, int] = {}
    with duckdb.connect(str(warehouse)) as con:
        con.execute("begin")
        for node in built_tables(manifest):
            schema, table = node["schema"], node.get("alias") or node["name"]
            folder = root / f"{schema}.db" / table
            files = _data_files(folder)
            contract = node["config"].get("contract", {}).get("enforced") and node["columns"]
            relation = f'"{schema}"."{table}"'
            con.execute(f'create schema if not exists "{schema}"')
            if not files and not contract:
                raise FileNotFoundError(
                    f"{folder}: no Parquet file for {node['unique_id']}; did the Spark build "
                    "finish?"
                )
            if not files:
                columns = ", ".join(
                    f'"{name}" {column["data_type"]}' for name, column in contract.items()
                )
                con.execute(f"create or replace table {relation} ({columns})")
            else:
                source = f"read_parquet({sql_string_list(files)}, hive_partitioning = true)"
                selected = (
                    ", ".join(
                        f'cast("{name}" as {column["data_type"]}) as "{name}"'
                        for name, column in contract.items()
                    )
                    if contract
                    else "*"
                )
                con.execute(
                    f"create or replace table {relation} as select {selected} from {source}"
                )
            copied[f"{schema}.{table}"] = con.execute(
                f"select count(*) from {relation}"
            ).fetchone()[0]
        con.execute("commit")
    return copied


def session(target: str = "spark") -> SparkSession:
    """The local Spark session of the profile's `target` output (profiles.yml, rendered by dbt
    with this environment): its catalog, its tables and its settings (`server_side_parameters`),
    built as dbt-spark's `session` method builds it. Only one process at a time can open the
    local catalog (Derby): open this where no dbt command runs on Spark, in a process that ends
    with the work (its JVM holds the catalog until then)."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context
    from pyspark.sql import SparkSession

    set_invocation_context(os.environ)  # what dbt's env_var() reads
    _, output = Profile.render_profile(
        read_profile(str(PROJECT_DIR))["sros"], "sros", target, ProfileRenderer({})
    )
    if output.get("type") != "spark" or output.get("method") != "session":
        raise ValueError(
            f"profiles.yml output {target!r} is not a local Spark session (type: spark, "
            "method: session); the suites read a cluster's tables only through such a session"
        )
    builder = SparkSession.builder.enableHiveSupport()
    for name, value in output.get("server_side_parameters", {}).items():
        builder = builder.config(name, value)
    return builder.getOrCreate()
