"""Jobs, the daily schedule and the landing-zone sensor.

One run at a time (sros/runlock.py): every job of the code location (these two, and the asset
job behind "Materialize" in the UI) runs under `run_locked_in_process_executor`, the
Definitions' executor (orchestration/definitions.py), which takes the run lock
($SROS_HOME/run.lock) before the first step and lets go after the last, in the run's own
process. So a run launched from the UI or by the schedule while another run (from Dagster or
`sros run`) is in progress waits for it, logging whom it waits for, and never writes under
it; a run killed outright releases the lock with its process. The
landing-zone sensor does not even ask for a run while one is in progress: it skips, and
requests the run at its next tick after the lock is free (its cursor does not move).
`sros run`/`sros demo` take the lock themselves and run the job in-process
(`execute_in_process` always uses its own in-process executor; the lock is re-entrant).
"""

from collections.abc import Iterator
from typing import Any

import dagster as dg

from sros import paths, runlock


class RunLockedExecutor(dg.Executor):
    """An executor that runs `inner` while holding the run lock."""

    def __init__(self, inner: dg.Executor) -> None:
        self._inner = inner

    # Dagster's types for these (RetryMode, StepDependencyConfig, PlanOrchestrationContext,
    # ExecutionPlan) are not exported; they are passed through as they are.
    @property
    def retries(self) -> Any:
        return self._inner.retries

    @property
    def step_dependency_config(self) -> Any:
        return self._inner.step_dependency_config

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[dg.DagsterEvent]:
        command = f"dagster run {plan_context.run_id[:8]} ({plan_context.job_name})"
        with runlock.run_lock(command, wait=True, notify=plan_context.log.warning) as path:
            plan_context.log.info(f"holding the run lock {path}")
            yield from self._inner.execute(plan_context, execution_plan)


@dg.executor(
    name="run_locked_in_process",
    config_schema=dg.in_process_executor.config_schema,
)
def run_locked_in_process_executor(init_context: dg.InitExecutorContext) -> dg.Executor:
    """The in-process executor (DuckDB has one writer at a time: steps run one after another
    in the run's process), holding the run lock for the whole run."""
    return RunLockedExecutor(dg.in_process_executor.executor_creation_fn(init_context))


# Everything but the demo generator: load what is in the landing zone, then dbt build.
warehouse_job = dg.define_asset_job(
    "warehouse_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("landing"),
    description="Ingest the landing zone and build the warehouse (dbt build with its tests).",
)

# The embedded default end to end: generate the demo company, ingest it, build everything.
demo_job = dg.define_asset_job(
    "demo_job",
    selection=dg.AssetSelection.all(),
    description="Generate the demo company, ingest it and build the warehouse.",
)

daily_warehouse_schedule = dg.ScheduleDefinition(
    name="daily_warehouse_schedule",
    job=warehouse_job,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.sensor(
    job=warehouse_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED
)
def landing_zone_sensor(
    context: dg.SensorEvaluationContext,
) -> Iterator[dg.RunRequest | dg.SkipReason]:
    """Start warehouse_job when a landing file is new or changed since the last run request;
    skip while a run is in progress (it would only wait for the run lock)."""
    holder = runlock.current_holder()
    if holder is not None:
        yield dg.SkipReason(f"a run is in progress ({holder.describe()}); checking again later")
        return
    landing = paths.landing_dir()
    newest = (
        # every file, whatever its format or folder: ingestion reads or refuses each one
        max(
            (path.stat().st_mtime for path in landing.rglob("*") if path.is_file()),
            default=0.0,
        )
        if landing.exists()
        else 0.0
    )
    last = float(context.cursor) if context.cursor else 0.0
    if newest > last:
        context.update_cursor(str(newest))
        yield dg.RunRequest(run_key=f"landing-{newest:.6f}")
