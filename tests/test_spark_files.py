"""The Spark engine's file hand-over, read and written with DuckDB (sros/spark.py), without
starting Spark: the raw tables exported as Parquet, and the columns and partitions of the
tables a Spark build wrote, under a folder whose name holds a quote (a home such as
`/home/o'brien`), which a path spliced into SQL as text would break."""

from __future__ import annotations

from pathlib import Path

import duckdb

from sros.spark import built_table_columns, built_table_partitions, export_raw_tables


def test_raw_tables_are_exported_under_a_path_holding_a_quote(tmp_path: Path) -> None:
    home = tmp_path / "o'brien"
    home.mkdir()
    warehouse = home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema raw_marketing")
        con.execute(
            "create table raw_marketing.touchpoint as"
            " select 'tp_' || i as touchpoint_id from range(3) as r(i)"
        )
    root = home / "spark" / "raw"
    assert export_raw_tables(warehouse, [("raw_marketing", "touchpoint")], root) == {
        "raw_marketing.touchpoint": 3
    }
    [written] = (root / "raw_marketing" / "touchpoint").glob("*.parquet")
    with duckdb.connect() as con:
        assert con.execute("select count(*) from read_parquet(?)", [str(written)]).fetchone() == (
            3,
        )


def test_a_built_tables_columns_and_partitions_are_read_under_a_path_holding_a_quote(
    tmp_path: Path,
) -> None:
    tables = tmp_path / "o'brien" / "warehouse"
    partitioned = tables / "marts.db" / "fct_marketing_touchpoints"
    plain = tables / "marts.db" / "dim_persons"
    partitioned.mkdir(parents=True)
    plain.mkdir(parents=True)
    with duckdb.connect() as con:  # as Spark writes them: partition folders, or plain files
        con.execute(
            "copy (select 'tp_1' as touchpoint_id, date '2025-01-02' as occurred_date)"
            " to ? (format parquet, partition_by (occurred_date))",
            [str(partitioned)],
        )
        con.execute(
            "copy (select 'p1' as person_id) to ? (format parquet)",
            [str(plain / "part-00000.parquet")],
        )
    columns_of, partitions_of = built_table_columns(tables), built_table_partitions(tables)
    assert columns_of("marts", "fct_marketing_touchpoints") == {"touchpoint_id", "occurred_date"}
    assert partitions_of("marts", "fct_marketing_touchpoints") == {"occurred_date"}
    assert columns_of("marts", "dim_persons") == {"person_id"}
    assert partitions_of("marts", "dim_persons") == set()
    assert columns_of("marts", "not_built") == set()
    assert partitions_of("marts", "not_built") == set()
