"""The bad-input corpus (tests/data/bad_input/) run through the real ingestion, end to end.

Every case is a small checked-in landing file. Each is copied byte for byte into a fresh
landing folder and loaded with `ingest` (dlt into DuckDB); the tests then read what a user
would see in the warehouse: the raw table, `_sros_quarantine` and `_sros_load_report`.

For every case: rows read (the independent csv count) = rows loaded + rows quarantined, the
record numbers loaded and quarantined together are exactly 1..rows read (or, for a file whose
records cannot be told apart, the one row 0), and every quarantined row keeps its whole
record: in `raw_record`, and its exact bytes in `raw_bytes` where the text cannot be exact
(nothing lost).

The cases under build/ are valid at ingestion (they load as they are); the dbt and Great
Expectations checks named in build/README.md judge them.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from unittest.mock import ANY

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sros.contracts import TableContract, load_contracts
from sros.ingest.pipeline import ingest
from sros.ingest.reader import read_landing_file

CORPUS = Path(__file__).parent / "data" / "bad_input"


def _lenient(source: str, table: str) -> TableContract:
    """A table's contract with no column required (`meta.required`), for the reader's edge
    cases below on minimal files (`id,name`): they are about quoting, keys, numbers and
    encodings, not required columns (tests/test_ingestion.py covers those)."""
    contract = load_contracts()[(source, table)]
    return replace(
        contract, columns=tuple(replace(column, required=False) for column in contract.columns)
    )


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
    # Keys: trimmed; blank quarantined; case-only variants of a case-insensitive id conflict.
    "salesforce/opportunity/key_variants.csv": (6, 2, 4, "loaded_with_rejects"),
    "salesforce/opportunity/trimmed_duplicate_key.csv": (3, 2, 1, "loaded_with_rejects"),
    # Numbers: never rounded, never out of range.
    "salesforce/opportunity/decimal_places.csv": (5, 2, 3, "loaded_with_rejects"),
    "salesforce/lead/bigint_out_of_range.csv": (4, 2, 2, "loaded_with_rejects"),
    # A percentage column given as fractions: loads, with a warning.
    "salesforce/opportunity/probability_as_fraction.csv": (3, 3, 0, "loaded"),
    # Files the reader cannot read as a whole: quarantined whole, and the lead file of the
    # same name (a clean one) loads in the same run.
    "salesforce/opportunity/empty_header_name.csv": (2, 0, 2, "rejected"),
    "salesforce/lead/empty_header_name.csv": (2, 2, 0, "loaded"),
    "salesforce/opportunity/duplicate_header_name.csv": (2, 0, 2, "rejected"),
    "salesforce/lead/duplicate_header_name.csv": (2, 2, 0, "loaded"),
    "salesforce/opportunity/binary_file.csv": (1, 0, 1, "rejected"),
    "salesforce/lead/binary_file.csv": (2, 2, 0, "loaded"),
    # A Windows-1252 export read as UTF-8 (the default): its records with other bytes are
    # quarantined with their exact bytes; read as cp1252 (configured) it loads.
    "salesforce/opportunity/not_utf8.csv": (3, 1, 2, "loaded_with_rejects"),
    "salesforce/lead/not_utf8.csv": (2, 2, 0, "loaded"),
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

    def row_count(self, schema: str, table: str) -> int:
        """Rows of a raw table; the table must exist (every contract table of an ingested
        source does, created empty when no row came)."""
        assert self.has_table(schema, table), f"{schema}.{table} was not created"
        [(count,)] = self.query(f'select count(*) from {schema}."{table}"')
        return count

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

    def raw_bytes(self, schema: str, source_file: str) -> dict[int, bytes | None]:
        """Row number -> the quarantined record's exact bytes (None: raw_record is exact)."""
        if not self.has_table(schema, "_sros_quarantine"):
            return {}
        return dict(
            self.query(
                f"select row_number, any_value(raw_bytes) from {schema}._sros_quarantine "
                "where source_file = ? group by row_number",
                source_file,
            )
        )

    def load_report(self, schema: str, source_file: str) -> dict:
        [row] = self.query(
            "select rows_read, rows_loaded, rows_quarantined, status, new_columns, "
            f"missing_columns, warnings from {schema}._sros_load_report where source_file = ?",
            source_file,
        )
        keys = ["rows_read", "rows_loaded", "rows_quarantined", "status"]
        return dict(zip([*keys, "new_columns", "missing_columns", "warnings"], row, strict=True))


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
    with (CORPUS / corpus_file).open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header, *records = [record for record in csv.reader(handle) if record] or [[]]
    return {
        number: dict(zip(header, record, strict=True))
        for number, record in enumerate(records, 1)
        if len(record) == len(header)
    }


