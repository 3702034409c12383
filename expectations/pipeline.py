"""Pipeline suites: opportunities, their stage history and the daily snapshots against the
stage definitions (order, won or lost), the as-of date and staging totals."""

from expectations.suite import AS_OF_DATE, Column, Definitions, E, MartSuite

PIPELINE_STAGES = "stage_group in ('opportunity', 'closed')"

OPPORTUNITIES_QUERY = f"""
select
    opportunities.opportunity_id,
    opportunities.source_system,
    opportunities.stage_key,
    opportunities.is_closed,
    opportunities.is_won,
    coalesce(stages.is_won, false) as is_won_by_stage,
    coalesce(stages.stage_group = 'closed', false) as is_closed_by_stage,
    opportunities.created_date,
    opportunities.close_date,
    opportunities.closed_date,
    opportunities.amount,
    {AS_OF_DATE} as as_of_date
from marts.fct_opportunities as opportunities
left join seeds.funnel_stages as stages
    on opportunities.stage_key = stages.stage_key
"""


def opportunity_expectations(definitions: Definitions) -> list:
    closed = Column("is_closed") == True  # noqa: E712 (GX conditions, not comparisons)
    won = Column("is_won") == True  # noqa: E712
    return [
        E.ExpectColumnValuesToBeInSet(
            column="stage_key",
            value_set=definitions.values("funnel_stages", "stage_key", PIPELINE_STAGES),
            description="Every opportunity is in an opportunity or closed stage of the seed.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="is_closed",
            column_B="is_closed_by_stage",
            description="Closed means a stage of the closed group (funnel_stages.stage_group).",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="is_won",
            column_B="is_won_by_stage",
            description="Won means a stage the seed marks won (funnel_stages.is_won).",
        ),
        E.ExpectColumnValuesToNotBeNull(
            column="closed_date",
            row_condition=closed,
            description="Closed opportunities have a close date.",
        ),
        E.ExpectColumnValuesToBeNull(
            column="closed_date",
            row_condition=Column("is_closed") == False,  # noqa: E712
            description="Open opportunities have no closed date.",
        ),
        # "Positive" is > 0 and a null is not positive, but GX column-map expectations
        # such as ExpectColumnValuesToBeBetween skip nulls (their metrics filter null
        # values out), so a null amount on a won opportunity is checked on its own.
        # Build-time quarantine (fct_quarantined_records) keeps both out of this mart.
        E.ExpectColumnValuesToBeBetween(
            column="amount",
            min_value=0,
            strict_min=True,
            row_condition=won,
            description="Won opportunities have a positive amount (greater than 0).",
        ),
        E.ExpectColumnValuesToNotBeNull(
            column="amount",
            row_condition=won,
            description="Won opportunities have an amount (a null is not positive).",
        ),
        E.ExpectColumnValuesToBeBetween(
            column="amount", min_value=0, description="No amount is negative."
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="closed_date",
            column_B="created_date",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description="No opportunity closes before it was created.",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="as_of_date",
            column_B="created_date",
            or_equal=True,
            description="No opportunity was created after the as-of date (future dates).",
        ),
    ]


def pipeline_reconciliation_query(definitions: Definitions) -> str:
    """One row per CRM: opportunities and amount in staging, the quarantined ones
    (fct_quarantined_records) and the rest, which the mart must hold. The mart's side is
    `crm_amount`, the amount as the CRM holds it: `amount` reports a lost deal at its last
    open amount, and a CRM whose users zero a deal when it is lost would otherwise never
    reconcile."""
    staged = {
        "salesforce": ("stg_salesforce__opportunities", "opportunity_id"),
        "hubspot": ("stg_hubspot__deals", "deal_id"),
    }
    # the CRMs the build has switched on (a switched-off CRM's staging table may linger)
    unions = "\n    union all\n    ".join(
        f"select '{system}' as source_system, {key} as record_id, amount from staging.{model}"
        for system, (model, key) in staged.items()
        if definitions.builds(model)
    )
    return f"""
with

staged as (
    {unions}
),

quarantined as (
    select distinct source_system, record_id
    from marts.fct_quarantined_records
    where record_type = 'opportunity'
),

staged_totals as (
    select
        staged.source_system,
        count(*) as opportunities,
        count(quarantined.record_id) as quarantined_opportunities,
        sum(case when quarantined.record_id is null then staged.amount end) as accepted_amount
    from staged
    left join quarantined
        on staged.source_system = quarantined.source_system
        and staged.record_id = quarantined.record_id
    group by 1
),

published as (
    select source_system, count(*) as opportunities, sum(crm_amount) as amount
    from marts.fct_opportunities
    group by 1
)

select
    staged_totals.source_system,
    staged_totals.opportunities as staged_opportunities,
    staged_totals.quarantined_opportunities,
    staged_totals.opportunities - staged_totals.quarantined_opportunities
        as accepted_opportunities,
    coalesce(published.opportunities, 0) as mart_opportunities,
    staged_totals.accepted_amount,
    published.amount as mart_amount
from staged_totals
left join published
    on staged_totals.source_system = published.source_system
"""


