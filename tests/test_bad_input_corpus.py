"""The bad-input corpus (tests/data/bad_input/) run through the real ingestion, end to end.

Every case is a small checked-in landing file. Each is copied byte for byte into a fresh
landing folder and loaded with `ingest` (dlt into DuckDB); the tests then read what a user
would see in the warehouse: the raw table, `_sros_quarantine` and `_sros_load_report`.

For every case: rows read (the independent csv count) = rows loaded + rows quarantined, the
record numbers loaded and quarantined together are exactly 1..rows read, and every quarantined
row keeps its whole record in `raw_record` (nothing lost).

The cases under build/ are valid at ingestion (they load as they are); the dbt and Great
Expectations checks named in build/README.md judge them.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sros.contracts import load_contracts
from sros.ingest.pipeline import ingest
from sros.ingest.reader import read_landing_file

CORPUS = Path(__file__).parent / "data" / "bad_input"

# Case -> (rows read, rows loaded, rows quarantined, status) of its landing file(s).
EXPECTED = {
    # Legal input that must load correctly typed.
    "salesforce/lead/utf8_bom.csv": (2, 2, 0, "loaded"),
    "salesforce/opportunity/crlf_line_endings.csv": (3, 3, 0, "loaded"),
    "hubspot/deal/quoted_newlines.csv": (3, 3, 0, "loaded"),
    "salesforce/lead/timezone_offsets.csv": (5, 5, 0, "loaded"),
    "salesforce/opportunity/column_named_from.csv": (2, 2, 0, "loaded"),
    "hubspot/deal/schema_drift_new_column.csv": (3, 3, 0, "loaded"),
    "salesforce/opportunity/missing_optional_column.csv": (2, 2, 0, "loaded"),
    "salesforce/lead/empty_file.csv": (0, 0, 0, "empty"),
    "salesforce/lead/header_only.csv": (0, 0, 0, "empty"),
    # Bad input that must be quarantined, naming file, row, column and value.
    "salesforce/opportunity/dd_mm_yyyy_dates.csv": (4, 2, 2, "loaded_with_rejects"),
    "salesforce/lead/duplicate_ids.csv": (4, 2, 2, "loaded_with_rejects"),
    "hubspot/deal/missing_required_column.csv": (2, 0, 2, "rejected"),
    "salesforce/opportunity/truncated_inside_quoted_field.csv": (3, 2, 1, "loaded_with_rejects"),
    "salesforce/opportunity/truncated_mid_row.csv": (3, 2, 1, "loaded_with_rejects"),
    "salesforce/opportunity/column_names_clash.csv": (2, 0, 2, "rejected"),
    # Loaded in the same run as the clash above: the source's other tables still load.
    "salesforce/lead/column_names_clash.csv": (2, 2, 0, "loaded"),
    # Valid at ingestion; the build and expectation suites catch them (build/README.md).
    "build/salesforce/opportunity/unmapped_stage_value.csv": (2, 2, 0, "loaded"),
    "build/salesforce/lead/unmapped_rejection_reason.csv": (2, 2, 0, "loaded"),
    "build/salesforce/opportunity/negative_amount.csv": (2, 2, 0, "loaded"),
    "build/salesforce/opportunity/close_before_create.csv": (2, 2, 0, "loaded"),
    "build/salesforce/lead/stage_skipping.csv": (2, 2, 0, "loaded"),
    "build/salesforce/lead_history/stage_skipping.csv": (2, 2, 0, "loaded"),
    "build/salesforce/opportunity/future_dates.csv": (3, 3, 0, "loaded"),
}


def _landing_path(corpus_file: str) -> str:
    """Where a corpus file lands: `<source>/<table>/<name>.csv` (build/ dropped)."""
    return corpus_file.removeprefix("build/")


def _case_files(corpus_file: str) -> list[str]:
    """The files loaded together for a case: those in the same folder tree with the same
    name (stage_skipping needs the lead and its lead_history)."""
    name = Path(corpus_file).name
    top = "build/" if corpus_file.startswith("build/") else ""
    return sorted(file for file in EXPECTED if file.startswith(top) and Path(file).name == name)


@dataclass
class Loaded:
    """One case after `ingest`: the reports it returned and the warehouse it loaded."""

    reports: list[dict]
    warehouse: Path

    def query(self, sql: str, *parameters: object) -> list[tuple]:
        with duckdb.connect(str(self.warehouse), read_only=True) as connection:
            return connection.execute(sql, list(parameters)).fetchall()

    def has_table(self, schema: str, table: str) -> bool:
        return bool(
            self.query(
                "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
                schema,
                table,
            )
        )

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        return dict(
            self.query(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                schema,
                table,
            )
        )

    def quarantine(self, schema: str) -> list[tuple]:
        """(source_file, row_number, column_name, value, reason, raw_record), in file order."""
        if not self.has_table(schema, "_sros_quarantine"):
            return []
        return self.query(
            "select source_file, row_number, column_name, value, reason, raw_record "
            f"from {schema}._sros_quarantine order by source_file, row_number"
        )

    def load_report(self, schema: str, source_file: str) -> dict:
        [row] = self.query(
            "select rows_read, rows_loaded, rows_quarantined, status, new_columns, "
            f"missing_columns from {schema}._sros_load_report where source_file = ?",
            source_file,
        )
        keys = ["rows_read", "rows_loaded", "rows_quarantined", "status"]
        return dict(zip([*keys, "new_columns", "missing_columns"], row, strict=True))


@pytest.fixture(scope="module")
def load_case(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Loaded]:
    """`load_case(corpus_file)` -> the case loaded into a fresh warehouse (once per case)."""
    loaded: dict[str, Loaded] = {}

    def load(corpus_file: str) -> Loaded:
        files = _case_files(corpus_file)
        if files[0] not in loaded:
            root = tmp_path_factory.mktemp(Path(corpus_file).stem)
            for file in files:
                target = root / "landing" / _landing_path(file)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(CORPUS / file, target)  # byte for byte: BOM, CRLF, no EOL
            [source] = {_landing_path(file).split("/")[0] for file in files}
            reports = ingest(
                source,
                landing_dir=root / "landing",
                warehouse_path=root / "warehouse.duckdb",
                dlt_dir=root / "dlt",
            )
            loaded[files[0]] = Loaded(reports, root / "warehouse.duckdb")
        return loaded[files[0]]

    return load


def _schema(corpus_file: str) -> str:
    source, table, _ = _landing_path(corpus_file).split("/")
    return load_contracts()[(source, table)].schema


def _file_records(corpus_file: str) -> dict[int, dict[str, str]]:
    """Record number -> {header name: text} of the records whose fields line up with the
    header, as Python's csv module reads the file."""
    with (CORPUS / corpus_file).open(newline="", encoding="utf-8-sig") as handle:
        header, *records = [record for record in csv.reader(handle) if record] or [[]]
    return {
        number: dict(zip(header, record, strict=True))
        for number, record in enumerate(records, 1)
        if len(record) == len(header)
    }


