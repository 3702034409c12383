"""The landing zone: every file accounted for, full versus incremental exports, clean recovery.

- Every file under the landing zone gets exactly one load-report row per file version:
  loaded, quarantined or refused with its reason (tests/data/bad_input/landing_zone/ is a
  landing zone holding one file of each kind; its README rows say what happens to each).
- A full export marks the records missing from it deleted, in the same load, and counts them;
  staging drops them; a record that comes back is live again. An incremental file deletes
  nothing.
- A load killed midway leaves no report row without its committed load once the next
  ingestion starts, and every file is reported exactly once.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

import sros.ingest.pipeline as pipeline_module
from sros.contracts import contracts_for, load_contracts, source_names
from sros.ingest.pipeline import (
    LANDING_ROOT_DATASET,
    LOAD_REPORT_TABLE,
    QUARANTINE_TABLE,
    file_format,
    ingest,
    ingest_landing_root,
    landing_pipeline,
    recover,
    refusal,
    root_refusal,
    source_folders,
)
from sros.paths import PROJECT_DIR

CORPUS = Path(__file__).parent / "data" / "bad_input" / "landing_zone"
SALESFORCE = contracts_for("salesforce")


def _write(path: Path, text: str, modified: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    if modified is not None:
        os.utime(path, (modified, modified))
    return path


def _query(warehouse: Path, sql: str, *parameters: object) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql, list(parameters)).fetchall()


# --- which files a table reads, and why the others are refused ---------------------------


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("salesforce/lead/export_0001.csv", None),
        ("salesforce/lead/EXPORT_0001.CSV", None),
        ("salesforce/lead/export_0001.csv.gz", None),
        ("salesforce/lead/export_0001.parquet", None),
        ("salesforce/lead/export_0001.json", ("lead", "unsupported format ('.json')")),
        ("salesforce/lead/export_0001.xlsx", ("lead", "unsupported format ('.xlsx')")),
        ("salesforce/lead/export_0001.gz", ("lead", "unsupported format ('.gz')")),
        ("salesforce/lead/README", ("lead", "unsupported format (no extension)")),
        ("salesforce/lead/.DS_Store", ("lead", "unsupported format (no extension)")),
        (
            "salesforce/leads_typo/export_0001.csv",
            ("leads_typo", "unknown table folder salesforce/leads_typo/"),
        ),
        (
            "salesforce/lead/2025/export_0001.csv",
            ("lead", "nested folder: lead reads only the files directly in salesforce/lead/"),
        ),
        ("salesforce/lead/a/b/x.csv", ("lead", "nested folder")),
        ("salesforce/export_0001.csv", ("", "file directly in the source folder salesforce/")),
    ],
)
def test_each_path_under_a_source_is_read_by_its_table_or_refused_with_a_reason(
    relative: str, expected: tuple[str, str] | None
) -> None:
    judged = refusal(relative, SALESFORCE)
    if expected is None:
        assert judged is None
    else:
        assert judged is not None and judged[0] == expected[0]
        assert judged[1].startswith(expected[1]), judged[1]


def test_an_unknown_table_folder_names_the_folders_the_contract_has() -> None:
    _, reason = refusal("salesforce/oportunity/x.csv", SALESFORCE)
    assert "salesforce/opportunity/" in reason and "salesforce/lead/" in reason
    assert reason.endswith("did you mean salesforce/opportunity/?")


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        # The demo generator's own files at the root are not landing files.
        ("ground_truth.json", None),
        ("_manifest.json", None),
        ("salesforce/lead/export_0001.csv", None),  # a source's folder: its source reports it
        ("notes.txt", ("", "file at the landing zone's root")),
        ("sales_force/lead/x.csv", ("sales_force", "unknown source folder sales_force/")),
        ("crm/x.csv", ("crm", "unknown source folder crm/")),
    ],
)
def test_files_outside_every_source_folder_are_refused(
    relative: str, expected: tuple[str, str] | None
) -> None:
    judged = root_refusal(relative, source_folders())
    if expected is None:
        assert judged is None
    else:
        assert judged is not None and judged[0] == expected[0]
        assert judged[1].startswith(expected[1]), judged[1]
    if relative.startswith("sales_force/"):
        assert judged[1].endswith("did you mean salesforce/?")


def test_file_format_reads_double_suffixes_and_case() -> None:
    assert [file_format(n) for n in ("a.csv", "a.CSV.GZ", "a.parquet", "a.tar.gz", "a")] == [
        ".csv",
        ".csv.gz",
        ".parquet",
        ".gz",
        "",
    ]


# --- the corpus landing zone: one file of each kind ---------------------------------------

# File -> (report schema, table_name, status, rows read, loaded, quarantined, refused, reason).
EXPECTED = {
    "salesforce/lead/export_0003.csv": ("raw_salesforce", "lead", "loaded", 2, 2, 0, 0, None),
    "salesforce/lead/export_0001.csv.gz": ("raw_salesforce", "lead", "loaded", 2, 2, 0, 0, None),
    "salesforce/lead/export_0002.parquet": ("raw_salesforce", "lead", "loaded", 2, 2, 0, 0, None),
    "salesforce/lead/export_0001.json": (
        "raw_salesforce",
        "lead",
        "refused",
        None,
        0,
        0,
        None,
        "unsupported format ('.json')",
    ),
    "salesforce/lead/export_0001.xlsx": (
        "raw_salesforce",
        "lead",
        "refused",
        None,
        0,
        0,
        None,
        "unsupported format ('.xlsx')",
    ),
    "salesforce/lead/2025/export_0001.csv": (
        "raw_salesforce",
        "lead",
        "refused",
        3,
        0,
        0,
        3,
        "nested folder",
    ),
    "salesforce/leads_typo/export_0001.csv": (
        "raw_salesforce",
        "leads_typo",
        "refused",
        1,
        0,
        0,
        1,
        "unknown table folder salesforce/leads_typo/",
    ),
    "salesforce/export_0001.csv": (
        "raw_salesforce",
        "",
        "refused",
        2,
        0,
        0,
        2,
        "file directly in the source folder salesforce/",
    ),
    "sales_force/lead/export_0001.csv": (
        LANDING_ROOT_DATASET,
        "sales_force",
        "refused",
        1,
        0,
        0,
        1,
        "unknown source folder sales_force/",
    ),
    "notes.txt": (LANDING_ROOT_DATASET, "", "refused", None, 0, 0, None, "file at the landing"),
}


@pytest.fixture(scope="module")
def corpus_loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[dict]]:
    """The corpus landing zone ingested (every source and the landing root), twice."""
    root = tmp_path_factory.mktemp("landing_zone")
    landing, warehouse, dlt_dir = root / "landing", root / "warehouse.duckdb", root / "dlt"
    shutil.copytree(CORPUS, landing)
    # The demo generator's files at the root are skipped: put them there too.
    _write(landing / "ground_truth.json", "{}")
    _write(landing / "_manifest.json", "{}")
    reports = [r for s in source_names() for r in ingest(s, landing, warehouse, dlt_dir)]
    reports += ingest_landing_root(landing, warehouse, dlt_dir)
    return landing, warehouse, reports


def test_every_corpus_file_has_an_expected_outcome() -> None:
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("corpus_file", sorted(EXPECTED))
def test_every_file_gets_one_report_row(
    corpus_file: str, corpus_loaded: tuple[Path, Path, list[dict]]
) -> None:
    _, warehouse, reports = corpus_loaded
    schema, table, status, read, loaded, quarantined, refused, reason = EXPECTED[corpus_file]
    rows = _query(
        warehouse,
        f"select table_name, status, rows_read, rows_loaded, rows_quarantined, rows_refused, "
        f"rows_deleted, reason from {schema}.{LOAD_REPORT_TABLE} where source_file = ?",
        corpus_file,
    )
    assert len(rows) == 1, rows
    [(table_name, got_status, *counts, deleted, got_reason)] = rows
    assert (table_name, got_status, *counts, deleted) == (
        table,
        status,
        read,
        loaded,
        quarantined,
        refused,
        0,
    )
    if reason is None:
        assert got_reason is None
    else:
        assert got_reason.startswith(reason), got_reason
    # Rows read = loaded + quarantined + refused (unknown for a format that is not counted).
    if read is not None:
        assert read == loaded + quarantined + refused
    # The same row is what ingest returned.
    [returned] = [r for r in reports if r["source_file"] == corpus_file]
    assert (returned["status"], returned["rows_refused"]) == (status, refused)


def test_refused_files_load_nothing_and_the_good_files_of_the_folder_load(
    corpus_loaded: tuple[Path, Path, list[dict]],
) -> None:
    _, warehouse, _ = corpus_loaded
    ids = {i for (i,) in _query(warehouse, "select id from raw_salesforce.lead")}
    assert {"00QLZ0000000000001", "00QLZ0000000000002"} <= ids  # export_0003.csv
    refused_ids = {"00QLZ0000000000021", "00QLZ0000000000031", "00QLZ0000000000041"}
    assert not ids & refused_ids  # nested, unknown table folder, source root
    assert not [
        name
        for (name,) in _query(
            warehouse,
            "select table_name from information_schema.tables where table_schema = ?",
            "raw_salesforce",
        )
        if name in ("leads_typo", "")
    ]


def test_the_refused_files_checks_warn_naming_each_file_and_reason(
    corpus_loaded: tuple[Path, Path, list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dagster as dg

    from orchestration.defs.ingestion import LOAD_CHECKS

    _, warehouse, _ = corpus_loaded
    monkeypatch.setenv("SROS_WAREHOUSE_PATH", str(warehouse))
    checks = {
        key.asset_key.path[0]: check
        for check in LOAD_CHECKS
        for key in check.check_keys
        if key.name == "no_refused_files"
    }
    assert set(checks) == {*source_names(), "landing_root"}
    results = {source: check() for source, check in checks.items()}
    assert {source for source, result in results.items() if not result.passed} == {
        "salesforce",
        "landing_root",
    }
    for result in results.values():
        assert result.severity == dg.AssetCheckSeverity.WARN
    salesforce = results["salesforce"].metadata
    # json, xlsx, nested, unknown table folder, source root (.csv.gz and .parquet load)
    assert salesforce["files_refused"].value == 5
    table = salesforce["files"].value
    assert "| salesforce/leads_typo/export_0001.csv | leads_typo | 1 | unknown table folder" in (
        table
    )
    root = results["landing_root"].metadata["files"].value
    assert "| sales_force/lead/export_0001.csv | sales_force | 1 | unknown source folder" in root
    assert "notes.txt" in root


def test_a_refused_file_is_reported_once_per_version(
    corpus_loaded: tuple[Path, Path, list[dict]], tmp_path: Path
) -> None:
    landing, _, _ = corpus_loaded
    work = tmp_path / "again"
    shutil.copytree(landing.parent, work)  # keeps modification times: same file versions
    dirs = (work / "landing", work / "warehouse.duckdb", work / "dlt")
    assert [r for s in source_names() for r in ingest(s, *dirs)] == []
    assert ingest_landing_root(*dirs) == []
    # A new version of a refused file is reported again, once.
    nested = work / "landing" / "salesforce/lead/2025/export_0001.csv"
    _write(nested, nested.read_text() + "00QLZ0000000000024,Ada,Yonath,Contoso,Open,\n")
    [again] = ingest("salesforce", *dirs)
    assert (again["source_file"], again["status"], again["rows_refused"]) == (
        "salesforce/lead/2025/export_0001.csv",
        "refused",
        4,
    )
    assert ingest("salesforce", *dirs) == []


def test_a_file_the_reader_cannot_read_is_quarantined_whole_and_the_source_loads(
    run_dirs: dict[str, Path],
) -> None:
    """The reader raises nothing for what a file holds: a file it cannot read is quarantined
    whole (status rejected, its records kept with the reason), and the source's other tables
    load in the same run."""
    landing = run_dirs["landing_dir"]
    _write(landing / "salesforce/lead/export_0001.csv", "id,id\n00Q1,00Q1\n")  # header twice
    _write(
        landing / "salesforce/user/export_0001.csv",
        "id,name,created_date\n005A,Ada,2024-01-02T00:00:00Z\n",
    )
    reports = {r["source_file"]: r for r in ingest("salesforce", **run_dirs)}
    lead = reports["salesforce/lead/export_0001.csv"]
    assert (
        lead["status"],
        lead["rows_read"],
        lead["rows_loaded"],
        lead["rows_quarantined"],
        lead["rows_refused"],
    ) == ("rejected", 1, 0, 1, 0)
    with duckdb.connect(str(run_dirs["warehouse_path"]), read_only=True) as connection:
        [(reason,)] = connection.execute(
            "select reason from raw_salesforce._sros_quarantine where source_file = ?",
            ["salesforce/lead/export_0001.csv"],
        ).fetchall()
    assert reason.startswith("file rejected: ") and "more than once" in reason
    assert reports["salesforce/user/export_0001.csv"]["status"] == "loaded"


# --- full versus incremental ---------------------------------------------------------------

OPPORTUNITY_HEADER = "id,account_id,amount,currency_iso_code,stage_name,created_date"


def _opportunities(*rows: tuple[str, int]) -> str:
    lines = [f"{id_},001A,{amount},USD,Discovery,2025-01-10T09:30:00Z" for id_, amount in rows]
    return OPPORTUNITY_HEADER + "\n" + "".join(line + "\n" for line in lines)


def _with_export(monkeypatch: pytest.MonkeyPatch, table: str, export: str) -> None:
    """Declare one salesforce table's files `export` (the demo's opportunity is incremental)."""
    patched = [dataclasses.replace(c, export=export) if c.name == table else c for c in SALESFORCE]
    monkeypatch.setattr(
        pipeline_module,
        "contracts_for",
        lambda source: patched if source == "salesforce" else contracts_for(source),
    )


def _opportunity_state(warehouse: Path) -> dict[str, tuple]:
    return {
        row[0]: row[1:]
        for row in _query(
            warehouse,
            "select id, amount, _sros_deleted_at, _sros_deleted_by_file "
            "from raw_salesforce.opportunity",
        )
    }


def _staging_opportunities(run_dirs: dict[str, Path]) -> list[str]:
    """dbt runs stg_salesforce__opportunities on the warehouse; its opportunity ids."""
    home = run_dirs["warehouse_path"].parent
    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "run",
            "--select",
            "stg_salesforce__opportunities",
            "--profiles-dir",
            ".",
            "--target-path",
            str(home / "target"),
        ],
        cwd=PROJECT_DIR,
        env={
            **os.environ,
            "SROS_HOME": str(home),
            "SROS_WAREHOUSE_PATH": str(run_dirs["warehouse_path"]),
        },
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    return [
        i
        for (i,) in _query(
            run_dirs["warehouse_path"],
            "select opportunity_id from staging.stg_salesforce__opportunities order by 1",
        )
    ]


def test_a_record_missing_from_a_newer_full_export_is_deleted_until_it_comes_back(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_export(monkeypatch, "opportunity", "full")
    warehouse = run_dirs["warehouse_path"]
    path = run_dirs["landing_dir"] / "salesforce/opportunity/export.csv"
    t0 = 1_750_000_000

    # v1: three opportunities.
    _write(path, _opportunities(("006A", 10), ("006B", 20), ("006C", 30)), t0)
    [v1] = ingest("salesforce", **run_dirs)
    assert (v1["rows_loaded"], v1["rows_deleted"]) == (3, 0)

    # v2: the same file exported again without 006B, and 006A changed.
    _write(path, _opportunities(("006A", 11), ("006C", 30)), t0 + 60)
    [v2] = ingest("salesforce", **run_dirs)
    assert (v2["rows_read"], v2["rows_loaded"], v2["rows_deleted"]) == (2, 2, 1)
    stored = _query(
        warehouse,
        "select rows_deleted from raw_salesforce._sros_load_report order by file_modified_at",
    )
    assert stored == [(0,), (1,)]
    state = _opportunity_state(warehouse)
    deleted_at = state["006B"][1]
    assert state["006B"] == (Decimal("20.00"), deleted_at, "salesforce/opportunity/export.csv")
    assert deleted_at.timestamp() == pytest.approx(t0 + 60)  # as of the newer export
    assert state["006A"] == (Decimal("11.00"), None, None)
    assert state["006C"][1:] == (None, None)
    assert _staging_opportunities(run_dirs) == ["006A", "006C"]

    # Loading again changes nothing: the deletion is counted once.
    assert ingest("salesforce", **run_dirs) == []

    # v3: 006B is back: live again, with its new values.
    _write(path, _opportunities(("006A", 11), ("006B", 25), ("006C", 30)), t0 + 120)
    [v3] = ingest("salesforce", **run_dirs)
    assert (v3["rows_loaded"], v3["rows_deleted"]) == (3, 0)
    assert _opportunity_state(warehouse)["006B"] == (Decimal("25.00"), None, None)
    assert _staging_opportunities(run_dirs) == ["006A", "006B", "006C"]


def test_an_incremental_file_deletes_nothing(run_dirs: dict[str, Path]) -> None:
    assert load_contracts()[("salesforce", "opportunity")].export == "incremental"
    landing = run_dirs["landing_dir"]
    path = landing / "salesforce/opportunity/export.csv"
    _write(path, _opportunities(("006A", 10), ("006B", 20), ("006C", 30)), 1_750_000_000)
    ingest("salesforce", **run_dirs)
    _write(path, _opportunities(("006A", 11)), 1_750_000_060)
    [report] = ingest("salesforce", **run_dirs)
    assert report["rows_deleted"] == 0
    state = _opportunity_state(run_dirs["warehouse_path"])
    assert {key: value[:2] for key, value in state.items()} == {
        "006A": (Decimal("11.00"), None),
        "006B": (Decimal("20.00"), None),
        "006C": (Decimal("30.00"), None),
    }


def test_a_full_export_with_quarantined_rows_or_no_rows_deletes_nothing(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_export(monkeypatch, "opportunity", "full")
    path = run_dirs["landing_dir"] / "salesforce/opportunity/export.csv"
    _write(path, _opportunities(("006A", 10), ("006B", 20)), 1_750_000_000)
    ingest("salesforce", **run_dirs)
    # 006B is missing, but 006C did not load: the file is not a whole list of the table.
    bad_amount = "006C,001A,ten,USD,Discovery,2025-01-10T09:30:00Z\n"
    _write(path, _opportunities(("006A", 10)) + bad_amount, 1_750_000_060)
    [report] = ingest("salesforce", **run_dirs)
    assert (report["rows_quarantined"], report["rows_deleted"]) == (1, 0)
    assert report["reason"].startswith("full export with 1 quarantined row(s): no record marked")
    _write(path, OPPORTUNITY_HEADER + "\n", 1_750_000_120)
    [report] = ingest("salesforce", **run_dirs)
    assert (report["status"], report["rows_deleted"]) == ("empty", 0)
    assert report["reason"] == "full export without rows: no record marked deleted"
    state = _opportunity_state(run_dirs["warehouse_path"])
    assert [key for key, value in state.items() if value[1] is not None] == []


def test_only_the_newest_full_export_is_applied(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_export(monkeypatch, "opportunity", "full")
    folder = run_dirs["landing_dir"] / "salesforce/opportunity"
    _write(folder / "2025-01.csv", _opportunities(("006A", 10), ("006B", 20)), 1_750_000_000)
    _write(folder / "2025-02.csv", _opportunities(("006A", 12)), 1_750_000_060)
    reports = {r["source_file"]: r for r in ingest("salesforce", **run_dirs)}
    old, new = (
        reports["salesforce/opportunity/2025-01.csv"],
        reports["salesforce/opportunity/2025-02.csv"],
    )
    assert (old["status"], old["rows_read"], old["rows_refused"]) == ("refused", 2, 2)
    assert old["reason"] == (
        "superseded: salesforce/opportunity/2025-02.csv is a newer full export of the table"
    )
    assert (new["status"], new["rows_loaded"]) == ("loaded", 1)
    # A full export older than the one applied arrives late: refused, not applied.
    _write(folder / "2024-12.csv", _opportunities(("006Z", 1)), 1_749_000_000)
    [late] = ingest("salesforce", **run_dirs)
    assert late["status"] == "refused"
    assert late["reason"].startswith("superseded: older than the full export already applied")
    assert list(_opportunity_state(run_dirs["warehouse_path"])) == ["006A"]


def test_every_raw_table_carries_the_deletion_columns(run_dirs: dict[str, Path]) -> None:
    _write(
        run_dirs["landing_dir"] / "salesforce/lead/export.csv",
        "id,status,created_date\n00QA,Open,2025-01-10T09:30:00Z\n",
    )
    ingest("salesforce", **run_dirs)
    types = dict(
        _query(
            run_dirs["warehouse_path"],
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_salesforce' and table_name = 'lead'",
        )
    )
    assert (types["_sros_deleted_at"], types["_sros_deleted_by_file"]) == ("TIMESTAMP", "VARCHAR")


def test_the_demo_declares_its_reference_tables_full() -> None:
    full = sorted(f"{c.source}.{c.name}" for c in load_contracts().values() if c.export == "full")
    assert full == [
        "finance.gtm_expense_monthly",
        "hubspot.deal_pipeline",
        "hubspot.deal_pipeline_stage",
        "hubspot.owner",
        "hubspot.owner_team",
        "hubspot.team",
        "salesforce.dated_conversion_rate",
        "salesforce.user",
        "salesforce.user_role",
    ]


# --- clean recovery ------------------------------------------------------------------------


def test_recover_removes_report_rows_of_loads_that_never_completed(
    run_dirs: dict[str, Path],
) -> None:
    landing = run_dirs["landing_dir"]
    _write(
        landing / "salesforce/lead/export.csv",
        "id,status,created_date,number_of_employees\n"
        "00QA,Open,2025-01-10T09:30:00Z,5\n00QB,Open,2025-01-10T09:30:00Z,x\n",
    )
    ingest("salesforce", **run_dirs)
    warehouse = run_dirs["warehouse_path"]
    counts = (
        f"select (select count(*) from raw_salesforce.{LOAD_REPORT_TABLE}), "
        f"(select count(*) from raw_salesforce.{QUARANTINE_TABLE})"
    )
    assert _query(warehouse, counts) == [(1, 1)]
    with duckdb.connect(str(warehouse)) as connection:
        for table in (LOAD_REPORT_TABLE, QUARANTINE_TABLE):
            # A row of a load that never committed, and a second copy of a committed row (a
            # load job run again after a kill between its commit and dlt marking it done).
            connection.execute(
                f"insert into raw_salesforce.{table} select * replace "
                f"('1234.5' as _dlt_load_id, 'phantom' as _dlt_id) from raw_salesforce.{table}"
            )
            connection.execute(
                f"insert into raw_salesforce.{table} select * from raw_salesforce.{table} "
                f"where _dlt_id <> 'phantom'"
            )
    assert _query(warehouse, counts) == [(3, 3)]
    removed = recover(landing_pipeline("salesforce", warehouse, run_dirs["dlt_dir"]))
    assert removed == {LOAD_REPORT_TABLE: 2, QUARANTINE_TABLE: 2}
    assert _query(warehouse, counts) == [(1, 1)]


LEAD_HEADER = "id,status,created_date\n"
FIRST_LEADS = "00QA,Open,2025-01-10T09:30:00Z\n00QB,Open,2025-01-10T09:30:00Z\n"


def _lead_rows(warehouse: Path) -> list[tuple]:
    return _query(warehouse, "select id, status from raw_salesforce.lead order by all")


def test_a_first_load_is_appended_and_a_later_one_merged(run_dirs: dict[str, Path]) -> None:
    """Into a table without rows a deduplicated load is appended (no staging copy); the next
    load of the table merges on its key: a re-exported record replaces the old one."""
    landing, warehouse = run_dirs["landing_dir"], run_dirs["warehouse_path"]
    _write(landing / "salesforce/lead/export_0001.csv", LEAD_HEADER + FIRST_LEADS)
    ingest("salesforce", **run_dirs)
    pipeline = landing_pipeline("salesforce", warehouse, run_dirs["dlt_dir"])
    assert pipeline.default_schema.tables["lead"]["write_disposition"] == "append"
    assert _query(
        warehouse,
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        "raw_salesforce_staging",
        "lead",
    ) == [(0,)]
    _write(
        landing / "salesforce/lead/export_0002.csv",
        LEAD_HEADER + "00QB,Working,2025-01-10T09:30:00Z\n00QC,Open,2025-01-11T09:30:00Z\n",
    )
    ingest("salesforce", **run_dirs)
    pipeline = landing_pipeline("salesforce", warehouse, run_dirs["dlt_dir"])
    assert pipeline.default_schema.tables["lead"]["write_disposition"] == "merge"
    assert _lead_rows(warehouse) == [("00QA", "Open"), ("00QB", "Working"), ("00QC", "Open")]


def test_a_killed_first_load_completes_without_a_second_copy(run_dirs: dict[str, Path]) -> None:
    """A first load killed after a job appended its rows, before dlt recorded the job done:
    the next run completes the load and removes the second copy, so each row is once."""
    landing, warehouse, dlt_dir = (
        run_dirs["landing_dir"],
        run_dirs["warehouse_path"],
        run_dirs["dlt_dir"],
    )
    _write(landing / "salesforce/lead/export_0001.csv", LEAD_HEADER + FIRST_LEADS)
    pipeline = landing_pipeline("salesforce", warehouse, dlt_dir)
    pipeline.extract(pipeline_module.dlt_source("salesforce", landing))
    pipeline.normalize()
    [load_id] = pipeline.list_normalized_load_packages()
    [job] = (dlt_dir / "sros_salesforce/load/normalized" / load_id / "new_jobs").glob("lead.*")
    # What the killed run left: the lead job's rows appended and committed, not recorded done.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema raw_salesforce")
        connection.execute(f"create table raw_salesforce.lead as select * from '{job}'")
    recover(pipeline)
    assert _lead_rows(warehouse) == [("00QA", "Open"), ("00QB", "Open")]


KILL_AFTER = "report loaded"


def _completed_jobs(dlt_dir: Path) -> list[str]:
    """Job files dlt has loaded of the pending (normalised, not yet complete) package."""
    return [
        path.name
        for path in (dlt_dir / "sros_salesforce" / "load" / "normalized").glob("*/completed_jobs/*")
    ]


def _report_state(warehouse: Path, schema: str = "raw_salesforce") -> dict:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        committed = {
            load
            for (load,) in connection.execute(
                f"select load_id from {schema}._dlt_loads where status = 0"
            ).fetchall()
        }
        rows = connection.execute(
            f"select source_file, rows_read, rows_loaded, rows_quarantined, _dlt_load_id "
            f"from {schema}.{LOAD_REPORT_TABLE} order by 1"
        ).fetchall()
        raw = {
            c.name: connection.execute(f'select count(*) from {schema}."{c.name}"').fetchone()[0]
            for c in SALESFORCE
        }
    return {"committed": committed, "reports": rows, "raw": raw}


@pytest.mark.slow
def test_a_load_killed_midway_leaves_no_phantom_report_rows(
    tmp_path: Path, built_landing: Callable[[], Path]
) -> None:
    """Kill an ingestion with SIGKILL after dlt has loaded the report (and some tables) but
    before the load completed: its report rows have no committed load. The next ingestion
    completes or removes them: every file reported exactly once, raw as a clean run."""
    landing = built_landing()
    clean = tmp_path / "clean"
    ingest("salesforce", landing, clean / "warehouse.duckdb", clean / "dlt")
    expected = _report_state(clean / "warehouse.duckdb")

    script = (
        "import sys\nfrom pathlib import Path\nfrom sros.ingest.pipeline import ingest\n"
        "ingest('salesforce', Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))\n"
    )
    for attempt in range(5):
        work = tmp_path / f"killed{attempt}"
        warehouse, dlt_dir = work / "warehouse.duckdb", work / "dlt"
        job = subprocess.Popen(
            [sys.executable, "-c", script, str(landing), str(warehouse), str(dlt_dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while job.poll() is None and time.monotonic() < deadline:
                jobs = _completed_jobs(dlt_dir)
                if any(name.startswith(LOAD_REPORT_TABLE) for name in jobs):
                    os.killpg(job.pid, signal.SIGKILL)
                    break
                time.sleep(0.002)
        finally:
            if job.poll() is None:
                os.killpg(job.pid, signal.SIGKILL)
            _, errors = job.communicate(timeout=60)
        assert job.returncode in (0, -signal.SIGKILL), errors.decode()[-3000:]
        if job.returncode == -signal.SIGKILL and warehouse.exists():
            # Killed: report rows whose load dlt never marked complete ("loaded N" phantoms),
            # unless dlt finished the load between the poll and the kill (then try again).
            killed = _report_state(warehouse)
            if [row for row in killed["reports"] if row[-1] not in killed["committed"]]:
                break
    else:
        pytest.fail("the ingestion was never killed while dlt loaded")

    # A file lands meanwhile. The next ingestion completes the killed load first, then loads
    # the new file (dlt's run alone would only complete the pending load): no report row
    # without its committed load, each file reported once, the raw tables as a clean run
    # left them plus the new lead, and nothing new loads after.
    late = landing / "salesforce" / "lead" / "export_0098.csv"
    header = (landing / "salesforce" / "lead" / "export_0001.csv").read_text().split("\n")[0]
    late_lead = {  # the key and the required columns
        "id": "00QKILL00000000001",
        "status": "Open - Not Contacted",
        "created_date": "2025-06-01T09:00:00Z",
    }
    record = ",".join(late_lead.get(column, "") for column in header.split(","))
    _write(late, f"{header}\n{record}\n")
    try:
        reports = ingest("salesforce", landing, warehouse, dlt_dir)
    finally:
        late.unlink()
    assert [(r["source_file"], r["rows_loaded"]) for r in reports] == [
        ("salesforce/lead/export_0098.csv", 1)
    ]
    after = _report_state(warehouse)
    assert [row for row in after["reports"] if row[-1] not in after["committed"]] == []
    files = [row[0] for row in after["reports"]]
    assert len(files) == len(set(files))
    assert [row[:-1] for row in after["reports"] if "0098" not in row[0]] == [
        row[:-1] for row in expected["reports"]
    ]
    assert after["raw"] == {**expected["raw"], "lead": expected["raw"]["lead"] + 1}
    assert ingest("salesforce", landing, warehouse, dlt_dir) == []


@pytest.fixture(scope="module")
def built_landing(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Path]:
    def build() -> Path:
        from sros.demo_company import DemoConfig, generate

        landing = tmp_path_factory.getbasetemp() / "landing_2000"
        generate(DemoConfig(n_leads=2000, seed=42), landing)
        return landing

    return build
