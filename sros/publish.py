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

Personal data is masked on the way: every text column of every published table is scanned
for email addresses and phone numbers (PII_PATTERNS, the one definition), and each one found
is replaced by `[email]` / `[phone]`, the rest of the text kept (`Acme (jane.doe@acme.com,
+1 415 555 0100)` is published as `Acme ([email], [phone])`). This is set-based: one
aggregate per table counts the values of all its text columns that match any pattern (one
regular expression, run only on values holding a character every match holds: PII_SIGNS), the
kinds are counted only where something matched, and only the columns with a match are copied
through regexp_replace (at 100k leads, 2.3M rows in 411 text columns,
this adds a few seconds to publication). `meta.pii_masked` has three rows per scanned
column, one per `pii_kind` (`email`, `phone`, and `email or phone`: the values changed), with
the number of values masked, so a published file shows what was scanned and what was masked
(long format: a column named after an email or phone would itself look like personal data to
a scan); `masked_summary` reads it. The marts hold no personal data by design (keyed
pseudonyms, sros/pseudonyms.py): this is the net for free text a CRM user typed where a name
was expected.

Files: the published file is made readable by everyone (0644, its folder 0755 when
publication creates it): BI tools and finance read it, possibly as another user, and it
holds no personal data. The working warehouse stays owner-only (sros.paths). A publication
killed midway leaves its `.<name>.<pid>.partial` file (and the `.partial.tmp` folder DuckDB
spills to beside it); the next publication removes every partial whose process is gone before
it writes.

