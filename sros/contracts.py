"""The raw-table contracts, read from the dbt source files in models/staging/*/.

Each source table there declares its columns with a `data_type`, its key in
`meta.primary_key` and its landing files in `meta.landing`. The demo generator writes files in
that shape, ingestion casts and validates against it, and dbt reads the loaded tables through
the same `source()` definitions: the raw schema is written down once.

Column settings in `meta:` (each optional, with a default so a column without them keeps
working):

- `case_sensitive` (default true): whether two values of a key column that differ only by
  letter case are different keys. Salesforce's 18-character ids are case-insensitive (the
  last three characters encode the case of the first fifteen), its 15-character ids are
  not; a contract marks the 18-character id columns `case_sensitive: false`, and ingestion
  quarantines rows of one file whose keys differ only by case as a conflict.
- `unit` (default none): `percent` (0-100) or `fraction` (0-1) for a ratio column. A file
  whose values all look like the other unit loads, with a warning in the load report.
- `required` (default false): the models cannot work without a value in this column (a
  blocking `not_null` test downstream reads it). Ingestion rejects a file whose header lacks
  a required column, naming file and column, and quarantines a row whose required value is
  empty (or only whitespace), naming row, column and value; a missing or empty non-required
  column is null. Key columns (`meta.primary_key`) are always required.

Table settings in `meta:` besides `primary_key`, `landing` and `export`:

- `history: {tracked_columns: [...]}` (default none): ingestion keeps the change history of
  these columns in a second raw table, `<table>_history` (one row per record and version,
  valid over [`_sros_valid_from`, `_sros_valid_to`), `_sros_valid_to` null for the current
  version), with dlt's `scd2` merge. A change in another column makes no new version. The
  history table is declared in the same sources file with `meta: {history_of: <table>}`, the
  table's columns and the history columns (`HISTORY_COLUMNS`); it is written by ingestion
  from the table's files, never landed, so it is not a contract of its own (a landing folder
  named after it is refused like any unknown folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from sros.paths import MODELS_DIR

# What a landing file of a table holds (meta.export); the first is the default.
EXPORT_KINDS = ("incremental", "full")

# The raw types a contract may use, and the DuckDB type each is cast to.
RAW_TYPES = {
    "varchar": "VARCHAR",
    "boolean": "BOOLEAN",
    "bigint": "BIGINT",
    "double": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal(18,2)": "DECIMAL(18,2)",
}


# Units a ratio column's `meta.unit` may name.
UNITS = ("percent", "fraction")

# A table's change history (meta.history): the raw table's name, and the columns ingestion
# adds to the table's own: when each version is valid (from, to: null while current) and the
# version's hash over the key and the tracked columns (dlt's scd2 row version).
HISTORY_SUFFIX = "_history"
VALID_FROM_COLUMN = "_sros_valid_from"
VALID_TO_COLUMN = "_sros_valid_to"
ROW_VERSION_COLUMN = "_sros_row_version"
HISTORY_COLUMNS = (VALID_FROM_COLUMN, VALID_TO_COLUMN, ROW_VERSION_COLUMN)


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str
    case_sensitive: bool = True  # meta.case_sensitive
    unit: str | None = None  # meta.unit: "percent" or "fraction"
    required: bool = False  # meta.required (key columns are required whatever it says)


@dataclass(frozen=True)
class TableContract:
    source: str  # dbt source name, e.g. "salesforce"
    schema: str  # default raw schema, e.g. "raw_salesforce"
    name: str  # table name, e.g. "lead"
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    landing: str  # landing path prefix, e.g. "salesforce/lead"
    export: str = EXPORT_KINDS[0]  # meta.export: "incremental" or "full"
    tracked_columns: tuple[str, ...] = ()  # meta.history.tracked_columns (none: no history)

    @property
    def history_table(self) -> str | None:
        """The raw table holding this table's change history (meta.history), or None."""
        return f"{self.name}{HISTORY_SUFFIX}" if self.tracked_columns else None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """The columns marked `meta.required` that are not key columns (a key is checked as a
        key), in contract order."""
        return [
            column.name
            for column in self.columns
            if column.required and column.name not in self.primary_key
        ]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.source}.{self.name} has no column {name!r}")


class ContractError(ValueError):
    """A source file under models/staging does not follow the contract conventions."""


def _default_schema(source: dict, path: Path) -> str:
    # The schema is written as "{{ var('<source>_schema', 'raw_<source>') }}": take the default.
    text = str(source.get("schema", ""))
    if "'" in text:
        return text.split("'")[-2]
    if not text:
        raise ContractError(f"{path}: source {source.get('name')!r} has no schema")
    return text