def _is_malformed(reason: str) -> bool:
    """A structurally broken record, kept as its CSV text rather than header -> value."""
    return reason.startswith(("malformed row", "unclosed quote"))


def test_every_corpus_file_has_an_expected_outcome() -> None:
    on_disk = {path.relative_to(CORPUS).as_posix() for path in CORPUS.rglob("*.csv")}
    on_disk = {f for f in on_disk if not f.startswith("landing_zone/")}  # test_landing_zone.py
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize(
    ("corpus_file", "looks_like"),
    [
        ("salesforce/lead/utf8_bom.csv", lambda raw: raw.startswith(b"\xef\xbb\xbfid,")),
        (
            "salesforce/opportunity/crlf_line_endings.csv",
            lambda raw: raw.count(b"\r\n") == 4 and raw.count(b"\n") == 4,
        ),
        ("hubspot/deal/quoted_newlines.csv", lambda raw: b'"Contoso Ltd - Renewal\nsigned' in raw),
        ("salesforce/lead/empty_file.csv", lambda raw: raw == b""),
        (
            "salesforce/opportunity/truncated_inside_quoted_field.csv",
            lambda raw: raw.endswith(b',"Fabrikam Inc - Expa'),
        ),
        ("salesforce/opportunity/truncated_mid_row.csv", lambda raw: raw.endswith(b",USD")),
    ],
)
def test_corpus_file_bytes_are_intact(corpus_file: str, looks_like: Callable) -> None:
    """An editor or a git line-ending conversion must not quietly repair the corpus (see
    tests/data/bad_input/.gitattributes)."""
    assert looks_like((CORPUS / corpus_file).read_bytes())


