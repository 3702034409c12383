"""Source freshness: each source's newest row against the warehouse's as-of moment.

The thresholds are dbt's own source freshness config (`loaded_at_field`, `freshness`
warn_after / error_after in models/staging/<source>/_<source>__sources.yml), read from the
dbt manifest. `dbt source freshness` compares with the clock; this suite compares with the
as-of date (the day of the latest CRM sync, end of day), so a source that stopped syncing
while the others went on is caught, in production and in the demo alike.
"""

import json

from expectations.suite import AS_OF_END_AT, Definitions, E, MartSuite

HOURS = {"minute": 1 / 60, "hour": 1, "day": 24}


def _hours(threshold: dict | None) -> float | None:
    if not threshold or threshold.get("count") is None:
        return None
    return threshold["count"] * HOURS[threshold["period"]]


def freshness_query(definitions: Definitions) -> str:
    """One row per source table with a loaded_at_field: newest row, lag, thresholds."""
    manifest = definitions.manifest_path()
    selects = []
    for source in json.loads(manifest.read_text())["sources"].values():
        relation = f"{source['schema']}.{definitions.quoted(source['identifier'])}"
        field = source.get("loaded_at_field")
        if not field or not definitions.has_relation(f"{source['schema']}.{source['identifier']}"):
            continue
        warn = _hours(source["freshness"].get("warn_after"))
        error = _hours(source["freshness"].get("error_after"))
        selects.append(
            f"select '{source['source_name']}.{source['name']}' as source_table, "
            f"max(cast({field} as timestamp)) as loaded_at, "
            f"cast({warn if warn is not None else 'null'} as double) as warn_after_hours, "
            f"cast({error if error is not None else 'null'} as double) as error_after_hours "
            f"from {relation}"
        )
    newest = "\n    union all\n    ".join(selects)
    return f"""
with

newest as (
    {newest}
),

as_of as (
    select {AS_OF_END_AT} as as_of_at
)

select
    newest.source_table,
    newest.loaded_at,
    as_of.as_of_at,
    {definitions.seconds_between("newest.loaded_at", "as_of.as_of_at")} / 3600.0 as lag_hours,
    newest.warn_after_hours,
    newest.error_after_hours
from newest
cross join as_of
"""


def freshness_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="warn_after_hours",
            column_B="lag_hours",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            severity="warning",
            description="Each source's newest row is within its warn_after of the as-of date.",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="error_after_hours",
            column_B="lag_hours",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description=(
                "No source is older than its error_after: numbers mixing a stale system with "
                "fresh ones are not published."
            ),
        ),
    ]


SUITES = (
    MartSuite(
        name="sources.freshness",
        mart="int_as_of_date",
        schema="intermediate",
        description="Each source is fresh against the as-of date (dbt source freshness config).",
        query=freshness_query,
        key=("source_table", "loaded_at", "as_of_at"),
        expectations=freshness_expectations,
    ),
)
