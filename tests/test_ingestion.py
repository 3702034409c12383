"""Ingestion: typed reading against the contract, quarantine, reconciliation, idempotency."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sros.config import DUCKDB_MEMORY_LIMIT_DEFAULT
from sros.contracts import load_contracts
from sros.ingest import reader
from sros.ingest.pipeline import ingest, landing_pipeline
from sros.ingest.reader import read_landing_file
from sros.paths import PROJECT_DIR

OPPORTUNITY = load_contracts()[("salesforce", "opportunity")]
HEADER = "id,account_id,amount,currency_iso_code,close_date,created_date,stage_name"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def test_reader_types_values_and_moves_timestamps_to_utc(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.csv",
        f"{HEADER}\r\n006A,001A,1200.50,EUR,2025-03-31,2025-01-10T09:30:00+01:00,Discovery\r\n",
    )
    result = read_landing_file(path, OPPORTUNITY, display_name="salesforce/opportunity/o.csv")
    [row] = result.rows.to_pylist()
    assert row["amount"] == Decimal("1200.50")
    assert row["close_date"] == dt.date(2025, 3, 31)
    assert row["created_date"] == dt.datetime(2025, 1, 10, 8, 30)  # 09:30 at +01:00 is 08:30 UTC
    assert row["_sros_source_file"] == "salesforce/opportunity/o.csv"
    assert row["_sros_row_number"] == 1
    assert result.quarantine == []
    assert result.report["status"] == "loaded"


def test_a_misspelled_header_loads_and_warns(tmp_path: Path) -> None:
    """`lead_sorce` for `lead_source` is a new column and lead_source loads empty: nothing is
    lost, but every model reading lead_source would be wrong in silence without a warning."""
    header = HEADER + ",lead_sorce,region_custom"
    path = _write(
        tmp_path / "o.csv",
        f"{header}\n006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery,Web,EMEA\n",
    )
    result = read_landing_file(path, OPPORTUNITY, display_name="o.csv")
    assert result.report["status"] == "loaded"
    assert result.report["warnings"] == (
        "o.csv: header 'lead_sorce' is not a contract column and looks like 'lead_source', "
        "which the file lacks: lead_source loads empty; correct the header if it is a typo"
    )  # region_custom is like no contract column: a new column, no warning


def test_reader_quarantines_each_problem_with_row_column_value_and_reason(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.csv",
        "\ufeff" + HEADER + "\n"
        '006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,"Disc\nuss"\n'  # quoted newline: fine
        "006B,001A,ten,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"  # bad decimal
        "006C,001A,10,USD,31-03-2025,2025-01-10T09:30:00Z,Discovery\n"  # DD-MM-YYYY date
        "006D,001A,10\n"  # too few fields
        "006A,001B,11,USD,2025-03-31,2025-01-11T09:30:00Z,Proposal\n"  # duplicate key
        "006E,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n",
    )
    result = read_landing_file(path, OPPORTUNITY, display_name="f.csv")
    problems = {(q["row_number"], q["column_name"], q["value"]) for q in result.quarantine}
    assert problems == {
        (2, "amount", "ten"),
        (3, "close_date", "31-03-2025"),
        (4, None, None),
        (5, "id", "006A"),
    }
    reasons = {q["row_number"]: q["reason"] for q in result.quarantine}
    assert reasons[2] == "not a valid decimal(18,2)"
    assert "missing columns" in reasons[4]
    assert reasons[5] == "duplicate primary key (006A) first seen at row 1"
    assert [q["raw_record"] for q in result.quarantine if q["row_number"] == 4] == ["006D,001A,10"]
    assert sorted(result.rows.column("id").to_pylist()) == ["006A", "006E"]
    assert result.rows.column("stage_name").to_pylist()[0] == "Disc\nuss"
    report = result.report
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (6, 2, 4)
    assert report["status"] == "loaded_with_rejects"


def _as_read(text: str) -> dict[int, dict[str, str]]:
    """Record number -> {header name: text}, as Python's csv module reads `text`."""
    header, *records = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    return {
        number: dict(zip(header, record, strict=True))
        for number, record in enumerate(records, 1)
        if len(record) == len(header)
    }


