"""Change history captured at ingestion (contract `meta.history`, dlt scd2): a new version only
when a tracked column changes, none for another column, none on a re-run, and a deleted record
closes its version."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from sros.contracts import HISTORY_COLUMNS, RAW_TYPES, ContractError, load_contracts
from sros.ingest.pipeline import ingest

USER = load_contracts()[("salesforce", "user")]
USER_HEADER = "id,name,email,manager_id,department,region_c,title,is_active,created_date"
DEAL_HEADER = "deal_id,deal_pipeline_stage_id,property_amount,property_createdate,_fivetran_synced"
HISTORY = (
    "select id, manager_id, email, _sros_valid_from, _sros_valid_to "
    "from raw_salesforce.user_history order by id, _sros_valid_from"
)


def _land(path: Path, text: str, *, seconds_later: int = 0) -> None:
    """Write a landing file; `seconds_later` moves its modification time on (a full export
    is applied only when it is newer than the one applied before)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if seconds_later:
        later = path.stat().st_mtime + seconds_later
        os.utime(path, (later, later))


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_a_version_per_change_of_a_tracked_column_and_none_on_a_rerun(
    run_dirs: dict[str, Path],
) -> None:
    users = run_dirs["landing_dir"] / "salesforce/user"
    warehouse = run_dirs["warehouse_path"]
    _land(
        users / "users_1.csv",
        f"{USER_HEADER}\n"
        "005A,Ann,ann@x.io,005M,Sales,dach,AE,true,2024-01-10T00:00:00Z\n"
        "005B,Bob,bob@x.io,005M,Sales,dach,AE,true,2024-02-10T00:00:00Z\n",
    )
    ingest("salesforce", **run_dirs)
    first = _query(warehouse, HISTORY)
    assert [(row[0], row[1], row[4]) for row in first] == [
        ("005A", "005M", None),
        ("005B", "005M", None),
    ]

    # A newer full export: Ann has a new manager (tracked), Bob a new email (not tracked).
    _land(
        users / "users_2.csv",
        f"{USER_HEADER}\n"
        "005A,Ann,ann@x.io,005N,Sales,dach,AE,true,2024-01-10T00:00:00Z\n"
        "005B,Bob,robert@x.io,005M,Sales,dach,AE,true,2024-02-10T00:00:00Z\n",
        seconds_later=10,
    )
    assert [r["rows_loaded"] for r in ingest("salesforce", **run_dirs)] == [2]
    second = _query(warehouse, HISTORY)
    ann_first, ann_second, bob = second
    assert (ann_first[0], ann_first[1], ann_second[0], ann_second[1]) == (
        "005A",
        "005M",
        "005A",
        "005N",
    )
    # Ann's first version ends where her second begins, and the second is current.
    assert ann_first[4] == ann_second[3] > ann_first[3]
    assert ann_second[4] is None
    # Bob has one version still, unchanged (its untracked email is the first row's).
    assert bob == first[1] and bob[2] == "bob@x.io"
    # The raw table itself has the new email: the history tracks only its columns.
    assert _query(warehouse, "select email from raw_salesforce.user where id = '005B'") == [
        ("robert@x.io",)
    ]

    # A re-run with no new file reads nothing and adds no version.
    assert ingest("salesforce", **run_dirs) == []
    assert _query(warehouse, HISTORY) == second

    # A full export without Bob marks him deleted: his version closes, none opens.
    _land(
        users / "users_3.csv",
        f"{USER_HEADER}\n005A,Ann,ann@x.io,005N,Sales,dach,AE,true,2024-01-10T00:00:00Z\n",
        seconds_later=20,
    )
    [report] = ingest("salesforce", **run_dirs)
    assert report["rows_deleted"] == 1
    third = _query(warehouse, HISTORY)
    assert third[:2] == second[:2]  # Ann: unchanged, still two versions
    [bob_closed] = [row for row in third if row[0] == "005B"]
    assert bob_closed[:4] == bob[:4] and bob_closed[4] > bob[3]


def test_incremental_files_of_one_run_give_one_version_per_record(
    run_dirs: dict[str, Path],
) -> None:
    """Two files of one run with the same deal: the later sync is the version; a deal absent
    from a later incremental file keeps its current version."""
    deals = run_dirs["landing_dir"] / "hubspot/deal"
    warehouse = run_dirs["warehouse_path"]
    _land(
        deals / "deals_1.csv",
        f"{DEAL_HEADER}\n"
        "D1,s1,100.00,2025-01-01T00:00:00Z,2025-01-02T00:00:00Z\n"
        "D2,s1,200.00,2025-01-01T00:00:00Z,2025-01-02T00:00:00Z\n",
    )
    _land(
        deals / "deals_0.csv",  # read first (by name), yet synced later
        f"{DEAL_HEADER}\nD1,s2,150.00,2025-01-01T00:00:00Z,2025-01-03T00:00:00Z\n",
    )
    ingest("hubspot", **run_dirs)
    history = (
        "select deal_id, deal_pipeline_stage_id, property_amount, _sros_valid_to is null "
        "from raw_hubspot.deal_history order by deal_id, _sros_valid_from"
    )
    first = _query(warehouse, history)
    assert [row[:2] for row in first] == [("D1", "s2"), ("D2", "s1")]
    assert all(current for *_, current in first)

    # An incremental file with only D1, its stage changed: D2 keeps its version.
    _land(
        deals / "deals_2.csv",
        f"{DEAL_HEADER}\nD1,s3,150.00,2025-01-01T00:00:00Z,2025-01-04T00:00:00Z\n",
    )
    ingest("hubspot", **run_dirs)
    assert [(row[0], row[1], row[3]) for row in _query(warehouse, history)] == [
        ("D1", "s2", False),
        ("D1", "s3", True),
        ("D2", "s1", True),
    ]