def _is_malformed(reason: str) -> bool:
    """A structurally broken record, kept as its CSV text rather than header -> value."""
    return reason.startswith(("malformed row", "unclosed quote", "file rejected"))


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
        (
            "salesforce/opportunity/key_variants.csv",
            lambda raw: b"\n006BAD000000000001 ," in raw and b"\n   ," in raw,
        ),
        (
            "salesforce/opportunity/empty_header_name.csv",
            lambda raw: all(line.endswith(b",") for line in raw.splitlines()),
        ),
        ("salesforce/opportunity/binary_file.csv", lambda raw: raw.startswith(b"\x89PNG\r\n")),
        ("salesforce/opportunity/not_utf8.csv", lambda raw: b"Zo\xeb's" in raw),
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
    file_bytes = (CORPUS / corpus_file).read_bytes()
    exact_bytes = loaded.raw_bytes(schema, source_file)
    if quarantined_numbers == {0}:  # a file whose records cannot be told apart: row 0
        assert (rows_read, loaded_numbers) == (1, [])
        assert exact_bytes[0] == file_bytes
        return
    assert sorted([*loaded_numbers, *quarantined_numbers]) == list(range(1, rows_read + 1))

    # Every quarantined row keeps its whole record: header -> text in header order, or the
    # CSV text of a record whose fields do not line up with the header; and its exact bytes
    # when the text cannot be exact.
    records, text = _file_records(corpus_file), file_bytes.decode("utf-8-sig", "replace")
    for file, row, _, _, reason, raw_record in loaded.quarantine(schema):
        if file != source_file:
            continue
        if exact_bytes[row] is not None:
            assert exact_bytes[row] in file_bytes
            assert raw_record == exact_bytes[row].decode("utf-8", "replace")
        elif _is_malformed(reason):
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
    assert loaded.row_count("raw_salesforce", "lead") == 0  # created empty
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
    assert loaded.row_count("raw_hubspot", "deal") == 0  # created empty


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
    assert loaded.row_count("raw_salesforce", "opportunity") == 0  # created empty
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
    result = read_landing_file(path, _lenient("salesforce", "opportunity"), display_name="o.csv")
    assert [(q["row_number"], q["column_name"], q["value"]) for q in result.quarantine] == (
        quarantined
    )
    if quarantined:
        assert result.quarantine[0]["raw_record"] == tail.rstrip("\n")
        assert "starting on line 4" in result.quarantine[0]["reason"]
    report = result.report
    assert report["rows_read"] == 3 == report["rows_loaded"] + report["rows_quarantined"]


# --- keys: trimmed, never blank, one spelling per case-insensitive id ---------------------

_CASE_CONFLICT = (
    "primary key ({key!r}) conflicts with {others}: the keys differ only by case and id is "
    "case-insensitive (contract meta case_sensitive: false, e.g. Salesforce 18-character "
    "ids), so the rows are one record spelled differently; which is right cannot be told, so "
    "none is loaded"
)


def test_key_variants_of_one_opportunity_are_not_four_records(
    load_case: Callable[[str], Loaded],
) -> None:
    """`X`, `X ` (trailing space), `x` and a blank key of one opportunity: published as four
    opportunities they tripled its amount. `X` and `X ` are one key after trimming, `x`
    differs only by case in a case-insensitive (18-character) id, so no row of that key can
    be trusted to be the record; the blank key names no record at all."""
    file = "salesforce/opportunity/key_variants.csv"
    loaded = load_case(file)
    upper, lower = "006BAD000000000001", "006bad000000000001"
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            1,
            "id",
            upper,
            _CASE_CONFLICT.format(key=upper, others=f"row 2 ({upper!r}) and row 3 ({lower!r})"),
        ),
        (
            file,
            2,
            "id",
            upper + " ",  # the value as the file has it; the key is compared trimmed
            _CASE_CONFLICT.format(key=upper, others=f"row 1 ({upper!r}) and row 3 ({lower!r})"),
        ),
        (
            file,
            3,
            "id",
            lower,
            _CASE_CONFLICT.format(key=lower, others=f"row 1 ({upper!r}) and row 2 ({upper!r})"),
        ),
        (file, 4, "id", "   ", "primary key is empty"),
    ]
    # The leading space of row 6's key is trimmed: it lands as the id it names.
    assert loaded.query(
        "select id, amount, _sros_row_number from raw_salesforce.opportunity order by 1"
    ) == [
        ("006BAD000000000002", Decimal("18500.00"), 5),
        ("006BAD000000000003", Decimal("18500.00"), 6),
    ]


def test_a_key_with_a_trailing_space_is_a_duplicate_after_trimming(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/trimmed_duplicate_key.csv"
    loaded = load_case(file)
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            2,
            "id",
            "006BAD000000000001 ",
            "duplicate primary key (006BAD000000000001) first seen at row 1",
        )
    ]
    assert loaded.query("select id, amount from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000001", Decimal("18500.00")),  # the first version, not row 2's 19000
        ("006BAD000000000002", Decimal("18500.00")),
    ]