def test_every_quarantined_row_keeps_its_whole_record(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        "006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"
        '006B,001A,ten,USD,31-03-2025,2025-01-10T09:30:00Z,"Disc, ""uss""\nion"\n'  # 2 bad
        ",001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"  # empty key
        "006C,001A,10\n"  # too few fields
        "006A,001B,11,,2025-03-31,2025-01-11T09:30:00Z,Proposal\n"  # duplicate key
    )
    result = read_landing_file(_write(tmp_path / "o.csv", text), OPPORTUNITY)
    raw = {(q["row_number"], q["column_name"]): q["raw_record"] for q in result.quarantine}
    assert set(raw) == {(2, "amount"), (2, "close_date"), (3, "id"), (4, None), (5, "id")}
    # A record whose fields line up with the header: a JSON object of header -> the text as
    # the file had it (unquoted; an empty field is ""), in header order.
    records = _as_read(text)
    for (row, column), raw_record in raw.items():
        if column is not None:
            assert list(json.loads(raw_record).items()) == list(records[row].items())
    assert json.loads(raw[2, "amount"])["stage_name"] == 'Disc, "uss"\nion'
    assert json.loads(raw[5, "id"])["currency_iso_code"] == ""
    # A malformed record: its fields do not line up with the header, so its text is kept.
    assert raw[4, None] == "006C,001A,10"

    # A file without its key column: every record is kept whole.
    no_key = "amount,stage_name\n5,Discovery\n,Proposal\n"
    result = read_landing_file(_write(tmp_path / "k.csv", no_key), OPPORTUNITY)
    assert [json.loads(q["raw_record"]) for q in result.quarantine] == [
        {"amount": "5", "stage_name": "Discovery"},
        {"amount": "", "stage_name": "Proposal"},
    ]


@pytest.mark.parametrize(
    ("header", "column", "clash"),
    [
        (
            "id,stage_name,Stage Name",
            "Stage Name",
            "header 'stage_name' and header 'Stage Name' would both land in warehouse column "
            "'stage_name'",
        ),
        ("ID,id", "ID", "header 'ID' and header 'id' would both land in warehouse column 'id'"),
        (  # a spelling of a contract column the header lacks: dlt would load it there, uncast
            "id,Close Date",
            "Close Date",
            "header 'Close Date' and the contract's column 'close_date' (not in this header) "
            "would both land in warehouse column 'close_date'",
        ),
        (
            "id,_SROS Row Number",
            "_SROS Row Number",
            "header '_SROS Row Number' and the lineage column '_sros_row_number' added by "
            "ingestion would both land in warehouse column '_sros_row_number'",
        ),
        (
            "id,Stage Name,stage name,StageName",
            "Stage Name",
            "header 'Stage Name', header 'stage name', header 'StageName' and the contract's "
            "column 'stage_name' (not in this header) would all land in warehouse column "
            "'stage_name'",
        ),
    ],
)
def test_reader_quarantines_every_row_when_header_names_land_in_one_column(
    tmp_path: Path, header: str, column: str, clash: str
) -> None:
    n_fields = header.count(",") + 1
    text = f"{header}\n" + "".join(f"006{n}" + ",x" * (n_fields - 1) + "\n" for n in "AB")
    result = read_landing_file(_write(tmp_path / "o.csv", text), OPPORTUNITY)
    assert result.rows.num_rows == 0
    assert [(q["row_number"], q["column_name"]) for q in result.quarantine] == [
        (1, column),
        (2, column),
    ]
    assert result.quarantine[0]["reason"].startswith(f"column names clash: {clash} (dlt ")
    assert json.loads(result.quarantine[1]["raw_record"]) == _as_read(text)[2]
    assert result.report["status"] == "rejected"


def test_reader_keeps_new_columns_and_names_missing_ones(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.csv",
        "id,stage_name,created_date,amount,from\n006A,Discovery,2025-01-10T09:30:00Z,5,web\n",
    )
    result = read_landing_file(path, OPPORTUNITY)
    assert result.rows.column("from").to_pylist() == ["web"]
    assert result.report["new_columns"] == "from"
    assert "close_date" in result.report["missing_columns"].split(",")


