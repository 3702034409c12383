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
            for table in source.get("tables", []):
                where = f"{path}: {source['name']}.{table['name']}"
                meta = table.get("meta") or {}
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
                )
    if not contracts:
        raise ContractError(f"no source contracts found under {models_dir}/staging")
    return contracts


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
