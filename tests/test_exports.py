"""Finance export files: the tables of the dbt exposure finance_exports, from the published
warehouse, as CSV, Parquet and one workbook whose cells hold the marts' values and types;
the same data rewrites the same bytes; nothing is written when there is nothing published
or the export fails."""

from __future__ import annotations

import csv
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sros.exports import (
    DEFINITIONS_SHEET,
    ExportColumn,
    ExportError,
    ExportTable,
    export_finance_tables,
    export_tables,
)
from sros.paths import PROJECT_DIR
from sros.publish import publish

AS_OF = date(2025, 3, 31)


def _tiny_published_warehouse(folder: Path) -> Path:
    """A working warehouse with one small mart of every column type, published."""
    working = folder / "working" / "warehouse.duckdb"
    working.parent.mkdir(parents=True)
    with duckdb.connect(str(working)) as connection:
        connection.execute("create schema marts")
        connection.execute("create schema intermediate")
        connection.execute(
            f"create table intermediate.int_as_of_date as select date '{AS_OF}' as as_of_date"
        )
        connection.execute(
            """
            create table marts.kpi_numbers as
            select * from (values
                (date '2025-01-01', 'a', cast(1234.5 as decimal(18, 2)),
                    cast(0.25 as double), 3, true, timestamp '2025-01-02 03:04:05',
                    date '2025-03-31'),
                (date '2025-02-01', '=1+1', cast(-2 as decimal(18, 2)), null, 0, false,
                    null, date '2025-03-31')
            ) as rows (month_start, segment, cac, win_rate, new_customers, is_flagged,
                computed_at, as_of_date)
            """
        )
    publish(working, folder / "published" / "warehouse.duckdb")
    return folder / "published" / "warehouse.duckdb"


TINY_TABLE = ExportTable(
    name="kpi_numbers",
    schema="marts",
    description="One row per month and segment.\n\nCAC = expense ÷ new customers.",
    columns=(
        ExportColumn("month_start", "First day of the month.", "date"),
        ExportColumn("cac", "Fully loaded CAC, corporate currency.", "decimal(18,2)"),
    ),
)


def test_tiny_export_types_definitions_and_reproducible_bytes(tmp_path: Path) -> None:
    published = _tiny_published_warehouse(tmp_path)
    exports = tmp_path / "exports"
    result = export_finance_tables(published, exports, [TINY_TABLE])
    assert result.folder == exports / "2025-03-31"
    assert result.as_of_date == AS_OF
    assert result.rows == {"kpi_numbers": 2}
    assert sorted(path.name for path in result.files) == [
        "finance_exports_2025-03-31.xlsx",
        "kpi_numbers.csv",
        "kpi_numbers.parquet",
    ]
    assert [path.name for path in exports.iterdir()] == ["2025-03-31"]  # no temp folder left

    # CSV: header, rows ordered by all columns, ISO dates, plain decimals, empty nulls.
    with (result.folder / "kpi_numbers.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        [
            "month_start",
            "segment",
            "cac",
            "win_rate",
            "new_customers",
            "is_flagged",
            "computed_at",
            "as_of_date",
        ],
        ["2025-01-01", "a", "1234.50", "0.25", "3", "true", "2025-01-02 03:04:05", "2025-03-31"],
        ["2025-02-01", "=1+1", "-2.00", "", "0", "false", "", "2025-03-31"],
    ]

    workbook = openpyxl.load_workbook(result.folder / "finance_exports_2025-03-31.xlsx")
    assert workbook.sheetnames == [DEFINITIONS_SHEET, "kpi_numbers"]
    definitions = workbook[DEFINITIONS_SHEET]
    assert definitions["A1"].value == "as_of_date"
    assert definitions["B1"].value == datetime(2025, 3, 31)
    assert definitions["B1"].number_format == "yyyy-mm-dd"
    assert [cell.value for cell in definitions[5]] == [
        "kpi_numbers",
        "marts.kpi_numbers",
        2,
        "One row per month and segment.\n\nCAC = expense ÷ new customers.",
    ]
    column_rows = {
        row[1]: row for row in definitions.iter_rows(min_row=8, values_only=True) if row[0]
    }
    assert column_rows["cac"] == (
        "kpi_numbers",
        "cac",
        "decimal(18,2)",
        "Fully loaded CAC, corporate currency.",
    )
    assert column_rows["win_rate"][2:] == ("double", None)  # undocumented: its type, no text

    sheet = workbook["kpi_numbers"]
    assert sheet.auto_filter.ref == "A1:H3"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    first, second = sheet[2], sheet[3]
    assert first[0].value == datetime(2025, 1, 1) and first[0].number_format == "yyyy-mm-dd"
    assert first[2].value == 1234.5 and first[2].number_format == "#,##0.00"
    assert first[3].value == 0.25 and first[4].value == 3 and first[5].value is True
    assert first[6].value == datetime(2025, 1, 2, 3, 4, 5)
    assert first[6].number_format == "yyyy-mm-dd hh:mm:ss"
    assert second[1].value == "=1+1" and second[1].data_type == "s"  # text, not a formula
    assert second[3].value is None and second[6].value is None

    parquet = pq.read_table(result.folder / "kpi_numbers.parquet")
    assert parquet.schema.field("cac").type == pa.decimal128(18, 2)
    assert parquet.schema.field("month_start").type == pa.date32()
    assert parquet.column("cac").to_pylist() == [Decimal("1234.50"), Decimal("-2.00")]

    before = {path.name: path.read_bytes() for path in result.files}
    time.sleep(2.1)  # a zip member time (2 s steps) or document date from the clock differs
    again = export_finance_tables(published, exports, [TINY_TABLE])
    assert {path.name: path.read_bytes() for path in again.files} == before
    assert [path.name for path in exports.iterdir()] == ["2025-03-31"]


