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

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
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
from sros.paths import PROJECT_DIR

DATASOURCE = "warehouse"
SPARK_DATASOURCE = "spark_warehouse"  # a GX project's datasource keeps its type: one per engine
FAILING_ROWS_SHOWN = 5
DATA_DOCS_SITE = "local_site"  # GX's default site: uncommitted/data_docs/local_site/
DATA_DOCS_RUNS_SHOWN = 30

logger = logging.getLogger(__name__)


class SparkValidationFailed(RuntimeError):
    """The child process that runs the suites on Spark failed (its error output attached)."""


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
    suites: Iterable[MartSuite],
    warehouse: Path,
    gx_root: Path,
    manifest: Path | None = None,
    engine: str = "duckdb",
) -> list[SuiteOutcome]:
    """Validate `suites`, store the results and rebuild the Data Docs under `gx_root`.

    On engine `duckdb`, the suites read the DuckDB file `warehouse` (opened read-only). On
    engine `spark`, they read the tables of the `spark` target (profiles.yml) through Great
    Expectations' Spark datasource, in a child process that opens the local Spark session and
    ends with it (sros.spark.session: one process at a time holds the local catalog), and
    `warehouse` is not read. `manifest`: the dbt manifest of the build (read for source
    freshness), by default the installation's (see expectations/sources.py). Raises if there
    is no warehouse."""
    suites = list(suites)
    if engine == "spark":
        return _validate_in_child(suites, gx_root, manifest)
    if not warehouse.exists():
        raise FileNotFoundError(f"no warehouse at {warehouse}: build it before validating")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        definitions = Definitions(connection, manifest)
        built = [
            (suite, suite.batch_query(definitions), suite.expectations(definitions))
            for suite in suites
        ]
    context, site_index, site_existed = _context(gx_root)
    datasource = context.data_sources.add_or_update_duckdb(
        name=DATASOURCE,
        connection_string=f"duckdb:///{warehouse}",
        kwargs={"connect_args": {"read_only": True}},
    )

    def query_batch(name: str, query: str) -> tuple[Any, dict]:
        # GX takes a query asset that starts with SELECT; a suite's query may start with WITH.
        asset = datasource.add_query_asset(
            name=name, query=f"select * from (\n{query.strip()}\n) as batch"
        )
        return asset.add_batch_definition_whole_table("whole"), {}

    try:
        outcomes, results = _run_suites(context, datasource, built, query_batch)
    finally:
        # Release every DuckDB connection GX holds (the engine's and the datasource's own,
        # used to test queries), so the warehouse can be opened again in this process.
        datasource.get_execution_engine().close()
        datasource.get_engine().dispose()
    _build_data_docs(context, site_index, results if site_existed else None)
    return outcomes


def _validate_on_spark(
    suites: list[MartSuite], gx_root: Path, manifest: Path | None
) -> list[SuiteOutcome]:
    """`validate` on engine `spark`, in this process: each suite's batch is its query run by
    the local Spark session, handed to GX as a dataframe; GX computes every metric in Spark."""
    from sros.spark import session

    spark = session()
    definitions = Definitions(spark, manifest, engine="spark")
    built = [
        (suite, suite.batch_query(definitions), suite.expectations(definitions)) for suite in suites
    ]
    context, site_index, site_existed = _context(gx_root)
    datasource = context.data_sources.add_or_update_spark(name=SPARK_DATASOURCE)

    def dataframe_batch(name: str, query: str) -> tuple[Any, dict]:
        asset = datasource.add_dataframe_asset(name=name)
        return asset.add_batch_definition_whole_dataframe("whole"), {"dataframe": spark.sql(query)}

    outcomes, results = _run_suites(context, datasource, built, dataframe_batch)
    _build_data_docs(context, site_index, results if site_existed else None)
    return outcomes


