"""Jobs, the daily schedule and the landing-zone sensor."""

from collections.abc import Iterator

import dagster as dg

from sros import paths

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
def landing_zone_sensor(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest]:
    """Start warehouse_job when a landing file is new or changed since the last run request."""
    landing = paths.landing_dir()
    newest = (
        max((path.stat().st_mtime for path in landing.glob("*/*/*.csv")), default=0.0)
        if landing.exists()
        else 0.0
    )
    last = float(context.cursor) if context.cursor else 0.0
    if newest > last:
        context.update_cursor(str(newest))
        yield dg.RunRequest(run_key=f"landing-{newest:.6f}")