def pipeline_reconciliation_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesToBeEqual(
            column_A="mart_opportunities",
            column_B="accepted_opportunities",
            description=(
                "Every staged opportunity (deal) is in the mart once, unless quarantined "
                "(fct_quarantined_records)."
            ),
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="mart_amount",
            column_B="accepted_amount",
            ignore_row_if="both_values_are_missing",
            description=(
                "Sum of pipeline in the mart (crm_amount) = sum in staging less the "
                "quarantined (CRM currency)."
            ),
        ),
    ]


STAGE_HISTORY_QUERY = """
select
    opportunity_stage_visit_id,
    opportunity_id,
    stage_key
from marts.fct_opportunity_stage_history
"""


def stage_history_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="stage_key",
            value_set=definitions.values("funnel_stages", "stage_key", PIPELINE_STAGES),
            description="Every visit is to an opportunity or closed stage of the seed.",
        ),
    ]


SNAPSHOTS_QUERY = f"""
select
    snapshot_date,
    opportunity_id,
    stage_key,
    probability,
    amount,
    {AS_OF_DATE} as as_of_date
from marts.fct_pipeline_snapshots_daily
"""


def snapshot_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="stage_key",
            value_set=definitions.values(
                "funnel_stages", "stage_key", "stage_group = 'opportunity'"
            ),
            description="Only open opportunity stages are in open pipeline.",
        ),
        E.ExpectColumnValuesToBeBetween(
            column="amount", min_value=0, description="No open amount is negative."
        ),
        E.ExpectColumnValuesToBeBetween(
            column="probability", min_value=0, max_value=1, description="Probability in [0, 1]."
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="as_of_date",
            column_B="snapshot_date",
            or_equal=True,
            description="No snapshot is dated after the as-of date.",
        ),
    ]


SUITES = (
    MartSuite(
        name="pipeline.fct_opportunities",
        mart="fct_opportunities",
        description=(
            "Stages, outcomes, amounts and dates are consistent: closed ones have a close "
            "date, won ones a positive amount (a null fails), nothing closes before it opens "
            "or is dated after the as-of date. The build quarantines records that break "
            "these (fct_quarantined_records), so this suite sees clean data."
        ),
        query=OPPORTUNITIES_QUERY,
        key=("opportunity_id", "source_system", "stage_key"),
        expectations=opportunity_expectations,
    ),
    MartSuite(
        name="pipeline.pipeline_reconciliation",
        mart="fct_opportunities",
        description=(
            "Opportunities and pipeline amount in the mart = in staging less the "
            "quarantined records, per CRM."
        ),
        query=pipeline_reconciliation_query,
        key=("source_system",),
        expectations=pipeline_reconciliation_expectations,
    ),
    MartSuite(
        name="pipeline.fct_opportunity_stage_history",
        mart="fct_opportunity_stage_history",
        description="Stage visits are to opportunity or closed stages of the seed.",
        query=STAGE_HISTORY_QUERY,
        key=("opportunity_stage_visit_id", "opportunity_id", "stage_key"),
        expectations=stage_history_expectations,
    ),
    MartSuite(
        name="pipeline.fct_pipeline_snapshots_daily",
        mart="fct_pipeline_snapshots_daily",
        description="Open pipeline holds open stages, non-negative amounts, valid probabilities.",
        query=SNAPSHOTS_QUERY,
        key=("snapshot_date", "opportunity_id"),
        expectations=snapshot_expectations,
    ),
)