def test_reader_quarantines_every_row_when_the_key_column_is_missing(tmp_path: Path) -> None:
    path = _write(tmp_path / "o.csv", "amount,stage_name\n5,Discovery\n6,Proposal\n")
    result = read_landing_file(path, OPPORTUNITY)
    assert result.rows.num_rows == 0
    assert {q["row_number"] for q in result.quarantine} == {1, 2}
    assert "required key column 'id' is missing" in result.quarantine[0]["reason"]
    assert result.report["status"] == "rejected"


def test_required_columns_are_marked_in_the_contract() -> None:
    assert OPPORTUNITY.required_columns == ["stage_name", "created_date"]
    assert load_contracts()[("salesforce", "user")].required_columns == ["created_date"]
    assert not OPPORTUNITY.column("amount").required


def test_reader_rejects_a_file_without_a_required_column_naming_file_and_column(
    tmp_path: Path,
) -> None:
    """`created_date` is required (meta.required): a blocking test downstream needs it. A
    file without it is rejected whole, like one without its key, instead of loading nulls
    that fail the build later."""
    path = _write(tmp_path / "o.csv", "id,stage_name,amount\n006A,Discovery,5\n006B,Proposal,6\n")
    result = read_landing_file(path, OPPORTUNITY, display_name="salesforce/opportunity/o.csv")
    assert result.rows.num_rows == 0
    assert [(q["row_number"], q["column_name"], q["value"]) for q in result.quarantine] == [
        (1, "created_date", None),
        (2, "created_date", None),
    ]
    assert result.quarantine[0]["reason"] == (
        "required column 'created_date' is missing from the header of "
        "salesforce/opportunity/o.csv (contract salesforce.opportunity, meta.required: the "
        "models need a value in every row); add the column to the export"
    )
    assert json.loads(result.quarantine[1]["raw_record"]) == {
        "id": "006B",
        "stage_name": "Proposal",
        "amount": "6",
    }
    report = result.report
    assert (report["rows_read"], report["rows_quarantined"], report["status"]) == (
        2,
        2,
        "rejected",
    )
    assert "created_date" in report["missing_columns"].split(",")

    # A header-only file without it has no record to quarantine: its report says so.
    path = _write(tmp_path / "h.csv", "id,stage_name,amount\n")
    header_only = read_landing_file(path, OPPORTUNITY, display_name="h.csv").report
    assert (header_only["rows_read"], header_only["status"]) == (0, "rejected")
    assert header_only["warnings"].startswith(
        "file rejected: required column 'created_date' is missing from the header of h.csv"
    )

    # Both required columns missing: the reason names both.
    path = _write(tmp_path / "p.csv", "id,amount\n006A,5\n")
    [entry] = read_landing_file(path, OPPORTUNITY, display_name="p.csv").quarantine
    assert entry["column_name"] == "stage_name"
    assert entry["reason"].startswith(
        "required columns 'stage_name' and 'created_date' are missing from the header of p.csv"
    )


def test_reader_quarantines_a_row_whose_required_value_is_empty(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "o.csv",
        f"{HEADER}\n"
        "006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"
        "006B,001A,10,USD,2025-03-31,,Discovery\n"  # empty created_date
        '006C,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,"  "\n'  # blank stage_name
        "006D,001A,10,USD,2025-03-31,,\n"  # both empty: one quarantine row per column
        "006E,001A,10,,,2025-01-10T09:30:00Z,Discovery\n",  # optional columns empty: loads
    )
    result = read_landing_file(path, OPPORTUNITY, display_name="f.csv")
    assert sorted((q["row_number"], q["column_name"], q["value"]) for q in result.quarantine) == [
        (2, "created_date", ""),
        (3, "stage_name", "  "),
        (4, "created_date", ""),
        (4, "stage_name", ""),
    ]
    reasons = {(q["row_number"], q["column_name"]): q["reason"] for q in result.quarantine}
    assert reasons[2, "created_date"] == (
        "required column 'created_date' is empty (contract meta.required: the models need a "
        "value in every row)"
    )
    [raw_record] = [q["raw_record"] for q in result.quarantine if q["row_number"] == 2]
    assert json.loads(raw_record)["created_date"] == ""  # the whole record is kept
    assert result.rows.column("id").to_pylist() == ["006A", "006E"]
    assert result.rows.column("currency_iso_code").to_pylist() == ["USD", None]
    report = result.report
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (5, 2, 3)
    assert report["status"] == "loaded_with_rejects"


