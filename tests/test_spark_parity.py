"""The same company on both engines gives the same marts, row for row.

The demo company of the other mart tests (built on DuckDB by the `built_company` fixture) is
handed to a local Spark session the way the Spark engine does it (sros/spark.py: its raw
tables as Parquet, registered by the dbt operation `register_parquet_sources`), then
`dbt build --target spark` builds the seeds and every model. Every mart (each model in schema
`marts`) is then read from both engines (Spark's through sros.spark.import_built_tables, the copy
`sros run --engine spark` makes) and compared: the same columns, the same number of
rows and, row for row, the same values: money (decimals) and counts exactly, doubles (rates,
medians) to 1e-9, timestamps to the second. A difference fails with the mart, the row's key
(its columns that are not doubles) and both values.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sros.spark import export_raw_tables, import_built_tables, source_tables

pytestmark = pytest.mark.slow

TOLERANCE = 1e-9
DIFFERENCES_SHOWN = 20


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


def test_every_mart_is_the_same_on_spark(
    built_company: Callable, tmp_path: Path, run_dbt: Callable
) -> None:
    company = built_company()
    home = tmp_path / "spark-home"
    raw = home / "spark" / "raw"
    manifest = company.target / "manifest.json"
    written = export_raw_tables(company.warehouse, source_tables(manifest), raw)
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

    # sros/spark.py copies what Spark wrote into a DuckDB file, as `sros run --engine spark`
    # does before the expectations and publication: compare that copy with the DuckDB build.
    spark_copy = home / "spark_tables.duckdb"
    import_built_tables(manifest, spark_copy, home / "spark" / "warehouse")
    marts = _marts(manifest)
    assert len(marts) > 40
    differences: list[str] = []
    with (
        duckdb.connect(str(company.warehouse), read_only=True) as duck_con,
        duckdb.connect(str(spark_copy), read_only=True) as spark_con,
    ):
        for mart in marts:
            columns, duck = _rows(duck_con, f"marts.{mart}")
            spark_columns, spark = _rows(spark_con, f"marts.{mart}")
            if spark_columns != columns:
                differences.append(f"{mart}: columns {columns} on DuckDB, {spark_columns} on Spark")
                continue
            differences += _differences(mart, columns, duck, spark)
    assert not differences, (
        f"{len(differences)} difference(s) between the DuckDB and the Spark marts:\n"
        + "\n".join(differences[:DIFFERENCES_SHOWN])
    )
