"""A partial CRM: every contract table of an ingested source exists after ingestion (created
empty from its contract when no file, or no row, came), and the project builds over them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from sros.contracts import RAW_TYPES, contracts_for, load_contracts, source_names
from sros.ingest import pipeline
from sros.ingest.pipeline import ingest

pytestmark = pytest.mark.slow  # builds whole warehouses (conftest.py runs these first)

LINEAGE_TYPES = {
    "_sros_row_number": "BIGINT",
    "_sros_source_file": "VARCHAR",
    "_sros_deleted_at": "TIMESTAMP",
    "_sros_deleted_by_file": "VARCHAR",
}
# ... and in a table with `_fivetran_synced`, the order of a record's versions in one load
VERSION_ORDER = {"_sros_version_order": "VARCHAR"}

SYNCED = {"_fivetran_synced": "2025-09-30T23:00:00Z", "_fivetran_deleted": "false"}
USERS = [
    {"id": "005P00000000000001", "name": "Ada Adams", "department": "Executive", "manager_id": ""},
    {"id": "005P00000000000002", "name": "Ben Hughes", "department": "Sales Management",
     "manager_id": "005P00000000000001"},
    {"id": "005P00000000000003", "name": "Cleo Diaz", "department": "Sales",
     "manager_id": "005P00000000000002"},
]  # fmt: skip
ACCOUNTS = [
    {"id": "001P00000000000001", "name": "Northwind Inc", "website": "https://northwind.example",
     "created_date": "2025-01-10T09:00:00Z"},
    {"id": "001P00000000000002", "name": "Brightwind GmbH", "website": "https://brightwind.example",
     "created_date": "2025-02-03T10:30:00Z"},
    {"id": "001P00000000000003", "name": "Contoso Ltd", "website": "https://contoso.example",
     "created_date": "2025-03-01T08:00:00Z"},
]  # fmt: skip
OPPORTUNITY_COLUMNS = (
    "id", "account_id", "stage_name", "amount", "probability", "forecast_category", "close_date",
    "is_closed", "is_won", "lead_source", "created_date", "last_modified_date",
)  # fmt: skip
OPPORTUNITIES = [
    dict(zip(OPPORTUNITY_COLUMNS, values, strict=True))
    for values in [
        ("006P00000000000001", "001P00000000000001", "Discovery", "24000.00", "10", "Pipeline",
         "2025-10-31", "false", "false", "Web", "2025-06-02T09:00:00Z", "2025-06-02T09:00:00Z"),
        ("006P00000000000002", "001P00000000000002", "Closed Won", "31500.00", "100", "Closed",
         "2025-05-20", "true", "true", "Web", "2025-03-04T11:00:00Z", "2025-05-20T16:00:00Z"),
        ("006P00000000000003", "001P00000000000003", "Closed Lost", "12000.00", "0", "Omitted",
         "2025-07-15", "true", "false", "Organic Search", "2025-04-01T12:00:00Z",
         "2025-07-15T09:00:00Z"),
        ("006P00000000000004", "001P00000000000001", "Solution Design", "8000.00", "40",
         "Pipeline", "2025-11-30", "false", "false", "Partner Referral", "2025-08-12T14:00:00Z",
         "2025-08-12T14:00:00Z"),
    ]
]  # fmt: skip


def _user(user: dict[str, str]) -> dict[str, str]:
    first, last = user["name"].split()
    return {
        **user,
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}@example.com",
        "title": user["department"],
        "user_role_id": "00E" + user["id"][3:],
        "region_c": "na_east",
        "time_zone_sid_key": "America/New_York",
        "is_active": "true",
        "created_date": "2024-01-02T00:00:00Z",
        "last_modified_date": "2024-01-02T00:00:00Z",
        **SYNCED,
    }


def _account(account: dict[str, str]) -> dict[str, str]:
    return {
        **account,
        "is_deleted": "false",
        "industry": "Software",
        "number_of_employees": "250",
        "annual_revenue": "12000000",
        "billing_country": "DE",
        "type": "Prospect",
        "account_source": "Web",
        "owner_id": "005P00000000000003",
        "last_modified_date": account["created_date"],
        **SYNCED,
    }


def _opportunity(opportunity: dict[str, str]) -> dict[str, str]:
    return {
        **opportunity,
        "is_deleted": "false",
        "name": f"Deal {opportunity['id'][-1]}",
        "type": "New Business",
        "currency_iso_code": "USD",  # the corporate currency: no conversion rates needed
        "owner_id": "005P00000000000003",
        **SYNCED,
    }


def _csv(table: str, rows: list[dict[str, str]]) -> str:
    """A Salesforce export of `table` as the demo generator writes it: a header of every
    contract column, in contract order; columns a row does not set are empty."""
    columns = load_contracts()[("salesforce", table)].column_names
    lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _query(warehouse: Path, sql: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


def _columns(warehouse: Path, schema: str, table: str) -> dict[str, tuple[str, str]]:
    """Column -> (type, is_nullable) of a warehouse table, in table order."""
    return {
        name: (data_type, nullable)
        for name, data_type, nullable in _query(
            warehouse,
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            schema,
            table,
        )
    }


def test_a_source_without_files_gets_every_contract_table_empty(
    run_dirs: dict[str, Path],
) -> None:
    run_dirs["landing_dir"].mkdir()
    assert ingest("hubspot", **run_dirs) == []  # no file: nothing read, nothing reported
    warehouse = run_dirs["warehouse_path"]
    for contract in contracts_for("hubspot"):
        columns = _columns(warehouse, contract.schema, contract.name)
        # The contract's columns with their types, then the lineage columns a loaded table
        # carries, and nothing else (no dlt row columns: loaded tables have none).
        assert columns == {
            **{
                column.name: (
                    RAW_TYPES[column.data_type],
                    "NO" if column.name in contract.primary_key else "YES",
                )
                for column in contract.columns
            },
            **{name: (data_type, "YES") for name, data_type in LINEAGE_TYPES.items()},
            **{
                name: (data_type, "YES")
                for name, data_type in VERSION_ORDER.items()
                if "_fivetran_synced" in contract.column_names
            },
        }, contract.name
        assert _query(warehouse, f'select count(*) from {contract.schema}."{contract.name}"') == [
            (0,)
        ]

    # Idempotent: a second run with no new file loads nothing and changes no table.
    loads = "select count(*) from raw_hubspot._dlt_loads"
    [(n_loads,)] = _query(warehouse, loads)
    assert ingest("hubspot", **run_dirs) == []
    assert _query(warehouse, loads) == [(n_loads,)]


def test_a_header_only_file_creates_its_table_and_later_rows_load_into_it(
    run_dirs: dict[str, Path],
) -> None:
    landing, warehouse = run_dirs["landing_dir"], run_dirs["warehouse_path"]
    _write(landing / "salesforce/opportunity/export_0001.csv", _csv("opportunity", []))
    [report] = ingest("salesforce", **run_dirs)
    assert (report["rows_read"], report["rows_loaded"], report["status"]) == (0, 0, "empty")
    columns = _columns(warehouse, "raw_salesforce", "opportunity")
    assert columns["amount"] == ("DECIMAL(18,2)", "YES")
    assert columns["_sros_deleted_at"] == ("TIMESTAMP", "YES")
    assert _query(warehouse, "select count(*) from raw_salesforce.opportunity") == [(0,)]

    # The table created empty takes the rows of a later file like any other (the load
    # report still reconciles: ingest verifies it).
    _write(
        landing / "salesforce/opportunity/export_0002.csv",
        _csv("opportunity", [_opportunity(row) for row in OPPORTUNITIES]),
    )
    [report] = ingest("salesforce", **run_dirs)
    assert (report["rows_read"], report["rows_loaded"], report["status"]) == (4, 4, "loaded")
    assert _query(warehouse, "select count(*) from raw_salesforce.opportunity") == [(4,)]
    assert _columns(warehouse, "raw_salesforce", "opportunity") == columns


def test_a_warehouse_loaded_before_the_deletion_columns_gets_them(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tables loaded by a version without `_sros_deleted_at`/`_sros_deleted_by_file` (dlt's
    stored schema lacks them too) get the columns at the next ingestion, with no new file,
    and keep their rows."""
    _write(
        run_dirs["landing_dir"] / "salesforce/account/export_0001.csv",
        _csv("account", [_account(row) for row in ACCOUNTS]),
    )
    with monkeypatch.context() as patched:
        patched.setattr(pipeline, "_LINEAGE_HINTS", {})  # the old version's hints
        assert len(ingest("salesforce", **run_dirs)) == 1
    warehouse = run_dirs["warehouse_path"]
    for table in ("account", "lead"):  # loaded, and created empty
        assert "_sros_deleted_at" not in _columns(warehouse, "raw_salesforce", table)

    assert ingest("salesforce", **run_dirs) == []
    for table in ("account", "lead"):
        columns = _columns(warehouse, "raw_salesforce", table)
        assert columns["_sros_deleted_at"] == ("TIMESTAMP", "YES"), table
        assert columns["_sros_deleted_by_file"] == ("VARCHAR", "YES"), table
    assert _query(
        warehouse, "select count(*), count(_sros_deleted_at) from raw_salesforce.account"
    ) == [(3, 0)]


