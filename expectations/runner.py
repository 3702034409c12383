"""Run the suites against a warehouse with Great Expectations and build the Data Docs.

The GX project lives in `sros.paths.gx_dir()` (default var/): suites, validation results
and the Data Docs site var/gx/uncommitted/data_docs/local_site/index.html. The suites are
code (expectations/*.py); each run writes them into the GX project afresh, built from the
definition seeds of the warehouse being validated.

Each run adds one validation result per suite. The Data Docs render only this run's pages
and list the results of the last DATA_DOCS_RUNS_SHOWN runs (GX's `validation_results_limit`),
so building them takes the same time on the hundredth run as on the first. The pages load
their scripts and styles from the site's own folder, not from CDNs (expectations/offline_docs.py).
"""

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import great_expectations as gx
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

import expectations.gx_duckdb  # noqa: F401 (registers the duckdb datasource type)
from expectations import SUITES
from expectations.offline_docs import OfflineAssetsMissing, make_offline
from expectations.suite import Definitions, MartSuite

DATASOURCE = "warehouse"
FAILING_ROWS_SHOWN = 5
DATA_DOCS_SITE = "local_site"  # GX's default site: uncommitted/data_docs/local_site/
DATA_DOCS_RUNS_SHOWN = 30

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result: what it checks, how many rows it saw and how many broke it."""

    expectation: str
    description: str
    success: bool
    severity: str  # GX severity: critical failures stop publication, warnings do not
    rows_checked: int | None
    rows_failing: int | None
    failing_rows: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class SuiteOutcome:
    suite: MartSuite
    success: bool
    expectations: list[ExpectationOutcome]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [outcome for outcome in self.expectations if not outcome.success]

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        """Failures that stop publication: critical expectations of a blocking suite."""
        if not self.suite.blocking:
            return []
        return [outcome for outcome in self.failures if outcome.severity == "critical"]

    def summary(self) -> str:
        """A readable account of the failures: expectation, counts and a few failing rows."""
        lines = []
        for outcome in self.failures:
            counts = (
                f"{outcome.rows_failing} of {outcome.rows_checked} rows"
                if outcome.rows_failing is not None
                else "could not be evaluated"
            )
            lines.append(
                f"{self.suite.name} [{outcome.severity}] {outcome.expectation}: {counts}: "
                f"{outcome.description}"
            )
            if outcome.error:
                lines.append(f"    error: {outcome.error}")
            lines.extend(f"    {row}" for row in outcome.failing_rows)
        return "\n".join(lines)


def validate(
    suites: Iterable[MartSuite], warehouse: Path, gx_root: Path, manifest: Path | None = None
) -> list[SuiteOutcome]:
    """Validate `suites` against the DuckDB file `warehouse` (opened read-only), store the
    results and rebuild the Data Docs under `gx_root`. `manifest`: the dbt manifest of the
    build (read for source freshness), by default the installation's (see
    expectations/sources.py). Raises if there is no warehouse."""
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: build it before validating")
    suites = list(suites)
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        definitions = Definitions(connection, manifest)
        built = [
            (suite, suite.batch_query(definitions), suite.expectations(definitions))
            for suite in suites
        ]

    gx_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    sites = context.variables.data_docs_sites
    site = sites[DATA_DOCS_SITE]
    site["site_index_builder"]["validation_results_limit"] = DATA_DOCS_RUNS_SHOWN * len(SUITES)
    context.variables.data_docs_sites = sites
    context.variables.save()
    site_index = Path(context.root_directory, site["store_backend"]["base_directory"], "index.html")
    site_existed = site_index.exists()
    datasource = context.data_sources.add_or_update_duckdb(
        name=DATASOURCE,
        connection_string=f"duckdb:///{warehouse}",
        kwargs={"connect_args": {"read_only": True}},
    )
    outcomes, results = [], []
    try:
        for suite, query, expectations_ in built:
            outcome, result_id = _run(context, datasource, suite, query, expectations_)
            outcomes.append(outcome)
            results += [result_id, result_id.expectation_suite_identifier]
    finally:
        # Release every DuckDB connection GX holds (the engine's and the datasource's own,
        # used to test queries), so the warehouse can be opened again in this process.
        datasource.get_execution_engine().close()
        datasource.get_engine().dispose()
    # Once per run: this run's pages and the index (all pages when the site is new), then
    # the same pages pointed at local copies of their scripts and styles.
    rendering_started = time.time() - 1  # file times can be a little coarse
    context.build_data_docs(resource_identifiers=results if site_existed else None)
    try:
        left = make_offline(site_index.parent, changed_since=rendering_started)
    except OfflineAssetsMissing as error:
        logger.warning("%s; until then the Data Docs load them from public CDNs", error)
    else:
        if left:
            logger.warning("Data Docs still load from the web: %s", ", ".join(left))
    return outcomes


def _run(
    context, datasource, suite: MartSuite, query: str, expectations_
) -> tuple[SuiteOutcome, ValidationResultIdentifier]:
    if any(asset.name == suite.name for asset in datasource.assets):
        datasource.delete_asset(suite.name)
    # GX takes a query asset that starts with SELECT; a suite's query may start with WITH.
    query = f"select * from (\n{query.strip()}\n) as batch"
    batch = datasource.add_query_asset(
        name=suite.name, query=query
    ).add_batch_definition_whole_table("whole")
    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=suite.name, expectations=list(expectations_))
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    validation = definition.run(
        result_format={
            "result_format": "SUMMARY",
            "unexpected_index_column_names": list(suite.key),
            "partial_unexpected_count": FAILING_ROWS_SHOWN,
        }
    )
    outcomes = [_outcome(result) for result in validation.results]
    # the key GX stored the result under (ValidationDefinition.run builds it the same way)
    result_id = ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite.name),
        run_id=validation.meta["run_id"],
        batch_identifier=validation.batch_id,
    )
    suite_outcome = SuiteOutcome(
        suite=suite, success=bool(validation.success), expectations=outcomes
    )
    return suite_outcome, result_id


def _outcome(result) -> ExpectationOutcome:
    config = result.expectation_config
    details = result.result or {}
    exception = result.exception_info or {}
    error = None
    if exception.get("raised_exception"):
        error = str(exception.get("exception_message"))
    elif exception and "raised_exception" not in exception:  # per-metric errors
        messages = [str(info.get("exception_message")) for info in exception.values()]
        error = "; ".join(message for message in messages if message and message != "None") or None
    return ExpectationOutcome(
        expectation=config.type,
        description=config.description or config.type,
        success=bool(result.success),
        severity=getattr(config.severity, "value", config.severity) or "critical",
        rows_checked=details.get("element_count"),
        rows_failing=details.get("unexpected_count"),
        failing_rows=[
            {key: _plain(value) for key, value in row.items()}
            for row in details.get("partial_unexpected_index_list") or []
        ][:FAILING_ROWS_SHOWN],
        error=error,
    )


def _plain(value: Any) -> Any:
    """JSON-friendly scalars for Dagster metadata."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