def test_keys_differing_by_case_are_distinct_in_a_case_sensitive_column(tmp_path: Path) -> None:
    """The default (15-character Salesforce ids, every other source): `X` and `x` are two
    records; only a blank key and a trimmed duplicate are quarantined."""
    contract = _lenient("salesforce", "opportunity")
    sensitive = replace(
        contract,
        columns=tuple(
            replace(column, case_sensitive=True) if column.name == "id" else column
            for column in contract.columns
        ),
    )
    path = tmp_path / "o.csv"
    path.write_bytes(b"id,name\n006A,upper\n006a,lower\n006A ,trimmed\n\t,blank\n")
    result = read_landing_file(path, sensitive, display_name="o.csv")
    assert result.rows.select(["id", "name"]).to_pylist() == [
        {"id": "006A", "name": "upper"},
        {"id": "006a", "name": "lower"},
    ]
    assert [(q["row_number"], q["value"], q["reason"]) for q in result.quarantine] == [
        (3, "006A ", "duplicate primary key (006A) first seen at row 1"),
        (4, "\t", "primary key is empty"),
    ]


# --- numbers: a value that does not fit its type exactly is quarantined, never rounded ----


def test_decimals_are_never_rounded_or_out_of_range(load_case: Callable[[str], Loaded]) -> None:
    file = "salesforce/opportunity/decimal_places.csv"
    loaded = load_case(file)
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            1,
            "amount",
            "1234.567",
            "more decimal places than decimal(18,2) allows (2); not rounded",
        ),
        (  # a European thousands separator: 1.234 is not 1.23
            file,
            2,
            "amount",
            "1.234",
            "more decimal places than decimal(18,2) allows (2); not rounded",
        ),
        (
            file,
            3,
            "amount",
            "12345678901234567",
            "out of range for decimal(18,2): at most 16 digits before the decimal point",
        ),
    ]
    assert loaded.query("select id, amount from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000004", Decimal("18500.50")),
        ("006BAD000000000005", Decimal("18500.00")),
    ]


def test_bigints_are_never_rounded_or_out_of_range(load_case: Callable[[str], Loaded]) -> None:
    file = "salesforce/lead/bigint_out_of_range.csv"
    loaded = load_case(file)
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            1,
            "number_of_employees",
            "9223372036854775808",
            "out of range for bigint (-2^63 to 2^63 - 1)",
        ),
        (
            file,
            2,
            "number_of_employees",
            "12.5",
            "not a whole number: bigint takes no decimal places (not rounded)",
        ),
    ]
    assert loaded.query("select id, number_of_employees from raw_salesforce.lead order by 1") == [
        ("00QBAD000000000003", 9223372036854775807),
        ("00QBAD000000000004", 250),
    ]


@pytest.mark.parametrize(
    ("data_type", "text", "fits"),
    [
        ("decimal(18,2)", "12.50", True),
        ("decimal(18,2)", "12.500", True),  # the same number exactly: nothing is rounded
        ("decimal(18,2)", "1e3", True),
        ("decimal(18,2)", ".5", True),
        ("decimal(18,2)", "-0.001", False),
        ("decimal(18,2)", "1,234.50", False),
        ("decimal(18,2)", "9999999999999999.99", True),
        ("decimal(18,2)", "10000000000000000", False),
        ("bigint", "12.0", True),
        ("bigint", "-9223372036854775808", True),
        ("bigint", "-9223372036854775809", False),
        ("bigint", "0x10", False),  # DuckDB would read 16
        ("bigint", "1_000", True),  # an unambiguous digit separator: exactly 1000
        ("double", "1e308", True),
        ("double", "1e309", False),
        ("double", "nan", False),
        ("double", "-inf", False),
    ],
)
def test_exact_fit_of_numbers(tmp_path: Path, data_type: str, text: str, fits: bool) -> None:
    column = {"decimal(18,2)": "amount", "bigint": "number_of_employees", "double": "lead_score_c"}
    contract = _lenient("salesforce", "lead")
    if data_type == "decimal(18,2)":
        contract = _lenient("salesforce", "opportunity")
    path = tmp_path / "f.csv"
    path.write_text(f'id,{column[data_type]}\n00QA,"{text}"\n')
    result = read_landing_file(path, contract, display_name="f.csv")
    assert (result.rows.num_rows, len(result.quarantine)) == ((1, 0) if fits else (0, 1))


# --- percentages: values that all look like fractions are a warning, not a quarantine -----