def test_a_crm_with_only_accounts_users_and_opportunities_builds(
    tmp_path: Path, run_dbt: Callable
) -> None:
    """Every other table of every source is empty: staging over them is empty, and
    `dbt build` (models, snapshots, seeds and blocking tests) succeeds."""
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    for table, rows in [
        ("user", [_user(row) for row in USERS]),
        ("account", [_account(row) for row in ACCOUNTS]),
        ("opportunity", [_opportunity(row) for row in OPPORTUNITIES]),
    ]:
        _write(landing / f"salesforce/{table}/export_0001.csv", _csv(table, rows))
    reports = [
        report
        for source in source_names()
        for report in ingest(source, landing, warehouse, tmp_path / "dlt")
    ]
    assert sorted((r["table_name"], r["rows_loaded"], r["status"]) for r in reports) == [
        ("account", 3, "loaded"),
        ("opportunity", 4, "loaded"),
        ("user", 3, "loaded"),
    ]

    completed = run_dbt("build", home=tmp_path, warehouse=warehouse)
    assert completed.returncode == 0, completed.stdout[-5000:] + completed.stderr[-2000:]
    assert _query(
        warehouse,
        "select (select count(*) from staging.stg_salesforce__leads), "
        "(select count(*) from staging.stg_hubspot__deals), "
        "(select count(*) from staging.stg_salesforce__accounts), "
        "(select count(*) from marts.fct_opportunities)",
    ) == [(0, 0, 3, 4)]