def test_reader_handles_empty_file_and_rejects_duplicate_header(tmp_path: Path) -> None:
    empty = read_landing_file(_write(tmp_path / "e.csv", ""), OPPORTUNITY)
    assert (empty.report["rows_read"], empty.report["status"]) == (0, "empty")
    # A duplicated header name no longer raises (it failed the whole source): the file is
    # quarantined whole, record by record, and nothing of it is loaded.
    rejected = read_landing_file(_write(tmp_path / "d.csv", "id,id\n1,2\n"), OPPORTUNITY)
    assert rejected.rows.num_rows == 0
    assert [(q["row_number"], q["raw_record"]) for q in rejected.quarantine] == [(1, "1,2")]
    assert "names column(s) ['id'] more than once" in rejected.quarantine[0]["reason"]
    report = rejected.report
    assert (report["rows_read"], report["rows_quarantined"], report["status"]) == (
        1,
        1,
        "rejected",
    )


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def test_two_new_files_with_one_record_load_the_later_files_version(
    run_dirs: dict[str, Path],
) -> None:
    """Two incremental files of one run hold the same visitor (a table without
    `_fivetran_synced`): the file read later (path order) gives the loaded version, as it
    would if the files loaded in two runs."""
    landing = run_dirs["landing_dir"] / "marketing/identity"
    header = "anonymous_id,email,identified_at"
    _write(
        landing / "export_0001.csv",
        f"{header}\nanon_1,old@example.com,2025-01-10T09:30:00Z\n"
        "anon_2,two@example.com,2025-01-10T09:30:00Z\n",
    )
    _write(landing / "export_0002.csv", f"{header}\nanon_1,new@example.com,2025-01-11T09:30:00Z\n")
    ingest("marketing", **run_dirs)
    assert _query(
        run_dirs["warehouse_path"],
        "select anonymous_id, email, _sros_source_file from raw_marketing.identity order by 1",
    ) == [
        ("anon_1", "new@example.com", "marketing/identity/export_0002.csv"),
        ("anon_2", "two@example.com", "marketing/identity/export_0001.csv"),
    ]


@pytest.mark.parametrize(
    ("first_synced", "second_synced", "loaded"),
    [
        (None, None, "Proposal"),  # a direct export, without the column: the file read later
        ("", "", "Proposal"),  # the column empty: the same
        ("2025-01-12T08:00:00Z", "2025-01-11T08:00:00Z", "Discovery"),  # the later sync
        ("2025-01-11T08:00:00Z", "2025-01-11T08:00:00Z", "Proposal"),  # one sync: the file
    ],
)
def test_two_versions_of_a_crm_record_in_one_run_load_the_later_sync_then_the_later_file(
    run_dirs: dict[str, Path], first_synced: str | None, second_synced: str | None, loaded: str
) -> None:
    """Two incremental files of one run hold the same opportunity (a table with
    `_fivetran_synced`): the version with the later sync time loads, and without one (a
    direct CRM export leaves the column empty) or with the same one, the version of the file
    read later (path order), as if the files had loaded in two runs."""
    landing = run_dirs["landing_dir"] / "salesforce/opportunity"
    header = HEADER if first_synced is None else f"{HEADER},_fivetran_synced"
    first = "" if first_synced is None else f",{first_synced}"
    second = "" if second_synced is None else f",{second_synced}"
    _write(
        landing / "export_0001.csv",
        f"{header}\n006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery{first}\n"
        f"006B,001A,20,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery{first}\n",
    )
    _write(
        landing / "export_0002.csv",
        f"{header}\n006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Proposal{second}\n",
    )
    ingest("salesforce", **run_dirs)
    assert _query(
        run_dirs["warehouse_path"],
        "select id, stage_name from raw_salesforce.opportunity order by 1",
    ) == [("006A", loaded), ("006B", "Discovery")]