@pytest.mark.parametrize("corpus_file", sorted(EXPECTED))
def test_rows_reconcile_and_nothing_is_lost(
    corpus_file: str, load_case: Callable[[str], Loaded]
) -> None:
    loaded = load_case(corpus_file)
    source_file = _landing_path(corpus_file)
    schema = _schema(corpus_file)
    table = source_file.split("/")[1]
    rows_read, rows_loaded, rows_quarantined, status = EXPECTED[corpus_file]

    [report] = [r for r in loaded.reports if r["source_file"] == source_file]
    assert (
        report["rows_read"],
        report["rows_loaded"],
        report["rows_quarantined"],
        report["status"],
    ) == (rows_read, rows_loaded, rows_quarantined, status)
    assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]

    # The warehouse holds what the report says, and every record is in exactly one place.
    stored = loaded.load_report(schema, source_file)
    assert (stored["rows_read"], stored["rows_loaded"], stored["rows_quarantined"]) == (
        rows_read,
        rows_loaded,
        rows_quarantined,
    )
    loaded_numbers = (
        [
            number
            for (number,) in loaded.query(
                f'select _sros_row_number from {schema}."{table}" where _sros_source_file = ?',
                source_file,
            )
        ]
        if loaded.has_table(schema, table)
        else []
    )
    quarantined_numbers = {
        row for file, row, *_ in loaded.quarantine(schema) if file == source_file
    }
    assert len(loaded_numbers) == rows_loaded
    assert len(quarantined_numbers) == rows_quarantined
    assert sorted([*loaded_numbers, *quarantined_numbers]) == list(range(1, rows_read + 1))

    # Every quarantined row keeps its whole record: header -> text in header order, or the
    # CSV text of a record whose fields do not line up with the header.
    records, text = _file_records(corpus_file), (CORPUS / corpus_file).read_text("utf-8-sig")
    for file, row, _, _, reason, raw_record in loaded.quarantine(schema):
        if file != source_file:
            continue
        if _is_malformed(reason):
            assert raw_record and raw_record in text
        else:
            assert list(json.loads(raw_record).items()) == list(records[row].items())


# --- legal input: loads, correctly typed -------------------------------------------------