def test_a_percentage_given_as_fractions_loads_with_a_warning(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/probability_as_fraction.csv"
    loaded = load_case(file)
    assert loaded.load_report("raw_salesforce", file)["warnings"] == (
        f"{file}: probability: all 3 values are between 0 and 1 (largest 0.5); the contract "
        "says percent (0-100): was a fraction exported?"
    )
    assert loaded.query("select probability from raw_salesforce.opportunity order by id") == [
        (0.1,),
        (0.5,),
        (0.0,),
    ]
    # A file with percentages (the other corpus cases: 10) has no warning.
    other = load_case("salesforce/opportunity/decimal_places.csv")
    assert other.load_report("raw_salesforce", "salesforce/opportunity/decimal_places.csv")[
        "warnings"
    ] == ("")


@pytest.mark.parametrize(
    ("values", "warned"),
    [
        (["0.1", "0.5", ""], True),
        (["0", "0"], False),  # every deal at 0%: nothing says it is a fraction
        (["0.5", "50"], False),
        (["1", "1"], True),
    ],
)
def test_percent_warning_rule(tmp_path: Path, values: list[str], warned: bool) -> None:
    path = tmp_path / "o.csv"
    rows = "".join(f"006{n},{value}\n" for n, value in enumerate(values))
    path.write_text(f"id,probability\n{rows}")
    contract = _lenient("salesforce", "opportunity")
    result = read_landing_file(path, contract, display_name="o.csv")
    assert bool(result.report["warnings"]) == warned


def test_a_fraction_column_given_as_percentages_warns(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("stage_id,probability\nappointmentscheduled,20\nclosedwon,100\nlost,0\n")
    contract = _lenient("hubspot", "deal_pipeline_stage")
    result = read_landing_file(path, contract, display_name="s.csv")
    assert result.report["warnings"] == (
        "s.csv: probability: 2 of 3 values are above 1 (largest 100); the contract says "
        "fraction (0-1): was a percentage exported?"
    )
    assert result.rows.num_rows == 3


# --- isolation: a file the reader cannot read is quarantined whole; the rest loads --------


@pytest.mark.parametrize(
    ("corpus_file", "reason"),
    [
        (
            "salesforce/opportunity/empty_header_name.csv",
            "file rejected: header column 8 of 8 has no name (a trailing comma on every "
            "line?); every column needs a name: remove the empty column or name it. Nothing of "
            "it was loaded; fix the file and land it again",
        ),
        (
            "salesforce/opportunity/duplicate_header_name.csv",
            "file rejected: the header names column(s) ['amount'] more than once; rename or "
            "drop the duplicates so that each column has a name of its own. Nothing of it was "
            "loaded; fix the file and land it again",
        ),
    ],
)
def test_an_unreadable_header_quarantines_the_file_record_by_record(
    corpus_file: str, reason: str, load_case: Callable[[str], Loaded]
) -> None:
    loaded = load_case(corpus_file)
    lines = (CORPUS / corpus_file).read_text().splitlines()
    assert [row[:6] for row in loaded.quarantine("raw_salesforce")] == [
        (corpus_file, 1, None, None, reason, lines[1]),
        (corpus_file, 2, None, None, reason, lines[2]),
    ]
    assert loaded.row_count("raw_salesforce", "opportunity") == 0  # created empty
    # The clean lead file of the same run loads.
    lead_file = corpus_file.replace("/opportunity/", "/lead/")
    assert loaded.query(
        "select id from raw_salesforce.lead where _sros_source_file = ? order by 1", lead_file
    ) == [("00QBAD000000000001",), ("00QBAD000000000002",)]


def test_a_binary_file_is_one_quarantine_row_with_its_bytes(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/binary_file.csv"
    loaded = load_case(file)
    assert [row[:6] for row in loaded.quarantine("raw_salesforce")] == [
        (
            file,
            0,
            None,
            None,
            "file rejected: binary content (a NUL byte at byte 8): not a CSV text file. Nothing "
            "of it was loaded; fix the file and land it again",
            None,
        )
    ]
    assert loaded.raw_bytes("raw_salesforce", file) == {0: (CORPUS / file).read_bytes()}
    assert loaded.load_report("raw_salesforce", file)["status"] == "rejected"
    assert [n for (n,) in loaded.query("select count(*) from raw_salesforce.lead")] == [2]


def _big_field_files(root: Path) -> tuple[bytes, bytes]:
    """An opportunity file with a 200,000-character name (over Python csv's default field
    limit of 131,072) and a 2,100,000-byte line (over DuckDB's 2,000,000-byte line limit), and
    a clean lead file, in a landing folder under `root`."""
    long_name = b"N" * 200_000
    created = b",2025-03-03T14:05:00Z"
    huge_line = b"006BAD000000000002," + b"H" * 2_100_000 + b",Discovery" + created
    (root / "salesforce" / "opportunity").mkdir(parents=True)
    (root / "salesforce" / "lead").mkdir(parents=True)
    (root / "salesforce" / "opportunity" / "long.csv").write_bytes(
        b"id,name,stage_name,created_date\n006BAD000000000001,"
        + long_name
        + b",Discovery"
        + created
        + b"\n"
        + huge_line
        + b"\n006BAD000000000003,Contoso,Discovery"
        + created
        + b"\n"
    )
    shutil.copyfile(
        CORPUS / "salesforce/lead/column_names_clash.csv",
        root / "salesforce" / "lead" / "long.csv",
    )
    return long_name, huge_line


def test_a_field_over_the_csv_limit_loads_and_a_line_over_duckdbs_is_quarantined(
    tmp_path: Path,
) -> None:
    long_name, huge_line = _big_field_files(tmp_path / "landing")
    reports = ingest(
        "salesforce",
        landing_dir=tmp_path / "landing",
        warehouse_path=tmp_path / "warehouse.duckdb",
        dlt_dir=tmp_path / "dlt",
    )
    loaded = Loaded(reports, tmp_path / "warehouse.duckdb")
    report = loaded.load_report("raw_salesforce", "salesforce/opportunity/long.csv")
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (3, 2, 1)
    assert loaded.query("select id, length(name) from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000001", len(long_name)),
        ("006BAD000000000003", 7),
    ]
    [(file, row, _, _, reason, _)] = loaded.quarantine("raw_salesforce")
    assert (file, row) == ("salesforce/opportunity/long.csv", 2)
    assert reason.startswith("malformed row (line size over maximum): Maximum line size of")
    # DuckDB keeps only the start of such a line; the quarantine keeps all of it.
    assert loaded.raw_bytes("raw_salesforce", file) == {2: huge_line}
    assert loaded.load_report("raw_salesforce", "salesforce/lead/long.csv")["rows_loaded"] == 2


# --- encoding: configuration, and the exact bytes of what did not decode ------------------


def test_a_windows_1252_file_read_as_utf8_keeps_its_exact_bytes(
    load_case: Callable[[str], Loaded],
) -> None:
    file = "salesforce/opportunity/not_utf8.csv"
    loaded = load_case(file)
    lines = (CORPUS / file).read_bytes().splitlines()
    reason = (
        "bytes that are not valid utf-8 (0x{byte} at byte {at} of the record): the record's "
        "exact bytes are kept in raw_bytes; if the source exports another encoding, set it in "
        "sros.yml (sources.<source>.encoding)"
    )
    assert [row[:5] for row in loaded.quarantine("raw_salesforce")] == [
        (file, 1, "name", None, reason.format(byte="EB", at=22)),
        (file, 3, "name", None, reason.format(byte="E9", at=23)),
    ]
    assert loaded.raw_bytes("raw_salesforce", file) == {1: lines[1], 3: lines[3]}
    assert lines[1].startswith(b"006BAD000000000001,Zo\xeb's Bakery")  # not a lossy "Zo?'s"
    assert loaded.query("select id from raw_salesforce.opportunity") == [("006BAD000000000002",)]


def test_a_windows_1252_file_loads_when_the_source_is_configured_cp1252(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "sros.yml"
    config.write_text("sources:\n  salesforce:\n    encoding: cp1252\n")
    monkeypatch.setenv("SROS_CONFIG", str(config))
    landing = tmp_path / "landing" / "salesforce" / "opportunity"
    landing.mkdir(parents=True)
    shutil.copyfile(CORPUS / "salesforce/opportunity/not_utf8.csv", landing / "not_utf8.csv")
    reports = ingest(
        "salesforce",
        landing_dir=tmp_path / "landing",
        warehouse_path=tmp_path / "warehouse.duckdb",
        dlt_dir=tmp_path / "dlt",
    )
    loaded = Loaded(reports, tmp_path / "warehouse.duckdb")
    assert loaded.quarantine("raw_salesforce") == []
    assert loaded.query("select id, name from raw_salesforce.opportunity order by 1") == [
        ("006BAD000000000001", "Zoë's Bakery - New Business"),
        ("006BAD000000000002", "Contoso Ltd - New Business"),
        ("006BAD000000000003", "Café Müller \u2013 Renewal"),  # 0x96: cp1252's en dash
    ]


def test_a_byte_undefined_in_the_configured_encoding_keeps_its_exact_bytes(
    tmp_path: Path,
) -> None:
    """0x81 is not a character in cp1252: the record is quarantined with its bytes, which
    are the file's (not the UTF-8 transcoding's)."""
    path = tmp_path / "o.csv"
    path.write_bytes(b"id,name\n006A,Zo\xeb\n006B,Bad \x81 byte\n")
    contract = _lenient("salesforce", "opportunity")
    result = read_landing_file(path, contract, display_name="o.csv", encoding="cp1252")
    assert result.rows.select(["id", "name"]).to_pylist() == [{"id": "006A", "name": "Zoë"}]
    [entry] = result.quarantine
    assert (entry["row_number"], entry["column_name"], entry["raw_bytes"]) == (
        2,
        "name",
        b"006B,Bad \x81 byte",
    )
    assert entry["reason"].startswith("bytes that are not valid cp1252 (0x81 at byte 10")


def test_a_header_that_does_not_decode_rejects_the_file(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes(b"id,na\xefme\n006A,x\n")
    result = read_landing_file(
        path, load_contracts()[("salesforce", "opportunity")], display_name="o.csv"
    )
    [entry] = result.quarantine
    assert entry["reason"].startswith(
        "file rejected: the header has bytes that are not valid utf-8 ([b'na\\xefme'])"
    )
    assert (entry["row_number"], entry["raw_record"], result.report["status"]) == (
        1,
        "006A,x",
        "rejected",
    )


# --- other formats: .csv.gz and .parquet, by the same rules -------------------------------


@pytest.mark.parametrize(
    "corpus_file",
    [
        "salesforce/opportunity/key_variants.csv",
        "salesforce/opportunity/decimal_places.csv",
        "salesforce/opportunity/truncated_mid_row.csv",
        "hubspot/deal/quoted_newlines.csv",
        "salesforce/lead/utf8_bom.csv",
    ],
)
def test_a_gzipped_csv_reads_like_the_csv(corpus_file: str, tmp_path: Path) -> None:
    source, table, name = corpus_file.split("/")
    contract = load_contracts()[(source, table)]
    plain = read_landing_file(CORPUS / corpus_file, contract, display_name=name)
    path = tmp_path / f"{name}.gz"
    path.write_bytes(gzip.compress((CORPUS / corpus_file).read_bytes()))
    packed = read_landing_file(path, contract, display_name=name)
    assert packed.rows.equals(plain.rows)
    assert packed.quarantine == [{**q, "file_modified_at": ANY} for q in plain.quarantine]
    assert {k: v for k, v in packed.report.items() if k != "file_modified_at"} == {
        k: v for k, v in plain.report.items() if k != "file_modified_at"
    }


def test_a_gzipped_windows_1252_csv_is_transcoded(tmp_path: Path) -> None:
    path = tmp_path / "o.csv.gz"
    path.write_bytes(gzip.compress((CORPUS / "salesforce/opportunity/not_utf8.csv").read_bytes()))
    contract = load_contracts()[("salesforce", "opportunity")]
    result = read_landing_file(path, contract, display_name="o.csv.gz", encoding="cp1252")
    assert result.rows.column("name").to_pylist()[0] == "Zoë's Bakery - New Business"
    assert result.report["rows_loaded"] == 3


def test_a_corrupt_gzip_file_is_quarantined_whole(tmp_path: Path) -> None:
    path = tmp_path / "o.csv.gz"
    path.write_bytes(b"id,name\n006A,not compressed\n")
    contract = load_contracts()[("salesforce", "opportunity")]
    result = read_landing_file(path, contract, display_name="o.csv.gz")
    [entry] = result.quarantine
    assert (entry["row_number"], entry["raw_bytes"]) == (0, path.read_bytes())
    assert entry["reason"].startswith("file rejected: not a readable gzip file")
    report = result.report
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (1, 0, 1)


def test_a_parquet_file_is_read_by_column_name_with_the_same_rules(tmp_path: Path) -> None:
    path = tmp_path / "o.parquet"
    pq.write_table(
        pa.table(
            {
                "amount": pa.array([Decimal("18500.50"), Decimal("1234.567")], pa.decimal128(9, 3)),
                "id": [" 006A", "006B"],
                "stage_name": ["Discovery", "Discovery"],
                "close_date": [dt.date(2025, 6, 30), dt.date(2025, 7, 1)],
                "created_date": pa.array(
                    [dt.datetime(2025, 1, 10, 9, 30, tzinfo=dt.UTC)] * 2, pa.timestamp("us", "UTC")
                ),
            }
        ),
        path,
    )
    contract = load_contracts()[("salesforce", "opportunity")]
    result = read_landing_file(path, contract, display_name="o.parquet")
    assert result.rows.select(
        ["id", "amount", "close_date", "created_date", "_sros_row_number"]
    ).to_pylist() == [
        {
            "id": "006A",
            "amount": Decimal("18500.50"),
            "close_date": dt.date(2025, 6, 30),
            "created_date": dt.datetime(2025, 1, 10, 9, 30),
            "_sros_row_number": 1,
        }
    ]
    assert [
        (q["row_number"], q["column_name"], q["value"], q["reason"]) for q in result.quarantine
    ] == [
        (2, "amount", "1234.567", "more decimal places than decimal(18,2) allows (2); not rounded")
    ]
    report = result.report
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (2, 1, 1)


def test_a_corrupt_parquet_file_is_quarantined_whole(tmp_path: Path) -> None:
    path = tmp_path / "o.parquet"
    path.write_bytes(b"PAR1 not really")
    contract = load_contracts()[("salesforce", "opportunity")]
    result = read_landing_file(path, contract, display_name="o.parquet")
    [entry] = result.quarantine
    assert (entry["row_number"], entry["raw_bytes"], result.report["status"]) == (
        0,
        b"PAR1 not really",
        "rejected",
    )


def test_the_no_load_warnings_check_shows_the_warning(
    load_case: Callable[[str], Loaded], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Dagster asset check `no_load_warnings` (WARN) of the raw table names the file and
    what was seen; the tables whose files raised no warning pass."""
    import dagster as dg

    from orchestration.defs.ingestion import _warning_checks

    file = "salesforce/opportunity/probability_as_fraction.csv"
    loaded = load_case(file)
    monkeypatch.setenv("SROS_WAREHOUSE_PATH", str(loaded.warehouse))
    results = {
        result.asset_key.path[-1]: result
        for result in _warning_checks("salesforce")(dg.build_asset_check_context())
    }
    opportunity = results.pop("opportunity")
    assert (opportunity.check_name, opportunity.passed, opportunity.severity) == (
        "no_load_warnings",
        False,
        dg.AssetCheckSeverity.WARN,
    )
    assert opportunity.metadata["files_with_warnings"].value == 1
    assert f"| {file} | {file}: probability: all 3 values are between 0 and 1" in (
        opportunity.metadata["warnings"].value
    )
    assert results and all(result.passed for result in results.values())


# --- the reader on its edge cases ---------------------------------------------------------


def test_a_composite_key_is_trimmed_column_by_column(tmp_path: Path) -> None:
    path = tmp_path / "i.csv"
    path.write_text(
        "domain,topic,week_start,intent_score\n"
        "northwind.example.com,revops,2024-09-30,33.1\n"
        "northwind.example.com ,revops, 2024-09-30,40\n"  # the same key, trimmed
        "Northwind.example.com,revops,2024-09-30,41\n"  # case-sensitive: another key
        "northwind.example.com, ,2024-09-30,42\n"  # a blank part of the key
    )
    result = read_landing_file(
        path, load_contracts()[("intent", "intent_weekly")], display_name="i.csv"
    )
    assert [
        (q["row_number"], q["column_name"], q["value"], q["reason"]) for q in result.quarantine
    ] == [
        (
            2,
            "domain",
            "northwind.example.com ",
            "duplicate primary key (northwind.example.com, revops, 2024-09-30) first seen at row 1",
        ),
        (4, "domain", "northwind.example.com", "primary key is empty"),
    ]
    assert result.rows.column("domain").to_pylist() == [
        "northwind.example.com",
        "Northwind.example.com",
    ]


def test_rows_that_do_not_reconcile_reject_the_file_instead_of_failing_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If the two parsers disagree, no row of the file may be claimed loaded: it used to
    raise (stopping the source); now the file is quarantined whole."""
    from sros.ingest import reader

    monkeypatch.setattr(reader, "count_records", lambda view: 3)
    path = tmp_path / "o.csv"
    path.write_text("id,name\n006A,Northwind\n006B,Contoso\n")
    result = read_landing_file(path, _lenient("salesforce", "opportunity"), display_name="o.csv")
    assert result.rows.num_rows == 0
    assert [(q["row_number"], q["raw_record"]) for q in result.quarantine] == [
        (1, "006A,Northwind"),
        (2, "006B,Contoso"),
    ]
    assert result.quarantine[0]["reason"].startswith(
        "file rejected: rows do not reconcile: the csv parser read 3 records, but 2 passed "
        "and 0 were quarantined"
    )
    report = result.report
    assert (report["rows_read"], report["rows_loaded"], report["rows_quarantined"]) == (2, 0, 2)


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (b'"', "utf-8"),
        (b'id,name\n"006A,"x"y"z\n\r\r\n"', "utf-8"),
        (b"\xff\xfe\xfd" * 100, "utf-8"),
        (b"id,name\n" + bytes(range(1, 256)) * 3, "utf-8"),
        ("id,name\n006A,Zoë\n".encode("utf-16"), "utf-8"),
        (b"id,name\n006A,Zo\xeb\n", "utf-16"),  # an odd number of bytes is not UTF-16
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\n\n\n", "utf-8"),
        (b"id;name\r006A;x\r", "utf-8"),
        (b"id,\xff\n", "utf-8"),
    ],
)
def test_the_reader_raises_nothing_and_reconciles(
    tmp_path: Path, content: bytes, encoding: str
) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes(content)
    contract = load_contracts()[("salesforce", "opportunity")]
    result = read_landing_file(path, contract, display_name="o.csv", encoding=encoding)
    report = result.report
    assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]
    assert report["rows_loaded"] == result.rows.num_rows
    assert report["rows_quarantined"] == len({q["row_number"] for q in result.quarantine})


def test_a_utf16_file_loads_when_configured_and_is_named_when_not(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_bytes("id,name\r\n006A,Zoë\r\n".encode("utf-16"))
    contract = _lenient("salesforce", "opportunity")
    result = read_landing_file(path, contract, display_name="o.csv", encoding="utf-16")
    assert result.rows.select(["id", "name"]).to_pylist() == [{"id": "006A", "name": "Zoë"}]
    as_utf8 = read_landing_file(path, contract, display_name="o.csv")
    [entry] = as_utf8.quarantine
    assert entry["row_number"] == 0
    assert "UTF-16 byte-order mark: set the source's encoding to utf-16" in entry["reason"]


def test_a_header_only_file_with_a_bad_header_says_so_in_its_report(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("id,name,\n")
    result = read_landing_file(
        path, load_contracts()[("salesforce", "opportunity")], display_name="o.csv"
    )
    report = result.report
    assert (report["rows_read"], report["status"], result.quarantine) == (0, "rejected", [])
    assert report["warnings"].startswith("file rejected: header column 3 of 3 has no name")


def test_a_key_spelled_in_another_case_in_a_later_file_fails_the_build(
    tmp_path: Path,
) -> None:
    """Within one file, two spellings of a case-insensitive key are quarantined by the reader;
    across files (a later export spells an id already loaded in lower case) the merge keeps
    two records, and tests/dbt/assert_case_insensitive_keys_are_unique.sql fails the build
    naming the table, both spellings and both files."""
    import os
    import subprocess
    import sys

    from sros.paths import PROJECT_DIR

    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse.duckdb"
    folder = landing / "salesforce" / "opportunity"
    folder.mkdir(parents=True)
    original = CORPUS / "salesforce/opportunity/crlf_line_endings.csv"
    shutil.copyfile(original, folder / "export_0001.csv")
    ingest("salesforce", landing, warehouse, tmp_path / "dlt")
    text = original.read_bytes().decode()
    header, first, *_ = text.split("\r\n")
    lowered = first.replace("006BAD000000000001", "006bad000000000001", 1)
    (folder / "export_0002.csv").write_text("\r\n".join([header, lowered, ""]))
    ingest("salesforce", landing, warehouse, tmp_path / "dlt")

    def build_check() -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                str(Path(sys.executable).parent / "dbt"),
                "test",
                "--select",
                "assert_case_insensitive_keys_are_unique",
                "--profiles-dir",
                ".",
                "--target-path",
                str(tmp_path / "target"),
            ],
            cwd=PROJECT_DIR,
            env={**os.environ, "SROS_HOME": str(tmp_path), "SROS_WAREHOUSE_PATH": str(warehouse)},
            capture_output=True,
            text=True,
        )

    completed = build_check()
    assert completed.returncode == 1 and "FAIL 1" in completed.stdout, completed.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(
            "select source_table, spellings, first_spelling, last_spelling, first_file, "
            "last_file from dbt_test__audit.assert_case_insensitive_keys_are_unique"
        ).fetchall() == [
            (
                "salesforce.opportunity",
                2,
                "006BAD000000000001",
                "006bad000000000001",
                "salesforce/opportunity/export_0001.csv",
                "salesforce/opportunity/export_0002.csv",
            )
        ]


def test_a_failed_generic_test_names_the_values_it_found(
    built_company: Callable, run_dbt: Callable, tmp_path: Path
) -> None:
    """A generic test that fails or warns prints its failing values in the build's log
    (macros/log_test_failures.sql), under the tested column's name: the category no seed row
    has, the lead id delivered twice, the engagement type nobody accepted. A not_null failure
    has no value to show: its name and count are the whole message."""
    warehouse = built_company().copy_to(tmp_path)
    expenses, leads = "staging.stg_finance__gtm_expenses_monthly", "staging.stg_salesforce__leads"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            f"update {expenses} set expense_category = 'Travel & fun' "
            f"where expense_id = (select min(expense_id) from {expenses})"
        )
        lead_id = connection.execute(f"select min(lead_id) from {leads}").fetchone()[0]
        connection.execute(
            f"insert into {leads} select * from {leads} where lead_id = ?", [lead_id]
        )
        connection.execute(f"update {leads} set lead_status = null where lead_id = ?", [lead_id])
        engagements = connection.execute(
            "select count(*) from staging.stg_hubspot__engagements"
        ).fetchone()[0]
        connection.execute("update staging.stg_hubspot__engagements set engagement_type = 'SMS'")
    failing = {
        "relationships_stg_finance__gtm_expenses_monthly_expense_category__category"
        "__ref_expense_categories_": ["expense_category=Travel & fun"],
        "unique_stg_salesforce__leads_lead_id": [f"lead_id={lead_id}, n_records=2"],
        "accepted_values_stg_hubspot__engagements_engagement_type"
        "__call__email__meeting__note__task": [f"engagement_type=SMS, n_records={engagements}"],
        "not_null_stg_salesforce__leads_lead_status": [],
    }
    completed = run_dbt("test", "--select", *failing, home=tmp_path, warehouse=warehouse)
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert "FAIL 2 not_null_stg_salesforce__leads_lead_status" in completed.stdout
    logged: dict[str, list[str]] = {name: [] for name in failing}
    for line in completed.stdout.splitlines():
        name, _, text = line.split("  ", 1)[-1].partition(": ")
        if name in logged and text:
            logged[name].append(text)
    assert engagements > 0 and logged == failing, completed.stdout[-3000:]
