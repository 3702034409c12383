"""The same company on both engines gives the same marts, row for row.

The demo company of the other mart tests (built on DuckDB by the `built_company` fixture) is
handed to a local Spark session the way the Spark engine does it (sros/spark.py: its raw
tables as Parquet, registered by the dbt operation `register_parquet_sources`), then
`dbt build --target spark` builds the seeds and every model. Every mart (each model in schema
`marts`) is then read from both engines (Spark's through sros.spark.import_built_tables, the copy
`sros run --engine spark` makes) and compared: the same columns, the same number of
rows and, row for row, the same values: money (decimals) and counts exactly, doubles (rates,
medians) to 1e-9, timestamps to the second. A difference fails with the mart, the row's key
(its columns that are not doubles) and both values. The Great Expectations suites, run on
Spark's own tables through GX's Spark datasource, must judge them as they judge the DuckDB
build: per expectation the same verdict, rows checked and rows failing.

Then the incremental models on Spark (those the Spark manifest materializes `incremental`,
each partitioned by the date column its yml's `incremental_test` names): the partitions of
their last N_DAYS days and of their oldest day are dropped, `dbt run --target spark` runs
them incrementally, and each must give back the DuckDB build's rows (those of the full
build): every row for a model rebuilt by changed days (`rebuilds_every_changed_day`), every
row but the oldest day's for a model with a lookback, which must not rebuild history. A model
rebuilt by changed days is also given a partition of a day no input row is dated on, which
its post-hook (macro remove_emptied_days) must drop. The
DuckDB side (tests/test_incremental_models.py) proves incremental = full refresh with
changes to the raw data; this proves the Spark strategy (insert_overwrite of partitions)
gives the same rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from sros.incremental import (
    OutdatedIncrementalTables,
    OutdatedTable,
    incremental_models,
    outdated_incremental_tables,
)
from sros.spark import (
    built_table_columns,
    built_table_partitions,
    export_raw_tables,
    import_built_tables,
    source_tables,
)

pytestmark = pytest.mark.slow

TOLERANCE = 1e-9
DIFFERENCES_SHOWN = 20
N_DAYS = 20  # the days cut from each incremental model, as in test_incremental_models.py
EMPTIED_DAY = date(1999, 1, 4)  # a day no input row is dated on


def _marts(manifest: Path) -> list[str]:
    nodes = json.loads(manifest.read_text())["nodes"].values()
    return sorted(
        node["name"]
        for node in nodes
        if node["resource_type"] == "model" and node["schema"] == "marts"
    )


def _rows(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[list[str], list[tuple]]:
    result = con.execute(f"select * from {relation}")
    return [column[0] for column in result.description], result.fetchall()


def _comparable(value: object) -> object:
    """The part of a value both engines must agree on: timestamps to the second."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _key(row: tuple, doubles: set[int]) -> tuple:
    return tuple(
        "" if value is None else str(_comparable(value))
        for index, value in enumerate(row)
        if index not in doubles
    )


def _differences(mart: str, columns: list[str], duck: list[tuple], spark: list[tuple]) -> list[str]:
    doubles = {
        index
        for index in range(len(columns))
        if any(isinstance(row[index], float) for row in duck + spark)
    }
    key_columns = [column for index, column in enumerate(columns) if index not in doubles]
    duck = sorted(duck, key=lambda row: (_key(row, doubles), [str(row[i]) for i in doubles]))
    spark = sorted(spark, key=lambda row: (_key(row, doubles), [str(row[i]) for i in doubles]))
    if len(duck) != len(spark):
        only_duck = {_key(row, doubles) for row in duck} - {_key(row, doubles) for row in spark}
        only_spark = {_key(row, doubles) for row in spark} - {_key(row, doubles) for row in duck}
        return [
            f"{mart}: {len(duck)} rows on DuckDB, {len(spark)} on Spark; only on DuckDB: "
            f"{sorted(only_duck)[:3]}; only on Spark: {sorted(only_spark)[:3]} "
            f"(key columns {key_columns})"
        ]
    found = []
    for duck_row, spark_row in zip(duck, spark, strict=True):
        for index, column in enumerate(columns):
            left, right = duck_row[index], spark_row[index]
            if index in doubles and left is not None and right is not None:
                same = math.isclose(left, right, rel_tol=TOLERANCE, abs_tol=TOLERANCE)
            elif isinstance(left, Decimal) and isinstance(right, Decimal):
                same = left == right
            else:
                same = _comparable(left) == _comparable(right)
            if not same:
                found.append(
                    f"{mart}: key {dict(zip(key_columns, _key(duck_row, doubles), strict=True))}:"
                    f" {column}: DuckDB {left!r}, Spark {right!r}"
                )
    return found


