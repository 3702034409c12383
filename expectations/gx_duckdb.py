"""A Great Expectations SQL datasource for DuckDB that keeps its connection open.

GX's SQLAlchemy execution engine runs each metric query in `with engine.connect()` and reads
the rows after that block has closed the connection. Most databases have buffered the rows by
then; DuckDB has not, so every metric comes back empty ("list index out of range"). GX already
keeps one persistent connection for the dialects that need it (SQLite, SQL Server, BigQuery,
Databricks); this engine does the same for DuckDB, and `close()` releases it. Metrics are
then computed by DuckDB inside the warehouse: only counts and a few failing rows travel back.

Importing this module registers the datasource type: `context.data_sources.add_or_update_duckdb`.
"""

from collections.abc import Generator
from contextlib import contextmanager
from typing import Literal, Type  # noqa: UP035 (`type` is a field name in the class body)

import sqlalchemy
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine


class DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """Runs every query on one connection, opened on first use and kept until `close()`."""

    @contextmanager
    def get_connection(self) -> Generator[sqlalchemy.Connection, None, None]:
        if self._connection is None:
            self._connection = self.engine.connect()
        yield self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.engine.dispose()


class DuckDBDatasource(SQLDatasource):
    """`connection_string="duckdb:////abs/path/warehouse.duckdb"` (needs duckdb-engine)."""

    type: Literal["duckdb"] = "duckdb"

    @property
    def execution_engine_type(self) -> Type[SqlAlchemyExecutionEngine]:  # noqa: UP006
        return DuckDBExecutionEngine