def _validate_in_child(
    suites: list[MartSuite], gx_root: Path, manifest: Path | None
) -> list[SuiteOutcome]:
    """Run `_validate_on_spark` in a child Python (`python -m expectations.runner`), which
    writes the outcomes as JSON; its JVM, and with it the local catalog, ends with it."""
    by_name = {suite.name: suite for suite in suites}
    with tempfile.TemporaryDirectory() as folder:
        written = Path(folder) / "outcomes.json"
        command = [
            sys.executable,
            "-m",
            "expectations.runner",
            "--gx-root",
            str(gx_root),
            "--out",
            str(written),
            *(["--manifest", str(manifest)] if manifest else []),
            *by_name,
        ]
        completed = subprocess.run(
            command, cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        document = json.loads(written.read_text()) if written.exists() else {}
    if completed.returncode != 0 or "outcomes" not in document:
        said = document.get("error") or completed.stderr[-4000:]
        raise SparkValidationFailed(f"the Great Expectations suites could not run on Spark: {said}")
    return [
        SuiteOutcome(
            suite=by_name[item["suite"]],
            success=item["success"],
            expectations=[ExpectationOutcome(**outcome) for outcome in item["expectations"]],
        )
        for item in document["outcomes"]
    ]


def _run_suites(context, datasource, built: list, batch) -> tuple[list[SuiteOutcome], list]:
    """Validate each (suite, query, expectations) of `built` on its batch: `batch(name, query)`
    adds the suite's asset to `datasource` and returns its batch definition and batch
    parameters. Returns the outcomes and the result identifiers the Data Docs render."""
    outcomes, results = [], []
    for suite, query, expectations_ in built:
        if any(asset.name == suite.name for asset in datasource.assets):
            datasource.delete_asset(suite.name)
        definition, parameters = batch(suite.name, query)
        outcome, result_id = _run(context, definition, parameters, suite, expectations_)
        outcomes.append(outcome)
        results += [result_id, result_id.expectation_suite_identifier]
    return outcomes, results


def _context(gx_root: Path):
    """The file-backed GX project under `gx_root`, its Data Docs site set to list the last
    DATA_DOCS_RUNS_SHOWN runs; with the site's index page and whether it existed."""
    gx_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(gx_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    sites = context.variables.data_docs_sites
    site = sites[DATA_DOCS_SITE]
    site["site_index_builder"]["validation_results_limit"] = DATA_DOCS_RUNS_SHOWN * len(SUITES)
    context.variables.data_docs_sites = sites
    context.variables.save()
    site_index = Path(context.root_directory, site["store_backend"]["base_directory"], "index.html")
    return context, site_index, site_index.exists()


def _build_data_docs(context, site_index: Path, results: list | None) -> None:
    """Once per run: this run's pages (`results`; all pages when None, for a new site) and
    the index, then the same pages pointed at local copies of their scripts and styles."""
    rendering_started = time.time() - 1  # file times can be a little coarse
    context.build_data_docs(resource_identifiers=results)
    try:
        left = make_offline(site_index.parent, changed_since=rendering_started)
    except OfflineAssetsMissing as error:
        logger.warning("%s; until then the Data Docs load them from public CDNs", error)
    else:
        if left:
            logger.warning("Data Docs still load from the web: %s", ", ".join(left))


def _run(
    context, batch, batch_parameters: dict, suite: MartSuite, expectations_
) -> tuple[SuiteOutcome, ValidationResultIdentifier]:
    gx_suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=suite.name, expectations=list(expectations_))
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
    )
    validation = definition.run(
        batch_parameters=batch_parameters or None,
        result_format={
            "result_format": "SUMMARY",
            "unexpected_index_column_names": list(suite.key),
            "partial_unexpected_count": FAILING_ROWS_SHOWN,
        },
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


def main(argv: list[str] | None = None) -> None:
    """The child process of `validate` on engine `spark`: validate the named suites on the
    local Spark session and write their outcomes as JSON to --out."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--gx-root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--manifest", type=Path)
    parser.add_argument("suites", nargs="+")
    arguments = parser.parse_args(argv)
    by_name = {suite.name: suite for suite in SUITES}
    try:
        outcomes = _validate_on_spark(
            [by_name[name] for name in arguments.suites], arguments.gx_root, arguments.manifest
        )
    except Exception as error:  # handed to the parent in one line, the traceback on stderr
        arguments.out.write_text(
            json.dumps({"error": f"{type(error).__name__}: {str(error).partition(chr(10))[0]}"})
        )
        raise
    document = {
        "outcomes": [
            {
                "suite": outcome.suite.name,
                "success": outcome.success,
                "expectations": [asdict(item) for item in outcome.expectations],
            }
            for outcome in outcomes
        ]
    }
    arguments.out.write_text(json.dumps(document))


if __name__ == "__main__":
    main()
