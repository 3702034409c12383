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
