"""Fivetran history mode in staging (macros/fivetran_active_rows.sql).

A table Fivetran syncs in history mode keeps every version of a record, the current one with
`_fivetran_active` true; a record deleted in the CRM has no active version left, and the table
may come without `_fivetran_deleted`. On a copy of a built demo warehouse, two raw tables are
turned into history-mode tables: Salesforce `opportunity` (keeping `_fivetran_deleted`) and
HubSpot `deal` (without it, nor SROS ingestion's `_sros_deleted_at`, as in a schema a
Fivetran connector maintains). Each gets an inactive older version of one record, with values
no current row has, and one record whose only version is inactive (deleted). Rebuilding
every Salesforce and HubSpot staging model (with their data and unit tests) must then give
exactly what it gave before, less the two deleted records: the older versions never reach
staging, the unique-id tests still pass, and the tables without the columns read the same.
"""

import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

CRM_STAGING = (
    "table_schema = 'staging' and regexp_matches(table_name, '^stg_(salesforce|hubspot)__')"
)
# raw table -> (its id column, its staging model, the staging id column)
HISTORY_MODE = {
    "raw_salesforce.opportunity": ("id", "stg_salesforce__opportunities", "opportunity_id"),
    "raw_hubspot.deal": ("deal_id", "stg_hubspot__deals", "deal_id"),
}


def _ids(con: duckdb.DuckDBPyConnection, table: str, id_column: str) -> tuple[str, str]:
    """Two records of the table that reach staging: (one to give an older version, one to
    delete)."""
    rows = con.sql(
        f"select {id_column} from {table} where not coalesce(is_deleted, false) "
        f"and not coalesce(_fivetran_deleted, false) and _sros_deleted_at is null "
        f"order by {id_column} limit 2"
    ).fetchall()
    assert len(rows) == 2, table
    return rows[0][0], rows[1][0]


def _to_history_mode(
    con: duckdb.DuckDBPyConnection, table: str, id_column: str, keep_deleted_column: bool
) -> tuple[str, str]:
    """Turn `table` into a Fivetran history-mode table: every row is the active version of
    its record (a soft-deleted row an inactive one), one record gets an inactive older
    version with other values, one record is deleted (its only version inactive)."""
    versioned, deleted = _ids(con, table, id_column)
    con.execute(f"alter table {table} add column _fivetran_active boolean")
    con.execute(f"alter table {table} add column _fivetran_start timestamp")
    con.execute(f"alter table {table} add column _fivetran_end timestamp")
    con.execute(
        f"update {table} set _fivetran_active = not coalesce(_fivetran_deleted, false), "
        "_fivetran_start = _fivetran_synced, _fivetran_end = timestamp '9999-12-31 23:59:59'"
    )
    older = {
        "raw_salesforce.opportunity": "'Older Stage' as stage_name, amount + 1000 as amount",
        "raw_hubspot.deal": "'Older name' as property_dealname, "
        "property_amount + 1000 as property_amount",
    }[table]
    con.execute(
        f"insert into {table} select * replace ({older}, false as _fivetran_active, "
        "_fivetran_start - interval 30 day as _fivetran_start, "
        "_fivetran_start as _fivetran_end) "
        f"from {table} where {id_column} = ?",
        [versioned],
    )
    con.execute(
        f"update {table} set _fivetran_active = false, _fivetran_end = _fivetran_synced "
        f"where {id_column} = ?",
        [deleted],
    )
    if not keep_deleted_column:
        # as a schema a Fivetran connector maintains: no _sros_deleted_at (SROS ingestion's)
        con.execute(f"alter table {table} drop column _fivetran_deleted")
        con.execute(f"alter table {table} drop column _sros_deleted_at")
    assert con.sql(
        f"select count(*) from {table} where {id_column} = ?", params=[versioned]
    ).fetchone() == (2,)
    return versioned, deleted