@dataclass(frozen=True)
class SparkBuild:
    """The DuckDB-built company and the same raw tables built on the local Spark session."""

    company: Any  # conftest.BuiltCompany
    home: Path  # SROS_HOME of the Spark build (its tables under spark/warehouse)
    manifest: Path  # the Spark build's (`--target spark`: Spark's materializations)


@pytest.fixture(scope="module")
def spark_build(
    built_company: Callable, tmp_path_factory: pytest.TempPathFactory, run_dbt: Callable
) -> SparkBuild:
    company = built_company()
    home = tmp_path_factory.mktemp("spark-home")
    raw = home / "spark" / "raw"
    written = export_raw_tables(
        company.warehouse, source_tables(company.target / "manifest.json"), raw
    )
    assert written["raw_salesforce.lead"] > 0

    registered = run_dbt(
        "run-operation",
        "register_parquet_sources",
        "--args",
        json.dumps({"root": str(raw)}),
        "--target",
        "spark",
        home=home,
    )
    assert registered.returncode == 0, registered.stdout[-3000:] + registered.stderr[-3000:]
    built = run_dbt(
        "build", "--target", "spark", "--exclude-resource-type", "test", "unit_test", home=home
    )
    assert built.returncode == 0, built.stdout[-6000:] + built.stderr[-2000:]
    return SparkBuild(company, home, home / "target" / "manifest.json")


def _compare(
    duck_con: duckdb.DuckDBPyConnection,
    spark_con: duckdb.DuckDBPyConnection,
    relation: str,
    duck_filter: str = "true",
    *,
    by_name: bool = False,
    per_engine: frozenset[str] = frozenset(),
) -> list[str]:
    """The differences between a relation of the DuckDB build (its rows where duck_filter
    holds) and the same relation of the copy of Spark's tables. Columns must come in the
    same order, except in a model without a contract when by_name: Spark writes a partition
    column last, and only a contract gives the declared order back. The per_engine columns
    (an engine's own hash, which only that engine's incremental runs compare) are left out
    on both sides."""
    every = "*" if not per_engine else f"* exclude ({', '.join(sorted(per_engine))})"
    columns, duck = _rows(duck_con, f"(select {every} from {relation} where {duck_filter})")
    spark_columns, spark = _rows(spark_con, f"(select {every} from {relation})")
    if by_name and sorted(spark_columns) == sorted(columns):
        listed = ", ".join(f'"{column}"' for column in columns)
        spark_columns, spark = _rows(spark_con, f"(select {listed} from {relation})")
    if spark_columns != columns:
        return [f"{relation}: columns {columns} on DuckDB, {spark_columns} on Spark"]
    return _differences(relation, columns, duck, spark)


def _per_engine_columns(model: dict) -> frozenset[str]:
    """The model's columns declared `meta: {per_engine: true}` in its yml: values each engine
    computes its own way (stg_marketing__touchpoints._sros_row_hash: DuckDB's hash, Spark's
    xxhash64), never in a mart."""
    return frozenset(
        name
        for name, column in model["columns"].items()
        if {**column.get("meta", {}), **column.get("config", {}).get("meta", {})}.get("per_engine")
    )