def test_utf8_bom_does_not_pollute_the_first_column(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("salesforce/lead/utf8_bom.csv")
    report = loaded.load_report("raw_salesforce", "salesforce/lead/utf8_bom.csv")
    assert (report["new_columns"], report["missing_columns"]) == ("", "")
    assert not [c for c in loaded.column_types("raw_salesforce", "lead") if "feff" in c.lower()]
    assert loaded.query("select id, first_name from raw_salesforce.lead order by id") == [
        ("00QBAD000000000001", "Amélie"),  # UTF-8 decoded, not "AmÃ©lie"
        ("00QBAD000000000002", "Jonas"),
    ]


def test_crlf_line_endings_leave_no_carriage_return(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("salesforce/opportunity/crlf_line_endings.csv")
    report = loaded.load_report("raw_salesforce", "salesforce/opportunity/crlf_line_endings.csv")
    assert report["new_columns"] == ""  # the last header is "_fivetran_deleted", not "...\r"
    rows = loaded.query(
        "select id, stage_name, _fivetran_deleted, _sros_row_number "
        "from raw_salesforce.opportunity order by id"
    )
    assert rows == [
        ("006BAD000000000001", "Discovery", False, 1),
        ("006BAD000000000002", "Discovery", False, 2),
        ("006BAD000000000003", "Discovery", False, 3),
    ]


def test_quoted_newline_stays_inside_the_value(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("hubspot/deal/quoted_newlines.csv")
    rows = loaded.query(
        "select deal_id, property_dealname, property_amount, _sros_row_number "
        "from raw_hubspot.deal order by deal_id"
    )
    assert rows == [
        ("89990001", 'Contoso Ltd - Renewal\nsigned by "J. Smith", CFO', Decimal("18000.00"), 1),
        # Record numbers, not line numbers: the two-line record 1 does not shift the rest.
        ("89990002", "Fabrikam Inc", Decimal("18000.00"), 2),
        ("89990003", "Tailspin Toys", Decimal("18000.00"), 3),
    ]


def test_timezone_offsets_are_stored_in_utc(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("salesforce/lead/timezone_offsets.csv")
    assert loaded.column_types("raw_salesforce", "lead")["created_date"] == "TIMESTAMP"
    assert loaded.query("select id, created_date from raw_salesforce.lead order by id") == [
        ("00QBAD000000000001", dt.datetime(2025, 1, 10, 4, 0)),  # 09:30 +05:30
        ("00QBAD000000000002", dt.datetime(2025, 1, 11, 5, 30)),  # 21:30 -08:00: next day
        ("00QBAD000000000003", dt.datetime(2025, 1, 10, 9, 30)),  # Z
        ("00QBAD000000000004", dt.datetime(2025, 1, 10, 9, 30)),  # no offset: taken as UTC
        ("00QBAD000000000005", dt.datetime(2025, 1, 10, 8, 30, 0, 250000)),  # .250 +01:00
    ]


def test_a_column_named_from_loads_and_can_be_selected(
    load_case: Callable[[str], Loaded],
) -> None:
    loaded = load_case("salesforce/opportunity/column_named_from.csv")
    report = loaded.load_report("raw_salesforce", "salesforce/opportunity/column_named_from.csv")
    assert report["new_columns"] == "from"
    assert loaded.column_types("raw_salesforce", "opportunity")["from"] == "VARCHAR"
    selected = 'select id, "from", stage_name from raw_salesforce.opportunity order by 1'
    assert loaded.query(selected) == [
        ("006BAD000000000001", "web", "Discovery"),
        ("006BAD000000000002", "partner", "Discovery"),
    ]


def test_schema_drift_lands_a_new_column_as_text(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("hubspot/deal/schema_drift_new_column.csv")
    report = loaded.load_report("raw_hubspot", "hubspot/deal/schema_drift_new_column.csv")
    assert (report["new_columns"], report["missing_columns"]) == ("property_hs_priority", "")
    types = loaded.column_types("raw_hubspot", "deal")
    assert types["property_hs_priority"] == "VARCHAR"
    assert types["property_amount"] == "DECIMAL(18,2)"  # the contract's columns keep their type
    assert loaded.query(
        "select deal_id, property_hs_priority from raw_hubspot.deal order by 1"
    ) == [("89990001", "high"), ("89990002", None), ("89990003", "low")]


def test_a_missing_optional_column_loads_as_null_and_is_reported(
    load_case: Callable[[str], Loaded],
) -> None:
    loaded = load_case("salesforce/opportunity/missing_optional_column.csv")
    report = loaded.load_report(
        "raw_salesforce", "salesforce/opportunity/missing_optional_column.csv"
    )
    assert (report["new_columns"], report["missing_columns"]) == ("", "amount")
    assert loaded.query("select id, amount from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000001", None),
        ("006BAD000000000002", None),
    ]


@pytest.mark.parametrize(
    "corpus_file", ["salesforce/lead/empty_file.csv", "salesforce/lead/header_only.csv"]
)
def test_an_empty_file_is_reported_and_loads_nothing(
    corpus_file: str, load_case: Callable[[str], Loaded]
) -> None:
    loaded = load_case(corpus_file)
    assert loaded.load_report("raw_salesforce", corpus_file)["status"] == "empty"
    assert not loaded.has_table("raw_salesforce", "lead")
    assert loaded.quarantine("raw_salesforce") == []


# --- bad input: quarantined, naming file, row, column and value ---------------------------


def test_dd_mm_yyyy_dates_are_quarantined_not_guessed(
    load_case: Callable[[str], Loaded],
) -> None:
    loaded = load_case("salesforce/opportunity/dd_mm_yyyy_dates.csv")
    file = "salesforce/opportunity/dd_mm_yyyy_dates.csv"
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (file, 2, "close_date", "31-03-2025", "not a valid date"),
        # Ambiguous (4 March or 3 April): neither is guessed.
        (file, 3, "close_date", "04-03-2025", "not a valid date"),
    ]
    assert loaded.query("select id, close_date from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000001", dt.date(2025, 6, 30)),
        ("006BAD000000000004", dt.date(2025, 6, 30)),
    ]


def test_duplicate_ids_keep_the_first_and_quarantine_the_rest(
    load_case: Callable[[str], Loaded],
) -> None:
    loaded = load_case("salesforce/lead/duplicate_ids.csv")
    file = "salesforce/lead/duplicate_ids.csv"
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            3,
            "id",
            "00QBAD000000000001",
            "duplicate primary key (00QBAD000000000001) first seen at row 1",
        ),
        (  # a conflicting version (another status) is quarantined too, not merged over row 2
            file,
            4,
            "id",
            "00QBAD000000000002",
            "duplicate primary key (00QBAD000000000002) first seen at row 2",
        ),
    ]
    assert loaded.query(
        "select id, status, _sros_row_number from raw_salesforce.lead order by 1"
    ) == [
        ("00QBAD000000000001", "Open - Not Contacted", 1),
        ("00QBAD000000000002", "Open - Not Contacted", 2),
    ]
    # The conflicting version is not lost: its whole record is in the quarantine.
    raw_record = loaded.quarantine("raw_salesforce")[1][5]
    assert json.loads(raw_record)["status"] == "Working - Contacted"