Memory: publication's DuckDB keeps to the build's bound (SROS_DUCKDB_MEMORY_LIMIT, read by
sros.config as the dbt profile reads it) and spills beyond it, so a warehouse the build fits
in memory also publishes in it (unbounded, DuckDB takes up to 80% of RAM: it reached 20 GB
publishing 10M leads on a 24 GB machine).
"""

import logging
import os
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from sros.config import duckdb_memory_limit
from sros.paths import SHARED_DIR_MODE, SHARED_FILE_MODE
from sros.sql import sql_string

PUBLISHED_SCHEMAS = ("marts", "seeds")
PUBLICATION_TABLE = "publication"  # in schema `meta`: when and what was published
# The reporting date of the build (one row, column as_of_date). Not a mart, so not published
# as a table: its value is recorded in meta.publication.as_of_date, which names the folder of
# the finance export files (sros/exports.py).
AS_OF_RELATION = ("intermediate", "int_as_of_date")
PII_MASKED_TABLE = "pii_masked"  # in schema `meta`: rows per scanned text column and kind
PII_KINDS = ("email", "phone", "email or phone")
PII_MASKED_COLUMNS = {
    "table_schema": "varchar",
    "table_name": "varchar",
    "column_name": "varchar",
    "pii_kind": "varchar",
    "values_masked": "bigint",
}

# What publication masks in text, as RE2 (DuckDB) patterns that Python's `re` reads the same
# way: (kind, pattern, replacement). Emails first, so an email's digits are not a phone.
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# International (+1 415 555 0100, +1-555-3330085, +44 20 7946 0958, +15551234567) ...
INTERNATIONAL_PHONE_PATTERN = r"\+\d[\d ().-]{6,}\d"
# ... or North American with separators ((415) 555-0100, 415.555.0100), not inside a longer
# number. RE2 has no look-around: the characters either side are captured and put back. Not a
# date (2024-10-01) nor an all-digit CRM id (001000000000000135): no 3-3-4 grouping, no plus.
NORTH_AMERICAN_PHONE_PATTERN = r"(^|[^\d])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}($|[^\d])"
PII_PATTERNS = (
    ("email", EMAIL_PATTERN, "[email]"),
    ("phone", INTERNATIONAL_PHONE_PATTERN, "[phone]"),
    ("phone", NORTH_AMERICAN_PHONE_PATTERN, r"\1[phone]\2"),
)
# Every match of a pattern above holds one of these characters (the `@`, the `+`, the
# separators of the 3-3-4 grouping), so the scan runs the regular expression only on values
# that hold one: most text (ids, pseudonyms, codes) holds none, and `contains` costs a fraction
# of a regular expression. Change it with the patterns (tests/test_pii_and_secrets.py checks
# that no value without a sign matches them).
PII_SIGNS = ("@", "+", " ", ".", "-")
# A publication's file while it writes, and the folder DuckDB spills to beside it (its default,
# `<database file>.tmp`).
_PARTIAL = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.partial(?:\.tmp)?$")

log = logging.getLogger(__name__)


def publish(
    working: Path, published: Path, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS
) -> dict[str, int]:
    """Publish `schemas` of the working warehouse, emails and phone numbers in text masked;
    return rows per published table."""
    if not working.exists():
        raise FileNotFoundError(f"no warehouse at {working}: build it before publishing")
    if not published.parent.exists():
        published.parent.mkdir(parents=True)
        published.parent.chmod(SHARED_DIR_MODE)  # mkdir's mode would be cut by the umask
    for stale in remove_stale_partials(published):
        log.info("removed %s, left by a publication that was killed", stale)
    candidate = published.with_name(f".{published.name}.{os.getpid()}.partial")
    candidate.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    masked: list[tuple] = []
    try:
        with duckdb.connect(
            str(candidate), config={"memory_limit": duckdb_memory_limit()}
        ) as connection:
            connection.execute(f"attach {sql_string(str(working))} as working (read_only)")
            columns = connection.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns "
                "where table_catalog = 'working' and table_schema in "
                f"({', '.join('?' for _ in schemas)}) order by 1, 2, ordinal_position",
                list(schemas),
            ).fetchall()
            tables: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for schema, table, column, data_type in columns:
                tables.setdefault((schema, table), []).append((column, data_type))
            for schema in schemas:
                connection.execute(f'create schema "{schema}"')
            for (schema, table), table_columns in tables.items():
                text_columns = [
                    column for column, data_type in table_columns if data_type == "VARCHAR"
                ]
                found = _count_pii(connection, f'working."{schema}"."{table}"', text_columns)
                masked += [(schema, table, column, *found[column]) for column in text_columns]
                to_mask = {column for column in text_columns if found[column][2]}
                select = ", ".join(
                    f'{_masked(column)} as "{column}"' if column in to_mask else f'"{column}"'
                    for column, _ in table_columns
                )
                connection.execute(
                    f'create table "{schema}"."{table}" as '
                    f'select {select} from working."{schema}"."{table}"'
                )
                counts[f"{schema}.{table}"] = connection.execute(
                    f'select count(*) from "{schema}"."{table}"'
                ).fetchone()[0]
            _copy_comments(connection, list(tables))
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
            connection.execute(
                f"create table meta.{PII_MASKED_TABLE} ("
                + ", ".join(f"{name} {kind}" for name, kind in PII_MASKED_COLUMNS.items())
                + ")"
            )
            rows = [
                (schema, table, column, kind, found)
                for schema, table, column, *counts in masked
                for kind, found in zip(PII_KINDS, counts, strict=True)
            ]
            if rows:  # one statement (executemany runs one per row: seconds for 1,000 rows)
                connection.execute(
                    f"insert into meta.{PII_MASKED_TABLE} select unnest(?, recursive := true)",
                    [[dict(zip(PII_MASKED_COLUMNS, row, strict=True)) for row in rows]],
                )
            connection.execute("checkpoint")
        candidate.chmod(SHARED_FILE_MODE)  # before the rename: never visible as 0600
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
    for schema, table, column, _, _, values_masked in masked:
        if values_masked:
            log.warning(
                "%s.%s.%s: %s values held an email or phone number, masked in the published copy",
                schema,
                table,
                column,
                values_masked,
            )
    return counts


def _copy_comments(connection: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]]) -> None:
    """Give the published tables and columns the comments they have in the working warehouse:
    dbt's descriptions (persist_docs), which BI tools show beside the numbers. One transaction:
    a commit per comment took 4 s for the ~1,100 comments of the marts."""
    published = set(tables)
    connection.execute("begin transaction")
    for schema, table, comment in connection.execute(
        "select schema_name, table_name, comment from duckdb_tables() "
        "where database_name = 'working' and comment is not null"
    ).fetchall():
        if (schema, table) in published:
            connection.execute(f'comment on table "{schema}"."{table}" is {sql_string(comment)}')
    for schema, table, column, comment in connection.execute(
        "select schema_name, table_name, column_name, comment from duckdb_columns() "
        "where database_name = 'working' and comment is not null"
    ).fetchall():
        if (schema, table) in published:
            connection.execute(
                f'comment on column "{schema}"."{table}"."{column}" is {sql_string(comment)}'
            )
    connection.execute("commit")


def _masked(column: str) -> str:
    """SQL: the column's text with every email and phone number replaced."""
    expression = f'"{column}"'
    for _, pattern, replacement in PII_PATTERNS:
        expression = (
            f"regexp_replace({expression}, {sql_string(pattern)}, {sql_string(replacement)}, 'g')"
        )
    return expression