def test_a_load_skips_dlts_deduplication_only_when_no_key_repeats(
    run_dirs: dict[str, Path],
) -> None:
    """dlt ranks a load's versions of each key in one window over the whole load, which
    bounds how many rows a load can take. A run whose new files of a table share no key is
    declared deduplicated (dlt inserts its rows as they are); a later run whose files do share
    one is not, and loads the later version."""
    landing = run_dirs["landing_dir"] / "salesforce/opportunity"
    row = "{id},001A,{amount},USD,2025-03-31,2025-01-10T09:30:00Z,{stage}"

    def land(name: str, *rows: tuple[str, int, str]) -> None:
        lines = [row.format(id=i, amount=amount, stage=stage) for i, amount, stage in rows]
        _write(landing / name, "\n".join([HEADER, *lines]) + "\n")

    def deduplicated() -> bool:
        schema = landing_pipeline("salesforce", run_dirs["warehouse_path"], run_dirs["dlt_dir"])
        return schema.default_schema.get_table("opportunity")["x-stage-data-deduplicated"]

    def loaded() -> list[tuple]:
        return _query(
            run_dirs["warehouse_path"],
            "select id, amount, stage_name from raw_salesforce.opportunity order by 1",
        )

    land("export_0001.csv", ("006A", 10, "Discovery"), ("006B", 20, "Discovery"))
    land("export_0002.csv", ("006C", 30, "Discovery"))
    ingest("salesforce", **run_dirs)
    assert deduplicated() is True
    assert loaded() == [
        ("006A", Decimal("10.00"), "Discovery"),
        ("006B", Decimal("20.00"), "Discovery"),
        ("006C", Decimal("30.00"), "Discovery"),
    ]

    land("export_0003.csv", ("006A", 11, "Proposal"), ("006D", 40, "Discovery"))
    land("export_0004.csv", ("006A", 12, "Negotiation"))
    ingest("salesforce", **run_dirs)
    assert deduplicated() is False
    assert loaded() == [
        ("006A", Decimal("12.00"), "Negotiation"),  # the later file's version, once
        ("006B", Decimal("20.00"), "Discovery"),
        ("006C", Decimal("30.00"), "Discovery"),
        ("006D", Decimal("40.00"), "Discovery"),
    ]

    land("export_0005.csv", ("006B", 21, "Closed Won"))  # one file: its keys are unique
    ingest("salesforce", **run_dirs)
    assert deduplicated() is True
    assert loaded()[1] == ("006B", Decimal("21.00"), "Closed Won")


def test_load_keeps_good_rows_quarantines_bad_and_reconciles(run_dirs: dict[str, Path]) -> None:
    landing = run_dirs["landing_dir"]
    _write(
        landing / "salesforce/opportunity/export_0001.csv",
        f"{HEADER}\n"
        "006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"
        "006B,001A,oops,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n"
        "006C,001A,30,USD,2025-03-31,2025-01-10T09:30:00Z,Proposal\n",
    )
    reports = ingest("salesforce", **run_dirs)
    assert reports == [
        {
            "source_file": "salesforce/opportunity/export_0001.csv",
            "table_name": "opportunity",
            "rows_read": 3,
            "rows_loaded": 2,
            "rows_quarantined": 1,
            "rows_refused": 0,
            "rows_deleted": 0,
            "status": "loaded_with_rejects",
            "reason": None,
        }
    ]
    warehouse = run_dirs["warehouse_path"]
    assert _query(warehouse, "select id, amount from raw_salesforce.opportunity order by 1") == [
        ("006A", Decimal("10.00")),
        ("006C", Decimal("30.00")),
    ]
    assert _query(
        warehouse,
        "select source_file, row_number, column_name, value, reason "
        "from raw_salesforce._sros_quarantine",
    ) == [
        ("salesforce/opportunity/export_0001.csv", 2, "amount", "oops", "not a valid decimal(18,2)")
    ]
    # Columns the file did not carry still exist, typed as the contract says.
    types = dict(
        _query(
            warehouse,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_salesforce' and table_name = 'opportunity'",
        )
    )
    assert types["probability"] == "DOUBLE"
    assert types["created_date"] == "TIMESTAMP"


