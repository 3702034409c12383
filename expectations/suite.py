"""What an expectation suite is here: a batch query over the warehouse and the expectations
that judge it, built from the definition seeds of the same warehouse."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from sros.config import dbt_target_dir
from sros.paths import PROJECT_DIR

if TYPE_CHECKING:
    import great_expectations as gx
    from pyspark.sql import SparkSession

# The warehouse's as-of date (int_as_of_date), for batch queries that judge dates by it.
AS_OF_DATE = "(select max(as_of_date) from intermediate.int_as_of_date)"
# The end of the as-of day (exclusive), as the build computed it.
AS_OF_END_AT = "(select max(as_of_end_at) from intermediate.int_as_of_date)"


class _Expectations:
    """`gx.expectations`, imported on first use. Great Expectations takes seconds to import;
    defining the suites (what Dagster needs to load its definitions) must not pay for it,
    only validating them."""

    def __getattr__(self, name: str) -> Any:
        from great_expectations import expectations

        return getattr(expectations, name)


E = _Expectations()


def Column(name: str) -> Any:
    """A GX row-condition column (great_expectations...row_conditions.Column), imported on use."""
    from great_expectations.expectations.row_conditions import Column as GxColumn

    return GxColumn(name)


class Definitions:
    """The definition seeds as the build loaded them (schema `seeds` of the warehouse), so a
    suite judges the marts by exactly the definitions they were built from; and the few SQL
    expressions a batch query writes differently per engine.

    `connection`: a DuckDB connection (engine `duckdb`) or a Spark session (engine `spark`)."""

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection | SparkSession,
        manifest: Path | None = None,
        engine: str = "duckdb",
    ) -> None:
        self._connection = connection
        # the dbt manifest of the build: None for the installation's (manifest_path)
        self.manifest = manifest
        self.engine = engine

    def manifest_path(self) -> Path:
        """The dbt manifest to read: the build's when given, else the installation's (the one
        the job parses, sros.config.dbt_target_dir), else the one a `dbt parse` by hand
        writes to target/."""
        if self.manifest is not None:
            candidates = [self.manifest]
        else:
            candidates = [
                dbt_target_dir() / "manifest.json",
                PROJECT_DIR / "target" / "manifest.json",
            ]
        for manifest in candidates:
            if manifest.exists():
                return manifest
        raise FileNotFoundError(
            f"no dbt manifest at {' or '.join(map(str, candidates))}: run `sros run` or `dbt parse`"
        )

    def builds(self, model: str) -> bool:
        """True when the build's dbt project has `model` enabled. A source system switched off
        (`hubspot_enabled: false`) disables its staging models, but a relation an earlier
        build left stays in the warehouse, so the relation's existence does not tell."""
        nodes = json.loads(self.manifest_path().read_text())["nodes"].values()
        return any(node["resource_type"] == "model" and node["name"] == model for node in nodes)

    def _rows(self, query: str) -> list[tuple]:
        if self.engine == "spark":
            return [tuple(row) for row in self._connection.sql(query).collect()]
        return self._connection.execute(query).fetchall()

    def values(self, seed: str, column: str, where: str = "true") -> list:
        """Distinct values of a seed column (rows filtered by a SQL condition), sorted."""
        rows = self._rows(
            f"select distinct {self.quoted(column)} from seeds.{self.quoted(seed)} "
            f"where {where} order by 1"
        )
        return [value for (value,) in rows if value is not None]

    def has_relation(self, relation: str) -> bool:
        """True when `schema.name` exists (a disabled source system has no staging models)."""
        if self.engine == "spark":
            return self._connection.catalog.tableExists(relation)
        schema, name = relation.split(".")
        return bool(
            self._connection.execute(
                "select count(*) from information_schema.tables "
                "where table_schema = ? and table_name = ?",
                [schema, name],
            ).fetchone()[0]
        )

    def quoted(self, identifier: str) -> str:
        """SQL: a quoted identifier (`user` is a keyword)."""
        return f"`{identifier}`" if self.engine == "spark" else f'"{identifier}"'

    def seconds_between(self, start: str, end: str) -> str:
        """SQL: second boundaries crossed from timestamp `start` to `end`: DuckDB's date_diff,
        and on Spark the same count as the models' datediff (macros/spark_dates.sql:
        timestampdiff between the values truncated to the second)."""
        if self.engine == "spark":
            return (
                f"timestampdiff(SECOND, date_trunc('second', {start}), date_trunc('second', {end}))"
            )
        return f"date_diff('second', {start}, {end})"

    def matches(self, column: str, pattern: str) -> str:
        """SQL: true when the whole of `column` matches the regular expression `pattern`."""
        if self.engine == "spark":
            return f"{column} rlike '^(?:{pattern})$'"
        return f"regexp_full_match({column}, '{pattern}')"


ExpectationBuilder = Callable[[Definitions], Sequence["gx.expectations.Expectation"]]
QueryBuilder = Callable[[Definitions], str]


@dataclass(frozen=True)
class MartSuite:
    """One Great Expectations suite, run as one Dagster asset check on one mart.

    `query` is the batch: SQL over the warehouse that selects the mart's rows and joins the
    definition in force (the SLA term, the MQL rule, the stage order) beside them, so that
    every expectation is a comparison GX pushes down to DuckDB as SQL (a function of the
    definitions when the SQL depends on which source systems are enabled). `key` names the
    columns that identify a failing row in the results. `blocking` suites guard a
    definition: when one fails, nothing is published.
    """

    name: str
    mart: str
    description: str
    query: str | QueryBuilder
    key: tuple[str, ...]
    expectations: ExpectationBuilder
    blocking: bool = True
    schema: str = "marts"  # the dbt schema of the model the check is attached to

    @property
    def asset_key(self) -> tuple[str, str]:
        """The Dagster asset key of the guarded dbt model: [schema, model]."""
        return (self.schema, self.mart)

    def batch_query(self, definitions: Definitions) -> str:
        return self.query if isinstance(self.query, str) else self.query(definitions)

    @property
    def check_name(self) -> str:
        return "gx_" + self.name.split(".", 1)[-1]