def test_a_missing_key_column_quarantines_every_row(load_case: Callable[[str], Loaded]) -> None:
    loaded = load_case("hubspot/deal/missing_required_column.csv")
    file = "hubspot/deal/missing_required_column.csv"
    reason = "required key column 'deal_id' is missing from the header"
    assert [row[:5] for row in loaded.quarantine("raw_hubspot")] == [
        (file, 1, "deal_id", None, reason),
        (file, 2, "deal_id", None, reason),
    ]
    assert loaded.load_report("raw_hubspot", file)["missing_columns"] == "deal_id"
    assert not loaded.has_table("raw_hubspot", "deal")


def test_header_names_landing_in_one_column_quarantine_the_file_not_the_load(
    load_case: Callable[[str], Loaded],
) -> None:
    """`Stage Name` next to `stage_name`: dlt normalises both to `stage_name`, and handed
    such a file it fails the load of the whole source (NameNormalizationCollision), naming
    neither file nor column. The reader quarantines the file's rows instead, like a file
    without its key column, and the source's other tables load."""
    file = "salesforce/opportunity/column_names_clash.csv"
    loaded = load_case(file)
    reason = (
        "column names clash: header 'stage_name' and header 'Stage Name' would both land in "
        "warehouse column 'stage_name' (dlt normalises column names to snake_case); rename or "
        "drop header columns so that each lands in a column of its own"
    )
    quarantine = loaded.quarantine("raw_salesforce")
    assert [row[:5] for row in quarantine] == [
        (file, 1, "Stage Name", None, reason),
        (file, 2, "Stage Name", None, reason),
    ]
    # The whole record is kept, with the values of both spellings.
    record = json.loads(quarantine[1][5])
    assert (record["stage_name"], record["Stage Name"]) == ("Discovery", "Stage 1 - Discovery")
    assert record["name"] == "Contoso Ltd - New Business, EMEA"
    report = loaded.load_report("raw_salesforce", file)
    assert report["new_columns"] == "stage_name (header 'Stage Name')"
    assert not loaded.has_table("raw_salesforce", "opportunity")
    assert loaded.query("select id, _sros_source_file from raw_salesforce.lead order by 1") == [
        ("00QBAD000000000001", "salesforce/lead/column_names_clash.csv"),
        ("00QBAD000000000002", "salesforce/lead/column_names_clash.csv"),
    ]


