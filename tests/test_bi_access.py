"""BI tools can see the published marts the way they look at a database.

Superset, Metabase-style tools and most notebooks list tables and columns through SQLAlchemy's
inspector (duckdb-engine). With SQLAlchemy 2.1 that reflection queries pg_catalog.pg_collation,
which DuckDB lacks, so a BI tool saw tables without columns; the lock pins 2.0 for that reason.
This reflects every table of a real published warehouse and compares it with DuckDB's catalog.
"""

from collections.abc import Callable
from pathlib import Path

import duckdb
import sqlalchemy

from sros.publish import publish


def test_every_published_table_reflects_its_columns(
    built_company: Callable, tmp_path: Path
) -> None:
    published = tmp_path / "published.duckdb"
    publish(built_company(leads=2000, seed=42).warehouse, published)
    with duckdb.connect(str(published), read_only=True) as connection:
        catalog: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in connection.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall():
            catalog.setdefault((schema, table), []).append(column)
    assert len([key for key in catalog if key[0] == "marts"]) > 40

    engine = sqlalchemy.create_engine(f"duckdb:///{published}", connect_args={"read_only": True})
    try:
        inspector = sqlalchemy.inspect(engine)
        for schema in sorted({schema for schema, _ in catalog}):
            assert set(inspector.get_table_names(schema=schema)) == {
                table for s, table in catalog if s == schema
            }
        for (schema, table), columns in catalog.items():
            reflected = inspector.get_columns(table, schema=schema)
            assert [column["name"] for column in reflected] == columns, f"{schema}.{table}"
    finally:
        engine.dispose()


def test_published_tables_and_columns_carry_the_dbt_descriptions(
    built_company: Callable, tmp_path: Path
) -> None:
    """persist_docs writes dbt's descriptions as comments; publication keeps every one."""
    working = built_company(leads=2000, seed=42).warehouse
    published = tmp_path / "published.duckdb"
    publish(working, published)
    queries = {
        "tables": "select schema_name, table_name, comment from duckdb_tables() "
        "where schema_name in ('marts', 'seeds') and comment is not null",
        "columns": "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where schema_name in ('marts', 'seeds') and comment is not null",
    }
    found = {}
    for name, path in (("working", working), ("published", published)):
        with duckdb.connect(str(path), read_only=True) as connection:
            found[name] = {
                kind: set(connection.execute(sql).fetchall()) for kind, sql in queries.items()
            }
            marts = connection.execute(
                "select count(*) from duckdb_tables() where schema_name = 'marts'"
            ).fetchone()[0]
            columns = connection.execute(
                "select count(*) from duckdb_columns() where schema_name = 'marts'"
            ).fetchone()[0]
    assert found["published"] == found["working"]
    # every mart is described, and nearly every mart column (dbt docs cover them)
    assert len({t for s, t, _ in found["published"]["tables"] if s == "marts"}) == marts
    described = [c for c in found["published"]["columns"] if c[0] == "marts"]
    assert len(described) >= 0.95 * columns


def test_the_build_writes_without_dictionary_compression_and_publication_with_it(
    built_company: Callable, tmp_path: Path
) -> None:
    """profiles.yml has the build skip DuckDB's `dictionary` compression (faster writes);
    the published copy is written with DuckDB's own choice, a dictionary for text of few
    values, so BI tools read a smaller file."""
    working = built_company(leads=2000, seed=42).warehouse
    published = tmp_path / "published.duckdb"
    publish(working, published)
    methods = (
        "select distinct compression from pragma_storage_info('marts.fct_marketing_touchpoints') "
        "where column_name = 'channel' and segment_type = 'VARCHAR'"
    )
    found = {}
    for name, path in (("working", working), ("published", published)):
        with duckdb.connect(str(path), read_only=True) as connection:
            found[name] = {method for (method,) in connection.execute(methods).fetchall()}
    assert found["working"] and "Dictionary" not in found["working"]
    assert found["published"] == {"Dictionary"}
