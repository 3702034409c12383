"""The Great Expectations suites (expectations/) as Dagster asset checks on their marts.

One step validates every selected suite against the warehouse the dbt build wrote (the
working DuckDB file, or on the spark engine Spark's own tables), then rebuilds the Data Docs
once. Each suite reports as its own check on its own mart, with
the counts and a few failing rows. Suites that guard a definition are blocking: a critical
failure stops publication downstream.
"""

from typing import TYPE_CHECKING

import dagster as dg

from expectations import SUITES
from sros import paths
from sros.config import engine
from sros.locks import retry_on_lock

if TYPE_CHECKING:
    from expectations.runner import SuiteOutcome

_SUITES_BY_CHECK = {
    dg.AssetCheckKey(dg.AssetKey(list(suite.asset_key)), suite.check_name): suite
    for suite in SUITES
}


def _markdown(outcome: "SuiteOutcome") -> str:
    lines = [
        "| expectation | severity | result | rows | failing |",
        "| --- | --- | --- | --- | --- |",
    ]
    for item in outcome.expectations:
        result = "pass" if item.success else ("error" if item.error else "FAIL")
        lines.append(
            f"| {item.description} | {item.severity} | {result} | "
            f"{item.rows_checked if item.rows_checked is not None else ''} | "
            f"{item.rows_failing if item.rows_failing is not None else ''} |"
        )
    for item in outcome.failures:
        lines.append(f"\n**{item.description}**: {item.error or 'failing rows (first few):'}")
        lines.extend(f"- `{row}`" for row in item.failing_rows)
    return "\n".join(lines)


def _result(outcome: "SuiteOutcome") -> dg.AssetCheckResult:
    suite = outcome.suite
    blocking = bool(outcome.blocking_failures)
    return dg.AssetCheckResult(
        asset_key=dg.AssetKey(list(suite.asset_key)),
        check_name=suite.check_name,
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        metadata={
            "suite": suite.name,
            "expectations": len(outcome.expectations),
            "failed": len(outcome.failures),
            "rows_validated": max((e.rows_checked or 0 for e in outcome.expectations), default=0),
            "results": dg.MetadataValue.md(_markdown(outcome)),
            "failures": dg.MetadataValue.text(outcome.summary()),
            "data_docs": dg.MetadataValue.path(str(paths.data_docs_index())),
        },
    )


@dg.multi_asset_check(
    name="great_expectations",
    specs=[
        dg.AssetCheckSpec(
            name=key.name,
            asset=key.asset_key,
            description=f"Great Expectations suite {suite.name}: {suite.description}",
            blocking=suite.blocking,
        )
        for key, suite in _SUITES_BY_CHECK.items()
    ],
    can_subset=True,
)
def great_expectations_checks(context: dg.AssetCheckExecutionContext):
    # Great Expectations is imported here, when the checks run, not when Dagster loads.
    from expectations.runner import validate

    selected = [_SUITES_BY_CHECK[key] for key in context.selected_asset_check_keys]
    # On DuckDB the suites read the working file; a writer holding it is waited out
    # (sros/locks.py).
    outcomes = retry_on_lock(
        lambda: validate(selected, paths.warehouse_path(), paths.gx_dir(), engine=engine()),
        notify=context.log.warning,
    )
    for outcome in outcomes:
        if not outcome.success:
            log = context.log.error if outcome.blocking_failures else context.log.warning
            log(outcome.summary())
        yield _result(outcome)
    context.log.info("Data Docs: %s", paths.data_docs_index())
