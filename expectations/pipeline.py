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
    stages.is_won is not null as is_closed_by_stage,
    opportunities.created_date,
    opportunities.close_date,
    opportunities.closed_date,
    opportunities.cycle_days,
    opportunities.amount,
    opportunities.probability,
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
            description="Closed means a stage with an outcome (funnel_stages.outcome).",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="is_won",
            column_B="is_won_by_stage",
            description="Won means the stage whose outcome is won.",
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
        E.ExpectColumnValuesToBeBetween(
            column="amount",
            min_value=0,
            strict_min=True,
            row_condition=won,
            description="Won opportunities have a positive amount.",
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
        E.ExpectColumnValuesToBeBetween(
            column="probability", min_value=0, max_value=1, description="Probability in [0, 1]."
        ),
        E.ExpectColumnValuesToBeBetween(
            column="cycle_days", min_value=0, description="Cycle days are not negative."
        ),
    ]


def pipeline_reconciliation_query(definitions: Definitions) -> str:
    """One row per CRM: opportunities and amount in staging and in the mart."""
    staged = {
        "salesforce": "staging.stg_salesforce__opportunities",
        "hubspot": "staging.stg_hubspot__deals",
    }
    unions = "\n    union all\n    ".join(
        f"select '{system}' as source_system, count(*) as opportunities, sum(amount) as amount "
        f"from {relation}"
        for system, relation in staged.items()
        if definitions.has_relation(relation)
    )
    return f"""
with

staged as (
    {unions}
),

published as (
    select source_system, count(*) as opportunities, sum(amount) as amount
    from marts.fct_opportunities
    group by 1
)

select
    staged.source_system,
    staged.opportunities as staged_opportunities,
    coalesce(published.opportunities, 0) as mart_opportunities,
    staged.amount as staged_amount,
    published.amount as mart_amount
from staged
left join published
    on staged.source_system = published.source_system
"""


def pipeline_reconciliation_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnPairValuesToBeEqual(
            column_A="mart_opportunities",
            column_B="staged_opportunities",
            description="Every staged opportunity (deal) is in the mart once.",
        ),
        E.ExpectColumnPairValuesToBeEqual(
            column_A="mart_amount",
            column_B="staged_amount",
            ignore_row_if="both_values_are_missing",
            description="Sum of pipeline in the mart = sum in staging (CRM currency).",
        ),
    ]


STAGE_HISTORY_QUERY = """
select
    opportunity_stage_visit_id,
    opportunity_id,
    stage_key,
    entered_at,
    exited_at,
    days_in_stage
from marts.fct_opportunity_stage_history
"""


def stage_history_expectations(definitions: Definitions) -> list:
    return [
        E.ExpectColumnValuesToBeInSet(
            column="stage_key",
            value_set=definitions.values("funnel_stages", "stage_key", PIPELINE_STAGES),
            description="Every visit is to an opportunity or closed stage of the seed.",
        ),
        E.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="exited_at",
            column_B="entered_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
            description="A stage is left at or after it was entered.",
        ),
        E.ExpectColumnValuesToBeBetween(
            column="days_in_stage", min_value=0, description="Days in stage are not negative."
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
            "date, won ones a positive amount, nothing closes before it opens or is dated "
            "after the as-of date."
        ),
        query=OPPORTUNITIES_QUERY,
        key=("opportunity_id", "source_system", "stage_key"),
        expectations=opportunity_expectations,
    ),
    MartSuite(
        name="pipeline.pipeline_reconciliation",
        mart="fct_opportunities",
        description="Opportunities and pipeline amount in the mart = in staging, per CRM.",
        query=pipeline_reconciliation_query,
        key=("source_system",),
        expectations=pipeline_reconciliation_expectations,
    ),
    MartSuite(
        name="pipeline.fct_opportunity_stage_history",
        mart="fct_opportunity_stage_history",
        description="Stage visits are to defined stages and take non-negative time.",
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