def test_nothing_is_written_without_a_published_warehouse(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    with pytest.raises(ExportError, match="no published warehouse"):
        export_finance_tables(tmp_path / "published" / "warehouse.duckdb", exports, [TINY_TABLE])
    assert not exports.exists()


def test_a_failed_export_keeps_the_previous_files(tmp_path: Path) -> None:
    published = _tiny_published_warehouse(tmp_path)
    exports = tmp_path / "exports"
    previous = export_finance_tables(published, exports, [TINY_TABLE])
    before = {path.name: path.read_bytes() for path in previous.files}
    missing = ExportTable(name="kpi_not_built", schema="marts", description="", columns=())
    with pytest.raises(ExportError, match="kpi_not_built is not in the published warehouse"):
        export_finance_tables(published, exports, [TINY_TABLE, missing])
    assert {path.name: path.read_bytes() for path in previous.files} == before
    assert [path.name for path in exports.iterdir()] == ["2025-03-31"]


def _exposure_refs(name: str) -> list[str]:
    exposures = yaml.safe_load((PROJECT_DIR / "models" / "marts" / "_exposures.yml").read_text())
    exposure = next(item for item in exposures["exposures"] if item["name"] == name)
    return [ref.split("'")[1] for ref in exposure["depends_on"]]


def _sheet_value(value: object) -> object:
    """A mart value as openpyxl reads it back from its cell."""
    if isinstance(value, Decimal):
        return float(value)  # Excel numbers are doubles
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)  # openpyxl reads dates back so
    return value


def _cells(row) -> list:
    """A sheet row with floats as pytest.approx: a workbook keeps 15 significant digits of a
    double, so a float agrees to a relative 1e-13, anything else exactly."""
    return [pytest.approx(value, rel=1e-13) if isinstance(value, float) else value for value in row]


@pytest.mark.slow
def test_export_of_the_demo_marts_matches_them(built_company, tmp_path: Path) -> None:
    company = built_company(2000, 42)
    published = tmp_path / "published" / "warehouse.duckdb"
    publish(company.warehouse, published)
    tables = export_tables(company.warehouse.parent / "target" / "manifest.json")
    assert [table.name for table in tables] == _exposure_refs("finance_exports")
    result = export_finance_tables(published, tmp_path / "exports", tables)

    with duckdb.connect(str(company.warehouse), read_only=True) as connection:
        as_of = connection.execute("select as_of_date from intermediate.int_as_of_date").fetchone()
        assert result.folder.name == as_of[0].isoformat()
        workbook = openpyxl.load_workbook(result.folder / f"finance_exports_{as_of[0]}.xlsx")
        assert workbook.sheetnames == [DEFINITIONS_SHEET, *[table.name for table in tables]]
        definitions = list(workbook[DEFINITIONS_SHEET].iter_rows(values_only=True))
        assert definitions[0][:2] == ("as_of_date", datetime.combine(as_of[0], datetime.min.time()))
        for table in tables:
            relation = connection.execute(f"select * from marts.{table.name} order by all")
            names = [column[0] for column in relation.description]
            expected = relation.fetchall()
            assert result.rows[table.name] == len(expected) > 0

            # definitions sheet: the dbt description and every column's meaning
            assert (table.name, f"marts.{table.name}", len(expected), table.description) in [
                row[:4] for row in definitions
            ]
            assert table.description.startswith(("One row per", "The pipeline waterfall"))
            for column in table.columns:
                assert (table.name, column.name) in [row[:2] for row in definitions]

            sheet = workbook[table.name]
            rows = list(sheet.iter_rows(values_only=True))
            assert list(rows[0]) == names
            assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(names)).column_letter}" + str(
                len(expected) + 1
            )
            # Excel keeps 15 significant digits of a double: floats agree to that precision
            assert [list(row) for row in rows[1:]] == [
                _cells([_sheet_value(value) for value in row]) for row in expected
            ]

            parquet = pq.read_table(result.folder / f"{table.name}.parquet")
            assert parquet.column_names == names
            assert [tuple(row.values()) for row in parquet.to_pylist()] == expected

            with (result.folder / f"{table.name}.csv").open(newline="") as handle:
                csv_rows = list(csv.reader(handle))
            assert csv_rows[0] == names and len(csv_rows) == len(expected) + 1

        # typed cells on an exported mart: money, dates, booleans
        sheet = workbook["kpi_cac_payback_cohorts"]
        header = [cell.value for cell in sheet[1]]
        row = sheet[2]
        cost = row[header.index("acquisition_cost")]
        assert cost.data_type == "n" and cost.number_format == "#,##0.00"
        cohort = row[header.index("cohort_month")]
        assert isinstance(cohort.value, datetime) and cohort.number_format == "yyyy-mm-dd"
        assert isinstance(row[header.index("is_paid_back")].value, bool)

    before = {path.name: path.read_bytes() for path in result.files}
    again = export_finance_tables(published, tmp_path / "exports", tables)
    assert {path.name: path.read_bytes() for path in again.files} == before