@pytest.fixture(scope="module")
def history_mode_warehouse(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict[str, tuple[str, str]]]:
    home = tmp_path_factory.mktemp("history-mode")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    with duckdb.connect(str(warehouse)) as con:
        # what every CRM staging model gives before, as tables in a scratch schema
        con.execute("create schema before_history_mode")
        models = [
            name
            for (name,) in con.sql(
                f"select table_name from information_schema.tables where {CRM_STAGING}"
            ).fetchall()
        ]
        assert len(models) == 31
        for model in models:
            con.execute(
                f"create table before_history_mode.{model} as select * from staging.{model}"
            )
        records = {
            table: _to_history_mode(con, table, id_column, keep_deleted_column=index == 0)
            for index, (table, (id_column, _, _)) in enumerate(HISTORY_MODE.items())
        }
    completed = run_dbt(
        "build",
        "--select",
        "path:models/staging/salesforce",
        "path:models/staging/hubspot",
        home=home,
        warehouse=warehouse,
        unit_tests=True,  # the raw tables' history-mode columns change the staging SQL
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    assert " ERROR=0 " in completed.stdout, completed.stdout[-3000:]
    # the only warnings: rows of other tables that name a deleted record (a deal's stages,
    # an opportunity's history and contact roles), which staging keeps and reports
    warned = re.findall(r"Warning in test (\w+)", completed.stdout)
    assert warned and all(name.startswith("relationships_") for name in warned), warned
    return home, warehouse, records


def test_staging_reads_only_active_versions(history_mode_warehouse) -> None:
    _, warehouse, records = history_mode_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table, (versioned, deleted) in records.items():
            _, model, staging_id = HISTORY_MODE[table]
            # the record with two versions is one staging row, with its current values
            assert con.sql(
                f"select count(*) from staging.{model} where {staging_id} = ?", params=[versioned]
            ).fetchone() == (1,), model
            # gained: nothing; lost: exactly the deleted record's row
            gained = con.sql(
                f"select {staging_id} from (select * from staging.{model} except all "
                f"select * from before_history_mode.{model})"
            ).fetchall()
            lost = con.sql(
                f"select {staging_id} from (select * from before_history_mode.{model} "
                f"except all select * from staging.{model})"
            ).fetchall()
            assert (gained, lost) == ([], [(deleted,)]), model


def test_tables_without_the_columns_read_the_same(history_mode_warehouse) -> None:
    home, warehouse, _ = history_mode_warehouse
    changed_models = {model for _, model, _ in HISTORY_MODE.values()}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        models = [
            name
            for (name,) in con.sql(
                f"select table_name from information_schema.tables where {CRM_STAGING}"
            ).fetchall()
        ]
        differing = {
            model: con.sql(
                f"select count(*) from ((select * from staging.{model} except all "
                f"select * from before_history_mode.{model}) union all "
                f"(select * from before_history_mode.{model} except all "
                f"select * from staging.{model}))"
            ).fetchone()[0]
            for model in models
            if model not in changed_models
        }
    assert len(differing) == 29 and set(differing.values()) == {0}, differing
    # the compiled SQL filters the history-mode tables only; the HubSpot deal_stage table
    # (always in history mode: its versions are the stage history) is read whole
    compiled = home / "target" / "compiled" / "sros" / "models" / "staging"
    filtered = {
        path.stem
        for path in compiled.glob("*/stg_*.sql")
        if "where coalesce(cast(_fivetran_active as boolean), true)" in path.read_text()
    }
    assert filtered == changed_models
    deals = (compiled / "hubspot" / "stg_hubspot__deals.sql").read_text()
    assert "cast(null as boolean) as _fivetran_deleted" in deals
    assert "cast(null as timestamp) as _sros_deleted_at" in deals
    assert (
        "_fivetran_deleted"
        not in (compiled / "salesforce" / "stg_salesforce__opportunities.sql")
        .read_text()
        .split("kept as")[0]
    )
