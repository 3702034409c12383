"""The SROS Dagster code location: `dagster dev -m orchestration.definitions` (or `dg dev`)."""

import dagster as dg
from dagster_dlt import DagsterDltResource

from orchestration.defs.completeness import marts_not_silently_empty
from orchestration.defs.dbt import dbt_resource, sros_dbt_assets
from orchestration.defs.expectations import great_expectations_checks
from orchestration.defs.exports import finance_exports
from orchestration.defs.ingestion import INGESTION_ASSETS, LOAD_CHECKS
from orchestration.defs.landing import demo_company
from orchestration.defs.pseudonyms import pseudonym_key
from orchestration.defs.publish import published_warehouse
from orchestration.defs.run_log import LOGGER_KEY, run_log_logger
from orchestration.defs.schedules import (
    daily_warehouse_schedule,
    demo_job,
    landing_zone_sensor,
    run_locked_in_process_executor,
    warehouse_job,
)
from sros.paths import protect_private_files

# Owner-only files for everything a run writes from here on (umask 077), and for the working
# warehouse, dlt state and Dagster storage that exist already: they hold raw personal data.
protect_private_files()

defs = dg.Definitions(
    assets=[
        demo_company,
        *INGESTION_ASSETS,
        pseudonym_key,
        sros_dbt_assets,
        published_warehouse,
        finance_exports,
    ],
    asset_checks=[*LOAD_CHECKS, great_expectations_checks, marts_not_silently_empty],
    jobs=[demo_job, warehouse_job],
    schedules=[daily_warehouse_schedule],
    sensors=[landing_zone_sensor],
    resources={"dlt": DagsterDltResource(), "dbt": dbt_resource()},
    # A run whose config names no logger keeps Dagster's console logger; `sros run`/`sros demo`
    # name `sros_run_log`: the whole log in a file, one line per stage on the terminal.
    loggers={"console": dg.colored_console_logger, LOGGER_KEY: run_log_logger},
    # DuckDB has one writer at a time: run steps one after another in the run's process, and
    # one run at a time: every run (a job, the schedule, the sensor, "Materialize" in the UI)
    # holds the run lock $SROS_HOME/run.lock from its first step to its last (sros/runlock.py).
    executor=run_locked_in_process_executor,
)
