"""Seeds a build can leave as they are: dbt's state selection, guarded by the warehouse.

The definition seeds change when someone edits a CSV file or its yml, not when a day of data
lands, yet every `dbt build` loaded all of them again and ran every data test that reads only
seeds (33 seeds and 267 tests of the 1,232 nodes: a quarter of what dbt does in a run whatever
the data). After a successful build of every node, `record_build` writes into the working
warehouse which build it was (its dbt target folder, whose manifest.json holds each seed's
checksum and config) and a fingerprint of each seed table's rows. The next build asks
`unchanged_seeds_arguments` and, when that record still holds, runs with the selector
SELECTOR of selectors.yml against that manifest (`--state`): dbt leaves out every seed whose
file and config are unchanged (`state:unmodified`) and the tests that read only such seeds,
and still runs any test that is new or changed.

The record holds only when the build it names is still there with the same invocation id, the
same dbt, dbt-duckdb and DuckDB load the seeds (another version may type a CSV otherwise),
dbt compared every seed by its contents (a seed over dbt's 1 MB limit is compared by path
only, so a changed file would pass as unchanged), and every seed table still has the rows it
had then (a `dbt seed` run by hand, a table dropped, a backup of the warehouse restored: the
record lives in the warehouse it describes). Otherwise, for a subset of the assets, or on the
Spark engine (whose tables the working warehouse only receives a copy of), everything is built
as before. The record goes into schema SCHEMA, which publication
never copies (sros.publish publishes marts and seeds).
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

import duckdb

from sros.incremental import duckdb_table_columns

SELECTOR = "unchanged_seeds_skipped"  # in selectors.yml
SCHEMA = "_sros_state"
TABLE = "seed_tables"  # one row per seed table of the recorded build
COLUMNS = {
    "build_target": "varchar",
    "invocation_id": "varchar",
    "loaded_by": "varchar",
    "seed_schema": "varchar",
    "seed_table": "varchar",
    "rows_count": "bigint",
    "rows_hash": "hugeint",
}
# What loads a seed into a table besides its file and config.
LOADERS = ("dbt-core", "dbt-duckdb", "duckdb")


def _loaders() -> str:
    return ", ".join(f"{package} {version(package)}" for package in LOADERS)


def record_build(working: Path, target: Path) -> None:
    """Record in the working warehouse that the dbt build whose target folder is `target` built
    (or left unchanged) every seed, with each seed table's fingerprint as it is now. Call it
    only after a build of every node succeeded."""
    manifest = _read_manifest(target)
    if manifest is None:
        return
    invocation = manifest["metadata"]["invocation_id"]
    with duckdb.connect(str(working)) as connection:
        tables = {
            relation: _fingerprint(connection, *relation) for relation in _seed_relations(manifest)
        }
        if None in tables.values():  # a seed table missing: nothing to record
            return
        fingerprints = [
            (str(target.resolve()), invocation, _loaders(), *relation, *fingerprint)
            for relation, fingerprint in tables.items()
        ]
        connection.execute("begin transaction")
        connection.execute(f"create schema if not exists {SCHEMA}")
        connection.execute(
            f"create or replace table {SCHEMA}.{TABLE} ("
            + ", ".join(f"{name} {kind}" for name, kind in COLUMNS.items())
            + ")"
        )
        if fingerprints:
            connection.executemany(
                f"insert into {SCHEMA}.{TABLE} values ({', '.join('?' for _ in COLUMNS)})",
                fingerprints,
            )
        connection.execute("commit")


def unchanged_seeds_arguments(working: Path) -> list[str]:
    """The dbt arguments that leave out unchanged seeds and the tests of nothing else, against
    the build recorded in the working warehouse; none when that record does not hold."""
    if not working.exists():
        return []
    try:
        return _arguments(working)
    except duckdb.IOException:  # the file held by a writer: build everything
        return []


def _arguments(working: Path) -> list[str]:
    with duckdb.connect(str(working), read_only=True) as connection:
        columns_of = duckdb_table_columns(connection)
        # none yet, or one an older SROS wrote in other columns
        if columns_of(SCHEMA, TABLE) != set(COLUMNS):
            return []
        rows = connection.execute(f"select {', '.join(COLUMNS)} from {SCHEMA}.{TABLE}").fetchall()
        if not rows or len({tuple(row[:3]) for row in rows}) != 1 or rows[0][2] != _loaders():
            return []
        target, invocation = Path(rows[0][0]), rows[0][1]
        manifest = _read_manifest(target)
        if manifest is None or manifest["metadata"].get("invocation_id") != invocation:
            return []
        seeds = [node for node in manifest["nodes"].values() if node["resource_type"] == "seed"]
        if any(seed["checksum"]["name"] != "sha256" for seed in seeds):
            return []
        recorded = {(schema, table): (count, digest) for *_, schema, table, count, digest in rows}
        if set(recorded) != set(_seed_relations(manifest)):
            return []
        for (schema, table), fingerprint in recorded.items():
            if _fingerprint(connection, schema, table) != fingerprint:
                return []
    return ["--selector", SELECTOR, "--state", str(target)]


def _read_manifest(target: Path) -> dict | None:
    try:
        return json.loads((target / "manifest.json").read_text())
    except (OSError, ValueError):
        return None


def _seed_relations(manifest: dict) -> list[tuple[str, str]]:
    return sorted(
        (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "seed"
    )


def _fingerprint(
    connection: duckdb.DuckDBPyConnection, schema: str, table: str
) -> tuple[int, int | None] | None:
    """The table's row count and the sum of a 64-bit hash of each row (every column, by name):
    a sum, not a bit_xor, so two equal rows do not cancel out. None when there is no table."""
    columns = sorted(duckdb_table_columns(connection)(schema, table))
    if not columns:
        return None
    row_hash = "hash(" + ", ".join(f'"{column}"' for column in columns) + ")"
    return connection.execute(
        f'select count(*), sum({row_hash}) from "{schema}"."{table}"'
    ).fetchone()
