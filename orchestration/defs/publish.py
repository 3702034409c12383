"""Publication: after a good build, BI tools get a new complete copy of the marts."""

import dagster as dg

from orchestration.defs.dbt import sros_dbt_assets
from sros import paths
from sros.locks import retry_on_lock
from sros.publish import masked_summary, publish

# Every mart: publication waits for all of them and their blocking checks. It publishes the
# seeds too, but does not wait for them as assets: a build leaves out the seeds unchanged since
# the last one (sros/seed_state.py), which then have no result in that run, and Dagster skips
# whatever waits for an asset without one. The seeds are built by the same step as the marts,
# so a failed seed fails that step and publication does not run.
_PUBLISHED_KEYS = [
    key for key in sros_dbt_assets.keys if sros_dbt_assets.group_names_by_key.get(key) == "marts"
]


@dg.asset(
    deps=_PUBLISHED_KEYS,
    group_name="publish",
    kinds={"duckdb"},
    description=(
        "The published warehouse BI tools read (SROS_PUBLISHED_PATH, default "
        "var/published/warehouse.duckdb): the marts and seeds of a build whose dbt tests and "
        "blocking checks passed, replaced in one atomic rename. Emails and phone numbers in "
        "any text column are masked ([email], [phone]); meta.pii_masked counts them."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    # Publication reads the working file; a writer holding it (a dbt run by hand) is waited
    # out, and publishing again from the start is safe (sros/locks.py).
    counts = retry_on_lock(
        lambda: publish(paths.warehouse_path(), paths.published_path()),
        notify=context.log.warning,
    )
    context.log.info("published %s tables to %s", len(counts), paths.published_path())
    masked = masked_summary(paths.published_path())
    for column, values in masked:
        context.log.warning("%s: %s values held an email or phone number: masked", column, values)
    return dg.MaterializeResult(
        metadata={
            "path": str(paths.published_path()),
            "tables": len(counts),
            "rows": sum(counts.values()),
            "values_masked": sum(values for _, values in masked),
            "columns_masked": dg.MetadataValue.md(
                "\n".join(f"- {column}: {values}" for column, values in masked) or "none"
            ),
        }
    )