def test_a_file_cut_inside_a_quoted_field_quarantines_the_last_record(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/truncated_inside_quoted_field.csv"
    loaded = load_case(file)
    [(source_file, row, column, value, reason, raw_record)] = loaded.quarantine("raw_salesforce")
    assert (source_file, row, column, value) == (file, 3, "name", "Fabrikam Inc - Expa")
    assert reason.startswith("unclosed quote: a quoted field of the record starting on line 4")
    assert raw_record == (CORPUS / file).read_text().splitlines()[-1]
    assert [id_ for (id_,) in loaded.query("select id from raw_salesforce.opportunity")] == [
        "006BAD000000000001",
        "006BAD000000000002",
    ]


def test_a_file_cut_mid_row_quarantines_the_short_record(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/truncated_mid_row.csv"
    loaded = load_case(file)
    [(source_file, row, column, value, reason, raw_record)] = loaded.quarantine("raw_salesforce")
    assert (source_file, row, column, value) == (file, 3, None, None)
    assert reason == ("malformed row (missing columns): Expected Number of Columns: 21 Found: 10")
    assert raw_record == (CORPUS / file).read_text().splitlines()[-1]


# --- build-level cases: valid at ingestion, loaded exactly as written ---------------------


@pytest.mark.parametrize(
    ("corpus_file", "sql", "expected"),
    [
        (
            "build/salesforce/opportunity/unmapped_stage_value.csv",
            "select stage_name from raw_salesforce.opportunity where id = '006BAD000000000002'",
            "Verbal Commit",
        ),
        (
            "build/salesforce/lead/unmapped_rejection_reason.csv",
            "select rejection_reason_c from raw_salesforce.lead where id = '00QBAD000000000002'",
            "bad_timing",
        ),
        (
            "build/salesforce/opportunity/negative_amount.csv",
            "select amount from raw_salesforce.opportunity where id = '006BAD000000000002'",
            Decimal("-18500.00"),
        ),
        (
            "build/salesforce/opportunity/close_before_create.csv",
            "select date_diff('day', created_date::date, close_date) "
            "from raw_salesforce.opportunity where id = '006BAD000000000002'",
            -24,
        ),
        (
            "build/salesforce/lead/stage_skipping.csv",
            "select old_value || ' -> ' || new_value from raw_salesforce.lead_history "
            "where lead_id = '00QBAD000000000002'",
            "Open - Not Contacted -> Working - Contacted",
        ),
        (
            "build/salesforce/opportunity/future_dates.csv",
            "select created_date from raw_salesforce.opportunity where id = '006BAD000000000002'",
            dt.datetime(2099, 1, 15, 10, 0),
        ),
        (
            "build/salesforce/opportunity/future_dates.csv",
            "select close_date from raw_salesforce.opportunity where id = '006BAD000000000003'",
            dt.date(2099, 12, 31),
        ),
    ],
)
def test_build_level_defects_load_as_written(
    corpus_file: str, sql: str, expected: object, load_case: Callable[[str], Loaded]
) -> None:
    loaded = load_case(corpus_file)
    assert loaded.query(sql) == [(expected,)]
    assert loaded.quarantine("raw_salesforce") == []


# --- the reader fix behind the truncated-file case, on its edge cases --------------------


@pytest.mark.parametrize(
    ("tail", "quarantined"),
    [
        # A stray opening quote swallows the rest of the file into one record: it is
        # quarantined whole (its raw text keeps the swallowed lines), not dropped.
        ('006C,"Fabrikam\n006D,Tailspin\n', [(3, "name", "Fabrikam\n006D,Tailspin\n")]),
        # Cut right after an escaped quote: still inside the quoted field.
        ('006C,"Fabrikam ""Gold""', [(3, "name", 'Fabrikam "Gold"')]),
        # A closed quoted field at the very end, with no final newline, is fine.
        ('006C,"Fabrikam, EMEA"', []),
        ('006C,""', []),
    ],
)
def test_an_unclosed_quote_at_the_end_is_quarantined_not_dropped(
    tmp_path: Path, tail: str, quarantined: list[tuple]
) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes(f"id,name\n006A,Northwind\n006B,Contoso\n{tail}".encode())
    result = read_landing_file(
        path, load_contracts()[("salesforce", "opportunity")], display_name="o.csv"
    )
    assert [(q["row_number"], q["column_name"], q["value"]) for q in result.quarantine] == (
        quarantined
    )
    if quarantined:
        assert result.quarantine[0]["raw_record"] == tail.rstrip("\n")
        assert "starting on line 4" in result.quarantine[0]["reason"]
    report = result.report
    assert report["rows_read"] == 3 == report["rows_loaded"] + report["rows_quarantined"]