def test_every_mart_is_the_same_on_spark(spark_build: SparkBuild) -> None:
    # sros/spark.py copies what Spark wrote into a DuckDB file, as `sros run --engine spark`
    # does before the expectations and publication: compare that copy with the DuckDB build.
    manifest = spark_build.company.target / "manifest.json"
    spark_copy = spark_build.home / "spark_tables.duckdb"
    import_built_tables(manifest, spark_copy, spark_build.home / "spark" / "warehouse")
    marts = _marts(manifest)
    assert len(marts) > 40
    with (
        duckdb.connect(str(spark_build.company.warehouse), read_only=True) as duck_con,
        duckdb.connect(str(spark_copy), read_only=True) as spark_con,
    ):
        differences = [
            difference
            for mart in marts
            for difference in _compare(duck_con, spark_con, f"marts.{mart}")
        ]
    assert not differences, (
        f"{len(differences)} difference(s) between the DuckDB and the Spark marts:\n"
        + "\n".join(differences[:DIFFERENCES_SHOWN])
    )


def test_the_expectations_judge_spark_as_they_judge_duckdb(
    spark_build: SparkBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The suites on Spark's own tables (GX's Spark datasource, as the spark engine's checks
    # run them) reach the same verdicts on the same rows as on the DuckDB build.
    from expectations import SUITES
    from expectations.runner import validate

    company = spark_build.company
    manifest = company.target / "manifest.json"
    duck = validate(SUITES, company.warehouse, tmp_path / "gx-duckdb", manifest)
    monkeypatch.setenv("SROS_HOME", str(spark_build.home))  # the spark target's session
    spark = validate(SUITES, company.warehouse, tmp_path / "gx-spark", manifest, engine="spark")

    def verdicts(outcomes: list) -> dict:
        return {
            (outcome.suite.name, item.description): (
                item.success,
                item.rows_checked,
                item.rows_failing,
                item.error,
            )
            for outcome in outcomes
            for item in outcome.expectations
        }

    duck_verdicts, spark_verdicts = verdicts(duck), verdicts(spark)
    # every suite read rows (an expectation with a row condition may match none)
    assert len(duck) == len(SUITES) and all(
        any(item.rows_checked for item in outcome.expectations) for outcome in duck
    )
    differences = [
        f"{suite}: {description}: DuckDB {duck_verdicts.get(key)}, Spark {spark_verdicts.get(key)}"
        for key in sorted(duck_verdicts.keys() | spark_verdicts.keys())
        for suite, description in [key]
        if duck_verdicts.get(key) != spark_verdicts.get(key)
    ]
    assert not differences, (
        f"{len(differences)} expectation(s) judged differently on Spark "
        "((success, rows checked, rows failing, error)):\n"
        + "\n".join(differences[:DIFFERENCES_SHOWN])
    )
    assert (tmp_path / "gx-spark" / "gx" / "uncommitted" / "data_docs").exists()


def test_an_incremental_table_of_an_older_sros_is_found_in_sparks_files(
    spark_build: SparkBuild, tmp_path: Path
) -> None:
    """The check before a Spark build (sros/incremental.py) reads the columns of Spark's
    tables from their Parquet files and partition folders: a fresh build has every column
    its models declare, and a table with one column gone and another added is named, with
    the command that rebuilds it on Spark."""
    manifest = json.loads(spark_build.manifest.read_text())
    tables = spark_build.home / "spark" / "warehouse"
    assert (
        outdated_incremental_tables(
            manifest, built_table_columns(tables), built_table_partitions(tables)
        )
        == []
    )

    model = next(m for m in incremental_models(manifest) if m["name"] == "int_person_touchpoints")
    schema, table = model["schema"], model["alias"]
    [partition] = model["config"]["partition_by"]
    older = tmp_path / "warehouse"
    folder = older / f"{schema}.db" / table
    folder.mkdir(parents=True)
    with duckdb.connect() as con:  # the table as an older SROS would have written it
        con.execute(
            f"copy (select * exclude (is_campaign_by_utm), true as legacy_flag from read_parquet("
            f"'{tables}/{schema}.db/{table}/*/*.parquet', hive_partitioning = true))"
            f" to '{folder}' (format parquet, partition_by ({partition}))"
        )
    outdated = outdated_incremental_tables(manifest, built_table_columns(older))
    assert outdated == [
        OutdatedTable(
            model="int_person_touchpoints",
            relation=f"{schema}.{table}",
            missing=("is_campaign_by_utm",),
            extra=("legacy_flag",),
        )
    ]
    message = str(OutdatedIncrementalTables(outdated, target="spark"))
    assert message.startswith("Spark's tables hold incremental tables of an older SROS")
    assert (
        "sros dbt run --full-refresh --target spark --select +int_person_touchpoints, then run "
        "again" in message
    )


def test_a_table_built_before_its_model_became_incremental_is_found_on_spark(
    spark_build: SparkBuild, tmp_path: Path
) -> None:
    """fct_marketing_touchpoints was a plain table before it became incremental. Spark's
    insert_overwrite into such a table (no partitions) would replace all of it with the
    run's few days; the check names it, with the command that rebuilds it partitioned."""
    manifest = json.loads(spark_build.manifest.read_text())
    tables = spark_build.home / "spark" / "warehouse"
    model = next(
        m for m in incremental_models(manifest) if m["name"] == "fct_marketing_touchpoints"
    )
    schema, table = model["schema"], model["alias"]
    assert model["config"]["partition_by"] == ["occurred_date"]
    older = tmp_path / "warehouse"
    folder = older / f"{schema}.db" / table
    folder.mkdir(parents=True)
    with duckdb.connect() as con:  # the same rows, as one plain file
        con.execute(
            f"copy (select * from read_parquet('{tables}/{schema}.db/{table}/*/*.parquet',"
            f" hive_partitioning = true)) to '{folder}/part-00000.parquet' (format parquet)"
        )
    outdated = outdated_incremental_tables(
        manifest, built_table_columns(older), built_table_partitions(older)
    )
    assert outdated == [
        OutdatedTable(
            model="fct_marketing_touchpoints",
            relation=f"{schema}.{table}",
            missing=(),
            extra=(),
            partitions=(("occurred_date",), ()),
        )
    ]
    message = str(OutdatedIncrementalTables(outdated, target="spark"))
    assert f"{schema}.{table} (partitioned by nothing, the model by occurred_date)" in message
    assert "--full-refresh --target spark --select +fct_marketing_touchpoints" in message


def _rebuilds_every_changed_day(model: dict) -> bool:
    return bool(model["config"]["meta"]["incremental_test"].get("rebuilds_every_changed_day"))


def _spark_sql(run_dbt: Callable, home: Path, statements: list[str]) -> None:
    """The statements, in order, on one Spark session of the `spark` target (the project's
    run_statements operation: one dbt invocation, one session start)."""
    ran = run_dbt(
        "run-operation",
        "run_statements",
        "--args",
        json.dumps({"statements": statements}),
        "--target",
        "spark",
        home=home,
    )
    assert ran.returncode == 0, (
        "\n".join(statements) + "\n" + ran.stdout[-3000:] + ran.stderr[-2000:]
    )
    assert f"ran {len(statements)} statement(s) on spark" in ran.stdout, ran.stdout[-3000:]


def test_incremental_models_rebuild_cut_days_on_spark(
    spark_build: SparkBuild, run_dbt: Callable
) -> None:
    models = incremental_models(json.loads(spark_build.manifest.read_text()))
    assert {"stg_marketing__touchpoints", "fct_pipeline_snapshots_daily"} <= {
        model["name"] for model in models
    }
    home = spark_build.home
    statements: list[str] = []
    with duckdb.connect(str(spark_build.company.warehouse), read_only=True) as duck_con:
        oldest_days: dict[str, date] = {}
        for model in models:
            name = model["name"]
            date_column = model["config"]["meta"].get("incremental_test", {}).get("date_column")
            # a Parquet table on Spark loses rows only by whole partitions
            partition_by = model["config"].get("partition_by")
            assert partition_by == [date_column], (
                f"{name}: incremental on Spark, so partitioned by its incremental_test "
                f"date_column ({date_column}); partition_by is {partition_by}"
            )
            relation = f"{model['schema']}.{model['alias']}"
            (last, oldest) = duck_con.sql(
                f"select max({date_column}), min({date_column}) from {relation}"
            ).fetchone()
            days = [
                day
                for (day,) in duck_con.execute(
                    f"select distinct {date_column} from {relation}"
                    f" where {date_column} > ? or {date_column} = ? order by 1",
                    [last - timedelta(days=N_DAYS), oldest],
                ).fetchall()
            ]
            oldest_days[name] = oldest
            partitions = ", ".join(f"partition ({date_column} = '{day}')" for day in days)
            statements.append(f"alter table {model['relation_name']} drop {partitions}")
            if _rebuilds_every_changed_day(model):
                # a day whose every input row has gone since the build (here: never had one)
                # has no new rows to replace it: the post-hook must drop its partition
                columns = [
                    column
                    for column in duck_con.sql(f"select * from {relation} limit 0").columns
                    if column != date_column
                ]
                statements.append(
                    f"insert into {model['relation_name']}"
                    f" partition ({date_column} = '{EMPTIED_DAY}')"
                    f" select {', '.join(columns)} from {model['relation_name']} limit 1"
                )
    _spark_sql(run_dbt, home, statements)

    names = [model["name"] for model in models]
    ran = run_dbt("run", "--target", "spark", "--select", *names, home=home)
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-2000:]
    for model in models:
        relation = f"{model['schema']}.{model['alias']}"
        assert f"incremental model {relation}" in ran.stdout, ran.stdout[-3000:]

    spark_copy = home / "spark_after_incremental.duckdb"
    import_built_tables(spark_build.manifest, spark_copy, home / "spark" / "warehouse")
    differences: list[str] = []
    with (
        duckdb.connect(str(spark_build.company.warehouse), read_only=True) as duck_con,
        duckdb.connect(str(spark_copy)) as spark_con,
    ):
        for model in models:
            name, relation = model["name"], f"{model['schema']}.{model['alias']}"
            date_column = model["config"]["meta"]["incremental_test"]["date_column"]
            contract = model["config"].get("contract", {}).get("enforced", False)
            oldest = oldest_days[name]
            per_engine = _per_engine_columns(model)
            spark_rows = spark_con.execute(
                f"select count(*) from {relation} where {date_column} = ?", [oldest]
            ).fetchone()[0]
            if _rebuilds_every_changed_day(model):
                assert spark_rows, f"{name}: the run did not rebuild its oldest day on Spark"
                emptied = spark_con.execute(
                    f"select count(*) from {relation} where {date_column} = ?", [EMPTIED_DAY]
                ).fetchone()[0]
                assert not emptied, f"{name}: the partition of a day without input rows stayed"
                differences += _compare(
                    duck_con, spark_con, relation, by_name=not contract, per_engine=per_engine
                )
            else:
                # a lookback leaves the oldest day out: history is not rebuilt
                assert not spark_rows, f"{name}: rebuilt history older than its lookback"
                differences += _compare(
                    duck_con,
                    spark_con,
                    relation,
                    f"{date_column} <> date '{oldest}'",
                    by_name=not contract,
                    per_engine=per_engine,
                )
    assert not differences, (
        f"{len(differences)} difference(s) between the full DuckDB build and Spark's "
        "incremental run:\n" + "\n".join(differences[:DIFFERENCES_SHOWN])
    )
