"""Safe publication: BI tools read a published copy of the warehouse, never the one a build
is writing.

`publish` copies the BI-facing schemas (marts and the definition seeds; never raw or staging,
which hold personal data) from the working warehouse into a new DuckDB file, then moves it
over the published file with an atomic rename. A reader with the old file open keeps reading
a complete, consistent old version; the next connection sees the complete new one. Nothing
is ever half-updated, and a build that fails never reaches this step, so the published
numbers stay as they were.

`meta.publication` records when it was published, how much, and the build's as-of date
(int_as_of_date), which names the folder of the finance export files (sros/exports.py).
"""

import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

PUBLISHED_SCHEMAS = ("marts", "seeds")
PUBLICATION_TABLE = "publication"  # in schema `meta`: when and what was published
# The reporting date of the build (one row, column as_of_date). Not a mart, so not published
# as a table: its value is recorded in meta.publication.as_of_date, which names the folder of
# the finance export files (sros/exports.py).
AS_OF_RELATION = ("intermediate", "int_as_of_date")


def publish(
    working: Path, published: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> dict[str, int]:
    """Publish `schemas` of the working warehouse; return rows per published table."""
    if not working.exists():
        raise FileNotFoundError(f"no warehouse at {working}: build it before publishing")
    published.parent.mkdir(parents=True, exist_ok=True)
    candidate = published.with_name(f".{published.name}.{os.getpid()}.partial")
    candidate.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    try:
        with duckdb.connect(str(candidate)) as connection:
            path_literal = "'" + str(working).replace("'", "''") + "'"
            connection.execute(f"attach {path_literal} as working (read_only)")
            tables = connection.execute(
                "select table_schema, table_name from information_schema.tables "
                "where table_catalog = 'working' and table_schema in "
                f"({', '.join('?' for _ in schemas)}) order by 1, 2",
                list(schemas),
            ).fetchall()
            for schema in schemas:
                connection.execute(f'create schema "{schema}"')
            for schema, table in tables:
                connection.execute(
                    f'create table "{schema}"."{table}" as '
                    f'select * from working."{schema}"."{table}"'
                )
                counts[f"{schema}.{table}"] = connection.execute(
                    f'select count(*) from "{schema}"."{table}"'
                ).fetchone()[0]
            as_of_date = _as_of_date(connection)
            connection.execute("detach working")
            connection.execute("create schema meta")
            connection.execute(
                f"create table meta.{PUBLICATION_TABLE} as select "
                "cast(? as timestamp) as published_at, ? as tables_published, "
                "? as rows_published, cast(? as date) as as_of_date",
                [
                    datetime.now(UTC).replace(tzinfo=None),
                    len(counts),
                    sum(counts.values()),
                    as_of_date,
                ],
            )
            connection.execute("checkpoint")
        with candidate.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(candidate, published)  # atomic: readers see the old or the new file
        directory = os.open(published.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        candidate.unlink(missing_ok=True)
    return counts


def _as_of_date(connection: duckdb.DuckDBPyConnection) -> date | None:
    """The build's as-of date from the attached working warehouse; None when it has none."""
    schema, table = AS_OF_RELATION
    exists = connection.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = 'working' and table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()[0]
    if not exists:
        return None
    row = connection.execute(f'select max(as_of_date) from working."{schema}"."{table}"').fetchone()
    return row[0]