_SOURCES = """
version: 2
sources:
  - name: crm
    schema: raw_crm
    tables:
      - name: person
        meta: {primary_key: [id], landing: crm/person, history: {tracked_columns: [%s]}}
        columns:
          - {name: id, data_type: varchar}
          - {name: team, data_type: varchar}
%s
"""
_HISTORY_TABLE = """
      - name: person_history
        meta: {history_of: person}
        columns:
          - {name: id, data_type: varchar}
          - {name: team, data_type: %s}
          - {name: _sros_valid_from, data_type: timestamp}
          - {name: _sros_valid_to, data_type: timestamp}
          - {name: _sros_row_version, data_type: varchar}
"""


@pytest.mark.parametrize(
    ("tracked", "history", "error"),
    [
        ("team", _HISTORY_TABLE % "varchar", None),
        ("team", "", "needs its history table declared: person_history"),
        ("title", _HISTORY_TABLE % "varchar", "tracked_columns ['title'] are not declared"),
        ("id", _HISTORY_TABLE % "varchar", "tracked_columns ['id'] are not declared non-key"),
        ("team", _HISTORY_TABLE % "bigint", "these differ: [('team', 'bigint'), ('team', 'v"),
    ],
)
def test_a_history_is_declared_with_its_table(
    tmp_path: Path, tracked: str, history: str, error: str | None
) -> None:
    """A history table is no contract of its own; a table's history must be declared, with
    the table's columns and types and the history columns, and track non-key columns."""
    sources = tmp_path / "staging" / "crm" / "_crm__sources.yml"
    sources.parent.mkdir(parents=True)
    sources.write_text(_SOURCES % (tracked, history))
    if error is None:
        assert list(load_contracts(tmp_path)) == [("crm", "person")]
        assert load_contracts(tmp_path)[("crm", "person")].history_table == "person_history"
    else:
        with pytest.raises(ContractError, match=re.escape(error)):
            load_contracts(tmp_path)


def test_a_history_table_is_created_empty_and_never_landed(run_dirs: dict[str, Path]) -> None:
    """With no user file, user_history exists empty with its columns; a file landed in a
    folder named after it is refused like any unknown table folder, and loads nothing."""
    _land(
        run_dirs["landing_dir"] / "salesforce/user_history/h.csv",
        f"{USER_HEADER}\n005A,Ann,ann@x.io,005M,Sales,dach,AE,true,2024-01-10T00:00:00Z\n",
    )
    [report] = ingest("salesforce", **run_dirs)
    assert report["status"] == "refused"
    assert report["reason"].startswith("unknown table folder salesforce/user_history/")
    warehouse = run_dirs["warehouse_path"]
    columns = dict(
        _query(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_salesforce' and table_name = 'user_history'",
        )
    )
    assert {name: columns[name] for name in USER.column_names} == {
        column.name: RAW_TYPES[column.data_type] for column in USER.columns
    }
    assert set(HISTORY_COLUMNS) <= set(columns)
    assert _query(warehouse, "select count(*) from raw_salesforce.user_history") == [(0,)]


def test_without_history_tables_each_current_row_is_the_one_version(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A schema a Fivetran connector maintains has no history tables (SROS ingestion writes
    them): staging then takes each live record's current row as its one version. After one
    load that is what the history holds too, so the versioned models come out the same."""
    home = tmp_path_factory.mktemp("no-history")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    users = "select * exclude (user_version_id) from intermediate.int_users_versioned order by all"
    deals = (
        "select * from intermediate.int_opportunity_versions "
        "where source_system = 'hubspot' order by all"
    )
    with duckdb.connect(str(warehouse)) as connection:
        before = connection.sql(users).fetchall(), connection.sql(deals).fetchall()
        connection.execute("drop table raw_salesforce.user_history")
        connection.execute("drop table raw_hubspot.deal_history")
    completed = run_dbt(
        "build",
        "--select",
        "stg_salesforce__user_history+1",
        "stg_hubspot__deal_history+1",
        home=home,
        warehouse=warehouse,
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.sql(users).fetchall() == before[0] != []
        assert connection.sql(deals).fetchall() == before[1] != []
        [(versions, records)] = connection.sql(
            "select count(*), count(distinct user_id) from staging.stg_salesforce__user_history"
        ).fetchall()
    assert versions == records > 0


def test_a_history_table_is_an_asset_between_its_table_and_its_staging_model() -> None:
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    for source, table, staging in (
        ("salesforce", "user", "stg_salesforce__user_history"),
        ("hubspot", "deal", "stg_hubspot__deal_history"),
    ):
        history = dg.AssetKey([source, f"{table}_history"])
        assert graph.get(history).parent_keys == {dg.AssetKey([source, table])}
        assert history in graph.get(dg.AssetKey(["staging", staging])).parent_keys