@cache
def load_contracts(models_dir: Path = MODELS_DIR) -> dict[tuple[str, str], TableContract]:
    """All table contracts, keyed by (source name, table name)."""
    contracts: dict[tuple[str, str], TableContract] = {}
    for path in sorted(models_dir.glob("staging/*/_*__sources.yml")):
        document = yaml.safe_load(path.read_text())
        for source in document.get("sources", []):
            schema = _default_schema(source, path)
            histories = {}  # base table -> its history table's declaration
            for table in source.get("tables", []):
                where = f"{path}: {source['name']}.{table['name']}"
                meta = table.get("meta") or {}
                if "history_of" in meta:  # written by ingestion, not landed: not a contract
                    histories[meta["history_of"]] = (table, where)
                    continue
                columns = []
                for column in table.get("columns", []):
                    data_type = column.get("data_type")
                    if data_type not in RAW_TYPES:
                        raise ContractError(
                            f"{where}: column {column.get('name')!r} has data_type "
                            f"{data_type!r}; use one of {sorted(RAW_TYPES)}"
                        )
                    columns.append(_column(column, data_type, where))
                if not meta.get("primary_key") or not meta.get("landing"):
                    raise ContractError(f"{where}: meta.primary_key and meta.landing are required")
                names = {column.name for column in columns}
                missing = [key for key in meta["primary_key"] if key not in names]
                if missing:
                    raise ContractError(f"{where}: primary key column(s) {missing} not declared")
                export = meta.get("export", EXPORT_KINDS[0])
                if export not in EXPORT_KINDS:
                    raise ContractError(
                        f"{where}: meta.export is {export!r}; use one of {list(EXPORT_KINDS)}"
                    )
                contracts[(source["name"], table["name"])] = TableContract(
                    source=source["name"],
                    schema=schema,
                    name=table["name"],
                    columns=tuple(columns),
                    primary_key=tuple(meta["primary_key"]),
                    landing=meta["landing"],
                    export=export,
                    tracked_columns=_tracked_columns(meta, columns, meta["primary_key"], where),
                )
            _check_histories(source["name"], contracts, histories, f"{path}: {source['name']}")
    if not contracts:
        raise ContractError(f"no source contracts found under {models_dir}/staging")
    return contracts


def _tracked_columns(
    meta: dict, columns: list[Column], primary_key: list[str], where: str
) -> tuple[str, ...]:
    """The columns a table's change history tracks (meta.history.tracked_columns), or ()."""
    if "history" not in meta:
        return ()
    tracked = (meta["history"] or {}).get("tracked_columns")
    names = [column.name for column in columns]
    if not tracked or not isinstance(tracked, list):
        raise ContractError(
            f"{where}: meta.history needs tracked_columns, a list of the columns whose "
            "changes make a new version"
        )
    wrong = [name for name in tracked if name not in names or name in primary_key]
    if wrong:
        raise ContractError(
            f"{where}: meta.history.tracked_columns {wrong} are not declared non-key columns "
            "of the table"
        )
    return tuple(tracked)


def _check_histories(
    source: str,
    contracts: dict[tuple[str, str], TableContract],
    histories: dict[str, tuple[dict, str]],
    where: str,
) -> None:
    """Each table with meta.history has its history table declared (`meta.history_of`), named
    `<table>_history`, with the table's columns and types and the history columns."""
    with_history = {
        contract.name: contract
        for (name, _), contract in contracts.items()
        if name == source and contract.tracked_columns
    }
    for base, (table, table_where) in histories.items():
        contract = with_history.get(base)
        if contract is None:
            raise ContractError(
                f"{table_where}: meta.history_of names {base!r}, which is not a table of "
                f"source {source!r} with meta.history"
            )
        if table["name"] != contract.history_table:
            raise ContractError(
                f"{table_where}: the history of {base!r} is the table {contract.history_table!r}"
            )
        declared = {column["name"]: column.get("data_type") for column in table.get("columns", [])}
        expected = {column.name: column.data_type for column in contract.columns}
        expected |= {column: "timestamp" for column in (VALID_FROM_COLUMN, VALID_TO_COLUMN)}
        expected[ROW_VERSION_COLUMN] = "varchar"
        if declared != expected:
            differing = sorted(set(declared.items()) ^ set(expected.items()), key=str)
            raise ContractError(
                f"{table_where}: declare the columns of {base!r} with their data_type and "
                f"{list(HISTORY_COLUMNS)}; these differ: {differing}"
            )
    for base, contract in with_history.items():
        if base not in histories:
            raise ContractError(
                f"{where}.{base}: meta.history needs its history table declared: "
                f"{contract.history_table} with meta: {{history_of: {base}}}"
            )


def _column(column: dict, data_type: str, where: str) -> Column:
    """A contract column with its `meta:` settings (see the module docstring)."""
    meta = column.get("meta") or {}
    case_sensitive, unit = meta.get("case_sensitive", True), meta.get("unit")
    required = meta.get("required", False)
    for setting, value in (("case_sensitive", case_sensitive), ("required", required)):
        if not isinstance(value, bool):
            raise ContractError(
                f"{where}: column {column['name']!r} meta.{setting} must be true or false"
            )
    if unit is not None and unit not in UNITS:
        raise ContractError(
            f"{where}: column {column['name']!r} meta.unit {unit!r}; use one of {list(UNITS)}"
        )
    return Column(
        column["name"], data_type, case_sensitive=case_sensitive, unit=unit, required=required
    )


def source_names() -> list[str]:
    return sorted({source for source, _ in load_contracts()})


def contracts_for(source: str) -> list[TableContract]:
    return [contract for (name, _), contract in sorted(load_contracts().items()) if name == source]
