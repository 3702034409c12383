"""Finance export files: the published marts finance opens, as CSV, Parquet and one workbook.

Which tables are exported is written once, in the dbt exposure `finance_exports`
(models/marts/_exposures.yml): its `depends_on` refs, in their order. Each table's
definition and formula is its model's dbt description, and each column's meaning its dbt
column description, read from the dbt manifest the run was built from, so the files say
what the docs say.

`export_finance_tables` reads the PUBLISHED warehouse (sros.paths.published_path(): only a
build whose dbt tests and blocking checks passed is published) and writes

    <exports_dir>/<as-of date>/<table>.csv          header row, ISO dates, `.` decimals
    <exports_dir>/<as-of date>/<table>.parquet      the mart's column types
    <exports_dir>/<as-of date>/finance_exports_<as-of date>.xlsx
        sheet `definitions`: the as-of date, each table's definition and formula, each
        column's type and meaning; then a sheet per table: a bold header row with an
        autofilter, frozen below the header, typed cells (numbers as numbers, money with two
        decimals, dates as dates, timestamps as date-times, booleans as booleans).

The as-of date is the build's (meta.publication.as_of_date, recorded at publication from
int_as_of_date). Everything is written into a hidden temporary folder first and renamed into
place at the end: a run that fails leaves no folder and no partial file. Re-running for the
same published data rewrites the same bytes, the workbook included: rows are ordered by all
their columns, the workbook's document dates are the as-of date and every member of its
zip archive carries the same fixed timestamp.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from sros.paths import SHARED_DIR_MODE, share_with_readers
from sros.publish import PUBLICATION_TABLE, PUBLISHED_SCHEMAS
from sros.sql import sql_string

EXPOSURE = "finance_exports"
DEFINITIONS_SHEET = "definitions"
EXCEL_MAX_DATA_ROWS = 1_048_575  # 1,048,576 rows per sheet, one of them the header
EXCEL_MAX_SHEET_NAME = 31
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip archive can record
_DECIMAL_TYPE = re.compile(r"DECIMAL\(\d+,\s*(\d+)\)")


class ExportError(RuntimeError):
    """The export cannot be written as asked; the message says what and where."""


@dataclass(frozen=True)
class ExportColumn:
    name: str
    description: str
    data_type: str  # as documented in the model's .yml (the mart's contract)


@dataclass(frozen=True)
class ExportTable:
    """One exported table: a published mart (or seed) named by the exposure."""

    name: str
    schema: str
    description: str
    columns: tuple[ExportColumn, ...]

    @property
    def relation(self) -> str:
        return f'"{self.schema}"."{self.name}"'

    def column(self, name: str) -> ExportColumn | None:
        return next((column for column in self.columns if column.name == name), None)


@dataclass
class ExportResult:
    folder: Path
    as_of_date: date
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def files(self) -> list[Path]:
        return sorted(self.folder.iterdir())


def export_tables(manifest: Path, exposure: str = EXPOSURE) -> list[ExportTable]:
    """The tables the exposure names, in the order of its `depends_on`, with their docs."""
    if not manifest.exists():
        raise ExportError(f"no dbt manifest at {manifest}: run `dbt parse --profiles-dir .`")
    parsed = json.loads(manifest.read_text())
    found = [node for node in parsed.get("exposures", {}).values() if node.get("name") == exposure]
    if not found:
        raise ExportError(
            f"the dbt manifest {manifest} has no exposure {exposure!r}: declare it in "
            "models/marts/_exposures.yml (depends_on: the marts to export) and run dbt parse"
        )
    nodes_by_name = {
        parsed["nodes"][unique_id]["name"]: parsed["nodes"][unique_id]
        for unique_id in found[0]["depends_on"]["nodes"]
        if unique_id in parsed["nodes"]
    }
    tables = []
    for reference in found[0]["refs"]:
        node = nodes_by_name.get(reference["name"])
        if node is None:
            raise ExportError(
                f"exposure {exposure!r} refs {reference['name']!r}: no such model or seed"
            )
        if node["schema"] not in PUBLISHED_SCHEMAS:
            raise ExportError(
                f"exposure {exposure!r} refs {node['name']!r} in schema {node['schema']!r}: "
                f"only {', '.join(PUBLISHED_SCHEMAS)} are published, so only they can be exported"
            )
        columns = tuple(
            ExportColumn(
                name=column["name"],
                description=" ".join((column.get("description") or "").split()),
                data_type=column.get("data_type") or "",
            )
            for column in node["columns"].values()
        )
        tables.append(
            ExportTable(
                name=node.get("alias") or node["name"],
                schema=node["schema"],
                description=_paragraphs(node.get("description") or ""),
                columns=columns,
            )
        )
    return tables


def export_finance_tables(
    published: Path,
    exports_dir: Path,
    tables: Sequence[ExportTable],
    exposure: str = EXPOSURE,
) -> ExportResult:
    """Write the export files of `tables` from the published warehouse; see the module doc."""
    started = time.perf_counter()
    if not published.exists():
        raise ExportError(
            f"no published warehouse at {published}: run a build (`sros run`) first; "
            "nothing is exported from an unpublished build"
        )
    if not tables:
        raise ExportError(f"exposure {exposure!r} names no table to export")
    with duckdb.connect(str(published), read_only=True, config={"threads": 1}) as connection:
        as_of = published_as_of_date(connection, published)
        for table in tables:
            _check_table(connection, table, as_of, published)
        if not exports_dir.exists():
            exports_dir.mkdir(parents=True)
            exports_dir.chmod(SHARED_DIR_MODE)  # for finance; mkdir's mode is cut by the umask
        partial = exports_dir / f".{as_of.isoformat()}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            result = ExportResult(folder=exports_dir / as_of.isoformat(), as_of_date=as_of)
            for table in tables:
                result.rows[table.name] = _write_csv_and_parquet(connection, table, partial)
            _write_workbook(
                connection, tables, as_of, exposure, partial / f"{exposure}_{as_of}.xlsx"
            )
            share_with_readers(partial)  # no personal data: 0644 files, a 0755 folder
            _replace_folder(partial, result.folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    result.seconds = time.perf_counter() - started
    return result


def _paragraphs(text: str) -> str:
    """A YAML folded description as paragraphs: lines joined, blank lines kept."""
    return "\n\n".join(
        " ".join(paragraph.split()) for paragraph in re.split(r"\n\s*\n", text.strip())
    )


def published_as_of_date(connection: duckdb.DuckDBPyConnection, published: Path) -> date:
    """The build's as-of date that publication recorded in `published` (open on `connection`);
    ExportError naming the file when it records none."""
    columns = {
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'meta' and table_name = ?",
            [PUBLICATION_TABLE],
        ).fetchall()
    }
    row = (
        connection.execute(f"select as_of_date from meta.{PUBLICATION_TABLE}").fetchone()
        if "as_of_date" in columns
        else None
    )
    if row is None or row[0] is None:
        raise ExportError(
            f"the published warehouse {published} records no as-of date "
            f"(meta.{PUBLICATION_TABLE}.as_of_date): publish a build again (`sros run`)"
        )
    return row[0]


def _check_table(
    connection: duckdb.DuckDBPyConnection, table: ExportTable, as_of: date, published: Path
) -> None:
    """The table is published, has its documented columns, fits a sheet, matches the date."""
    present = _table_columns(connection, table)
    if not present:
        raise ExportError(
            f"{table.schema}.{table.name} is not in the published warehouse {published}: "
            "build and publish it (`sros run`) before exporting"
        )
    missing = [column.name for column in table.columns if column.name not in present]
    if missing:
        raise ExportError(
            f"{table.schema}.{table.name} in {published} lacks the documented columns "
            f"{', '.join(missing)}: the published build is older than the dbt project; "
            "publish a new build (`sros run`)"
        )
    rows = connection.execute(f"select count(*) from {table.relation}").fetchone()[0]
    if rows > EXCEL_MAX_DATA_ROWS:
        raise ExportError(
            f"{table.schema}.{table.name} has {rows} rows, more than a worksheet holds "
            f"({EXCEL_MAX_DATA_ROWS}): export an aggregate mart instead"
        )
    if "as_of_date" in present:
        latest = connection.execute(f"select max(as_of_date) from {table.relation}").fetchone()[0]
        if latest is not None and latest != as_of:
            raise ExportError(
                f"{table.schema}.{table.name}.as_of_date is {latest}, the publication's "
                f"as-of date {as_of}: the published warehouse is inconsistent; publish again"
            )


def _table_columns(connection: duckdb.DuckDBPyConnection, table: ExportTable) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "select column_name from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [table.schema, table.name],
        ).fetchall()
    ]


def _select(connection: duckdb.DuckDBPyConnection, table: ExportTable) -> str:
    """Every column of the table in its order; rows in one fixed order (all columns)."""
    columns = ", ".join(f'"{name}"' for name in _table_columns(connection, table))
    return f"select {columns} from {table.relation} order by all"


def _write_csv_and_parquet(
    connection: duckdb.DuckDBPyConnection, table: ExportTable, folder: Path
) -> int:
    query = _select(connection, table)
    for suffix, options in (
        ("csv", "format csv, header true, delimiter ','"),
        ("parquet", "format parquet, compression zstd"),
    ):
        target = sql_string(str(folder / f"{table.name}.{suffix}"))
        connection.execute(f"copy ({query}) to {target} ({options})")
    return connection.execute(f"select count(*) from {table.relation}").fetchone()[0]


def _write_workbook(
    connection: duckdb.DuckDBPyConnection,
    tables: Sequence[ExportTable],
    as_of: date,
    exposure: str,
    path: Path,
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    workbook = Workbook(write_only=True)
    fixed_moment = datetime.combine(as_of, clock_time())
    workbook.properties.creator = "SROS"
    workbook.properties.title = f"SROS finance exports as of {as_of.isoformat()}"
    workbook.properties.created = fixed_moment
    sheet_names = _sheet_names([table.name for table in tables])
    bold = Font(bold=True)
    wrapped = Alignment(wrap_text=True, vertical="top")

    results = {}
    for table in tables:
        relation = connection.execute(_select(connection, table))
        names = [column[0] for column in relation.description]
        types = [str(column[1]) for column in relation.description]
        results[table.name] = (names, types, relation.fetchall())

    definitions = workbook.create_sheet(DEFINITIONS_SHEET)
    for letter, width in zip("ABCD", (30, 40, 18, 110), strict=True):
        definitions.column_dimensions[letter].width = width

    def header(sheet: Any, labels: Sequence[str]) -> list:
        cells = []
        for label in labels:
            cell = WriteOnlyCell(sheet, label)
            cell.font = bold
            cells.append(cell)
        return cells

    def date_cell(sheet: Any, value: date) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = "yyyy-mm-dd"
        return cell

    def text_cell(sheet: Any, value: str) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.alignment = wrapped
        return cell

    definitions.append([*header(definitions, ["as_of_date"]), date_cell(definitions, as_of)])
    definitions.append(
        [
            WriteOnlyCell(definitions, "source"),
            WriteOnlyCell(
                definitions,
                f"SROS published warehouse, dbt exposure {exposure}; definitions are the "
                "dbt model and column descriptions",
            ),
        ]
    )
    definitions.append([])
    definitions.append(header(definitions, ["sheet", "table", "rows", "definition and formula"]))
    for table in tables:
        definitions.append(
            [
                sheet_names[table.name],
                f"{table.schema}.{table.name}",
                len(results[table.name][2]),
                text_cell(definitions, table.description),
            ]
        )
    definitions.append([])
    definitions.append(header(definitions, ["sheet", "column", "data type", "meaning"]))
    for table in tables:
        names, types, _ = results[table.name]
        for name, duckdb_type in zip(names, types, strict=True):
            documented = table.column(name)
            definitions.append(
                [
                    sheet_names[table.name],
                    name,
                    (documented.data_type if documented and documented.data_type else duckdb_type)
                    .lower()
                    .replace(" ", ""),
                    text_cell(definitions, documented.description if documented else ""),
                ]
            )
    definitions.freeze_panes = "A5"

    for table in tables:
        names, types, rows = results[table.name]
        sheet = workbook.create_sheet(sheet_names[table.name])
        formats = [_number_format(duckdb_type) for duckdb_type in types]
        for index, (name, duckdb_type) in enumerate(zip(names, types, strict=True)):
            sheet.column_dimensions[_column_letter(index)].width = _width(
                name, duckdb_type, [row[index] for row in rows]
            )
        sheet.freeze_panes = "A2"
        sheet.append(header(sheet, names))
        for row in rows:
            sheet.append(
                [
                    _cell(WriteOnlyCell, sheet, value, number_format)
                    for value, number_format in zip(row, formats, strict=True)
                ]
            )
        sheet.auto_filter.ref = f"A1:{_column_letter(len(names) - 1)}{len(rows) + 1}"

    workbook.save(path)
    workbook.properties.modified = fixed_moment  # save() stamps the clock time
    _make_reproducible(path, workbook.properties)


def _sheet_names(table_names: Sequence[str]) -> dict[str, str]:
    """Excel sheet names: at most 31 characters and unique, case-insensitively."""
    names: dict[str, str] = {}
    taken = {DEFINITIONS_SHEET}
    for table_name in table_names:
        candidate, number = table_name[:EXCEL_MAX_SHEET_NAME], 1
        while candidate.lower() in taken:
            number += 1
            suffix = f"_{number}"
            candidate = table_name[: EXCEL_MAX_SHEET_NAME - len(suffix)] + suffix
        taken.add(candidate.lower())
        names[table_name] = candidate
    return names


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _number_format(duckdb_type: str) -> str | None:
    upper = duckdb_type.upper()
    decimal = _DECIMAL_TYPE.fullmatch(upper)
    if decimal:
        scale = int(decimal.group(1))
        return "#,##0" + ("." + "0" * scale if scale else "")
    if upper == "DATE":
        return "yyyy-mm-dd"
    if upper.startswith("TIMESTAMP"):
        return "yyyy-mm-dd hh:mm:ss"
    return None


def _width(name: str, duckdb_type: str, values: Sequence[Any]) -> float:
    upper = duckdb_type.upper()
    if upper == "DATE":
        content = 10
    elif upper.startswith("TIMESTAMP"):
        content = 19
    elif upper in ("VARCHAR", "STRING"):
        content = max((len(value) for value in values if isinstance(value, str)), default=0)
    else:
        content = 12
    return float(min(60, max(len(name) + 4, content + 2, 8)))  # +4: the filter button


def _cell(cell_type: Any, sheet: Any, value: Any, number_format: str | None) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)  # Excel has no time zones
    elif isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters Excel cannot store
    elif value is not None and not isinstance(value, bool | int | float | Decimal | date):
        value = str(value)  # lists, structs, intervals: their text
    cell = cell_type(sheet, value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text, never a formula
    if number_format is not None and value is not None:
        cell.number_format = number_format
    return cell


def _make_reproducible(path: Path, properties: Any) -> None:
    """Rewrite the workbook's zip archive with fixed member timestamps and document dates."""
    from openpyxl.xml.functions import tostring

    core = tostring(properties.to_tree())  # as openpyxl writes it, with the fixed dates
    with zipfile.ZipFile(path) as archive:
        members = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members:
            member = zipfile.ZipInfo(name, date_time=ZIP_DATE_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            archive.writestr(member, core if name == "docProps/core.xml" else content)


def _replace_folder(partial: Path, final: Path) -> None:
    """Move the finished folder into place; an existing one for the date is replaced."""
    if final.exists():
        previous = final.with_name(f".{final.name}.{os.getpid()}.previous")
        shutil.rmtree(previous, ignore_errors=True)
        os.replace(final, previous)
        os.replace(partial, final)
        shutil.rmtree(previous)
    else:
        os.replace(partial, final)