def test_a_file_goes_to_the_warehouse_in_batches_and_its_scratch_is_removed(
    run_dirs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader hands the passed rows on BATCH_ROWS at a time (never the whole file in
    memory); every batch lands, in file order, and the scratch Parquet file is removed."""
    monkeypatch.setattr(reader, "BATCH_ROWS", 2)
    records = [
        f"006{n:02d},001A,{n},USD,2025-03-31,2025-01-10T09:30:00Z,Discovery" for n in range(7)
    ]
    records[3] = records[3].replace(",3,", ",three,")
    path = _write(
        run_dirs["landing_dir"] / "salesforce/opportunity/export_0001.csv",
        HEADER + "\n" + "\n".join(records) + "\n",
    )
    result = read_landing_file(path, OPPORTUNITY)
    assert [batch.num_rows for batch in result.batches()] == [2, 2, 2]
    assert result.rows.column("_sros_row_number").to_pylist() == [1, 2, 3, 5, 6, 7]
    assert result.rows.schema.field("id").nullable is False  # an empty key was quarantined
    scratch = result.rows_file.parent
    result.close()
    assert not scratch.exists() and result.num_rows == 0

    [report] = ingest("salesforce", **run_dirs)
    assert (report["rows_loaded"], report["rows_quarantined"]) == (6, 1)
    assert _query(
        run_dirs["warehouse_path"],
        "select id, _sros_row_number from raw_salesforce.opportunity order by 1",
    ) == [(f"006{n:02d}", n + 1) for n in range(7) if n != 3]


@pytest.mark.parametrize(
    ("damage", "quarantined"),
    [
        ("none", set()),
        ("a malformed record", {70_000}),  # structurally broken: DuckDB's CSV reader rejects it
        ("a repeated key", {200_000}),  # the key of record 3 again: flagged by an UPDATE
    ],
)
def test_a_large_file_goes_on_in_file_order(
    tmp_path: Path, damage: str, quarantined: set[int]
) -> None:
    """Rows leave the reader in file order across DuckDB's row groups (122,880 rows each),
    whichever path numbered or flagged them. DuckDB does not keep the order by itself here: a
    table created from the numbered rows on two threads came out with its row groups swapped
    in about half the runs, and on 2026-12-03 a `copy` straight from them, even on one DuckDB
    thread, did too; so the reader's copy sorts (9 s of the 1M-lead touch file's 14.3 s copy)."""
    n_records = 300_000
    records = [
        f"006{n:07d},001A,{n},USD,2025-03-31,2025-01-10T09:30:00Z,Discovery"
        for n in range(n_records)
    ]
    if damage == "a malformed record":
        records[69_999] += ",one field too many"
    elif damage == "a repeated key":
        records[199_999] = records[2]
    path = _write(tmp_path / "export_0001.csv", HEADER + "\n" + "\n".join(records) + "\n")
    result = read_landing_file(path, OPPORTUNITY)
    try:
        assert {entry["row_number"] for entry in result.quarantine} == quarantined
        numbers = result.rows.column("_sros_row_number").to_pylist()
        assert numbers == [n for n in range(1, n_records + 1) if n not in quarantined]
    finally:
        result.close()


def test_the_reader_and_the_build_bound_duckdb_memory_alike() -> None:
    """Ingestion's reader spills beyond the dbt build's DuckDB memory limit: one variable,
    one default (sros.config), which profiles.yml repeats."""
    profiles = (PROJECT_DIR / "profiles.yml").read_text()
    assert (
        f"memory_limit: \"{{{{ env_var('SROS_DUCKDB_MEMORY_LIMIT', "
        f"'{DUCKDB_MEMORY_LIMIT_DEFAULT}') }}}}\"" in profiles
    )


def test_new_columns_are_reported_as_they_land_in_the_warehouse(
    run_dirs: dict[str, Path],
) -> None:
    """dlt normalises a new column's name; the report names the column as dlt created it (so
    the reader normalises names exactly as dlt does), with the header spelling."""
    _write(
        run_dirs["landing_dir"] / "salesforce/opportunity/export_0001.csv",
        f"{HEADER},Partner Tier__c,Region Code,from\n"
        "006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery,Gold,EMEA-2,web\n",
    )
    ingest("salesforce", **run_dirs)
    warehouse = run_dirs["warehouse_path"]
    [(new_columns,)] = _query(warehouse, "select new_columns from raw_salesforce._sros_load_report")
    assert new_columns == (
        "partner_tier__c (header 'Partner Tier__c'),region_code (header 'Region Code'),from"
    )
    assert _query(
        warehouse, 'select partner_tier__c, region_code, "from" from raw_salesforce.opportunity'
    ) == [("Gold", "EMEA-2", "web")]


def test_load_twice_loads_nothing_twice_and_a_rewritten_file_replaces(
    run_dirs: dict[str, Path],
) -> None:
    landing = run_dirs["landing_dir"]
    path = _write(
        landing / "salesforce/opportunity/export_0001.csv",
        f"{HEADER}\n006A,001A,10,USD,2025-03-31,2025-01-10T09:30:00Z,Discovery\n",
    )
    assert len(ingest("salesforce", **run_dirs)) == 1
    assert ingest("salesforce", **run_dirs) == []  # nothing new: nothing read
    count = "select count(*), max(amount) from raw_salesforce.opportunity"
    assert _query(run_dirs["warehouse_path"], count) == [(1, Decimal("10.00"))]

    # The same record exported again with a new amount replaces the old version (merge).
    path.write_text(f"{HEADER}\n006A,001A,99,USD,2025-03-31,2025-01-10T09:30:00Z,Proposal\n")
    later = path.stat().st_mtime + 5
    os.utime(path, (later, later))
    assert [r["rows_loaded"] for r in ingest("salesforce", **run_dirs)] == [1]
    assert _query(run_dirs["warehouse_path"], count) == [(1, Decimal("99.00"))]

    # A late file is read although its modification time is older than export_0001's (a
    # max-modification-date cursor would skip it), and it is the only file read.
    _write(
        landing / "salesforce/opportunity/export_0002.csv",
        f"{HEADER}\n006B,001A,20,USD,2025-03-31,2025-01-12T09:30:00Z,Discovery\n",
    )
    assert [r["source_file"] for r in ingest("salesforce", **run_dirs)] == [
        "salesforce/opportunity/export_0002.csv"
    ]
    assert _query(run_dirs["warehouse_path"], count)[0][0] == 2


def test_dirty_company_quarantine_matches_what_the_generator_injected(
    run_dirs: dict[str, Path],
) -> None:
    """Known answers: the generator records every malformed row, duplicate and late row it
    injected; ingestion must quarantine exactly those and load everything else."""
    from sros.contracts import source_names
    from sros.demo_company import DemoConfig, DirtyConfig, generate

    landing = run_dirs["landing_dir"]
    generate(DemoConfig(n_leads=800, seed=3, dirty=DirtyConfig.all_on()), landing)
    truth = json.loads((landing / "ground_truth.json").read_text())
    reports = [report for source in source_names() for report in ingest(source, **run_dirs)]
    warehouse = run_dirs["warehouse_path"]

    schemas = [
        schema
        for (schema,) in _query(
            warehouse,
            "select table_schema from information_schema.tables "
            "where table_name = '_sros_quarantine' order by 1",
        )
    ]
    quarantined = [
        row
        for schema in schemas
        for row in _query(
            warehouse,
            f"select source_file, row_number, column_name, value, reason, raw_record "
            f"from {schema}._sros_quarantine",
        )
    ]
    quarantine = {
        (file, row): (column, value, reason) for file, row, column, value, reason, _ in quarantined
    }
    raw_records = {(file, row): raw_record for file, row, *_, raw_record in quarantined}
    malformed = truth["dirty"]["malformed_rows"]
    assert malformed, "the generator injected no malformed rows"
    for injected in malformed:
        column, value, reason = quarantine[(injected["file"], injected["row"])]
        raw_record = raw_records[(injected["file"], injected["row"])]
        if column is None:  # structurally broken: too few fields; its CSV text is kept
            assert "missing columns" in reason
            with (landing / injected["file"]).open(newline="", encoding="utf-8-sig") as handle:
                records = [record for record in csv.reader(handle) if record]
            assert next(csv.reader([raw_record])) == records[injected["row"]]
        else:
            assert (column, value) == (injected["column"], injected["value"])
            assert json.loads(raw_record)[column] == value  # the whole record is kept
    # Nothing lost: every quarantined row keeps its record.
    assert all(raw_records.values())

    duplicated = {
        (table, record_id)
        for table, ids in truth["dirty"]["duplicates"].items()
        for kind in ("exact", "conflicting")
        for record_id in ids[kind]
    }
    quarantined_duplicates = {
        (f"{file.split('/')[0]}.{file.split('/')[1]}", value)
        for (file, _), (_, value, reason) in quarantine.items()
        if reason.startswith("duplicate primary key")
    }
    assert quarantined_duplicates == duplicated
    assert len(quarantine) == len(malformed) + len(duplicated)

    # Late rows (a second export file with older timestamps) are loaded, not skipped.
    for table, late in truth["dirty"]["late_rows"].items():
        source, name = table.split(".")
        contract = load_contracts()[(source, name)]
        key = contract.primary_key[0]
        ids = ", ".join(f"'{record_id}'" for record_id in late["ids"])
        [(found,)] = _query(
            warehouse, f'select count(*) from {contract.schema}."{name}" where {key} in ({ids})'
        )
        assert found == len(late["ids"]), table

    # Nothing lost: for every table, rows loaded + rows quarantined = rows written.
    by_table: dict[str, int] = {}
    for report in reports:
        assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]
        source = report["source_file"].split("/")[0]
        table = f"{source}.{report['table_name']}"
        by_table[table] = by_table.get(table, 0) + report["rows_read"]
    assert by_table == truth["row_counts"]


def _csv_module_count(path: Path) -> int:
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        records = csv.reader(handle)
        next((record for record in records if record), None)  # the header: the first record
        return sum(1 for record in records if record)


def test_a_file_without_quotes_is_counted_by_its_lines_as_the_csv_module_counts_it(
    tmp_path: Path,
) -> None:
    """The independent record count reads a file without quotes or carriage returns by its
    lines (ten times faster); it must give the csv module's number for every such file: empty
    lines anywhere (first, runs of them, last), a last line with or without its LF, a BOM,
    non-ASCII text, any chunk size (so LFs fall on chunk boundaries). A file with a quote or
    a CR is left to the csv module."""
    import random

    rng = random.Random(11)
    path = tmp_path / "plain.csv"
    for case in range(400):
        lines = ["id,name"] + [
            rng.choice(["", "", "1,a", "2,é b", " ", "3,", ",", "4,x,y"])
            for _ in range(rng.randrange(0, 12))
        ]
        text = (
            rng.choice(["", "", "\n", "\n\n"]) + "\n".join(lines) + rng.choice(["", "\n", "\n\n"])
        )
        data = (b"\xef\xbb\xbf" if case % 7 == 0 else b"") + text.encode()
        path.write_bytes(data)
        view = reader._view_of(path)
        for chunk_bytes in (1, 2, 3, 5, 1 << 24):
            assert reader._count_plain_records(view, chunk_bytes) == _csv_module_count(path), (
                f"case {case}, chunks of {chunk_bytes}: {data!r}"
            )
    for data in (b'id,name\n1,"a"\n', b"id,name\r\n1,a\r\n", b"id,name\n1,a\r2,b\n"):
        path.write_bytes(data)
        assert reader._count_plain_records(reader._view_of(path), 4) is None
        assert reader.count_records(path) == _csv_module_count(path)


def test_a_file_whose_first_line_is_empty_is_refused_not_taken_for_empty(
    tmp_path: Path,
) -> None:
    """An empty line before the header used to make the file look empty (no header): its
    records were reported as 0 read and dropped. Now such a file is refused naming the
    problem, each record kept in the quarantine; a file of empty lines, or of a header
    alone after one, holds no record and stays an empty file."""
    contract = load_contracts()[("salesforce", "user_role")]
    path = tmp_path / "export_0001.csv"
    path.write_text("\nId,Name\n00E1,Sales\n00E2,Marketing\n")
    result = read_landing_file(path, contract)
    assert result.report["status"] == "rejected"
    assert result.report["rows_read"] == 2
    assert result.report["rows_quarantined"] == 2
    assert [(row["row_number"], row["raw_record"]) for row in result.quarantine] == [
        (1, "00E1,Sales"),
        (2, "00E2,Marketing"),
    ]
    assert "line 1 is empty and records follow it" in result.quarantine[0]["reason"]
    for text in ("", "\n\n", "\nId,Name\n"):
        path.write_text(text)
        result = read_landing_file(path, contract)
        assert (result.report["status"], result.report["rows_read"]) == ("empty", 0), text