def _count_pii(
    connection: duckdb.DuckDBPyConnection, relation: str, columns: list[str]
) -> dict[str, tuple[int, int, int]]:
    """Per text column: values holding an email, a phone number, either. One pass with all
    patterns as one regular expression, run only on values holding one of PII_SIGNS; the
    kinds are counted only in columns with a match (rare), so a clean table costs a few
    `contains` per value and a regexp_matches per value that holds a sign."""
    if not columns:
        return {}
    any_pattern = sql_string("|".join(f"(?:{pattern})" for _, pattern, _ in PII_PATTERNS))

    def matches(column: str) -> str:
        # CASE, not AND: DuckDB then runs the regular expression only where a sign is
        signs = " or ".join(f'contains("{column}", {sql_string(sign)})' for sign in PII_SIGNS)
        return f'case when {signs} then regexp_matches("{column}", {any_pattern}) else false end'

    row = connection.execute(
        "select "
        + ", ".join(f"count(*) filter (where {matches(column)})" for column in columns)
        + f" from {relation}"
    ).fetchone()
    found = {column: (0, 0, 0) for column in columns}
    matched = [column for column, count in zip(columns, row, strict=True) if count]
    if matched:
        aggregates = [
            "count(*) filter (where "
            + " or ".join(
                f'regexp_matches("{column}", {sql_string(pattern)})'
                for pattern_kind, pattern, _ in PII_PATTERNS
                if pattern_kind == kind
            )
            + ")"
            for column in matched
            for kind in ("email", "phone")
        ]
        kinds = connection.execute(f"select {', '.join(aggregates)} from {relation}").fetchone()
        for i, column in enumerate(matched):
            found[column] = (kinds[2 * i], kinds[2 * i + 1], row[columns.index(column)])
    return found


def remove_stale_partials(published: Path) -> list[Path]:
    """Remove the `.<name>.<pid>.partial` files beside `published`, and their `.partial.tmp`
    spill folders, whose process is gone (a publication killed midway); return them. A live
    publication's are kept."""
    removed = []
    for path in sorted(published.parent.glob(f".{published.name}.*.partial*")):
        match = _PARTIAL.match(path.name)
        if not match or match["name"] != published.name:
            continue
        if int(match["pid"]) != os.getpid() and _alive(int(match["pid"])):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def masked_summary(published: Path) -> list[tuple[str, int]]:
    """`schema.table.column` and values masked, for every column publication masked."""
    with duckdb.connect(str(published), read_only=True) as connection:
        return connection.execute(
            "select table_schema || '.' || table_name || '.' || column_name, values_masked "
            f"from meta.{PII_MASKED_TABLE} where pii_kind = ? and values_masked > 0 order by 1",
            [PII_KINDS[-1]],
        ).fetchall()


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
