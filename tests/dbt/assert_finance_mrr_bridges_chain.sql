{{ config(store_failures=true) }}

-- The MRR bridges of kpi_revenue_retention, which balance row by row (the model's
-- expression test), chain from month to month: each row (the company, each segment) starts
-- where the same row of the previous month ended; and the company's row is what its parts
-- hold: the segment rows add up to it, and its ending MRR is what fct_mrr_movements holds.
-- Returns one row per month, breakdown and segment that does not.

with

retention as (

    select * from {{ ref('kpi_revenue_retention') }}

),

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

numbered as (

    select
        *,
        {{ month_index('month_start') }} as month_number
    from retention

),

segments as (

    select
        month_start,
        sum(ending_mrr) as ending_mrr
    from retention
    where breakdown = 'segment'
    group by 1

),

facts as (

    select
        month_start,
        sum(ending_mrr_corporate) as ending_mrr
    from mrr_movements
    group by 1

),

checked as (

    select
        numbered.month_start,
        numbered.breakdown,
        numbered.segment,
        numbered.starting_mrr,
        numbered.ending_mrr,
        previous_month.ending_mrr as previous_ending_mrr,
        segments.ending_mrr as segments_ending_mrr,
        facts.ending_mrr as facts_ending_mrr
    from numbered
    left join numbered as previous_month
        on
            numbered.breakdown = previous_month.breakdown
            and coalesce(numbered.segment, '') = coalesce(previous_month.segment, '')
            and (numbered.segment is null) = (previous_month.segment is null)
            and numbered.month_number - 1 = previous_month.month_number
    left join segments
        on
            numbered.breakdown = 'company'
            and numbered.month_start = segments.month_start
    left join facts
        on
            numbered.breakdown = 'company'
            and numbered.month_start = facts.month_start

),

final as (

    select
        checked.*,
        {{ dbt.concat([
            "'MRR bridge of '",
            "breakdown",
            "' '",
            "coalesce(segment, '')",
            "' in '",
            dbt.safe_cast("month_start", dbt.type_string()),
            "' does not chain: starting '",
            dbt.safe_cast("starting_mrr", dbt.type_string()),
            "', ending '",
            dbt.safe_cast("ending_mrr", dbt.type_string()),
            "', previous ending '",
            "coalesce(" ~ dbt.safe_cast("previous_ending_mrr", dbt.type_string()) ~ ", 'none')",
            "', segments '",
            "coalesce(" ~ dbt.safe_cast("segments_ending_mrr", dbt.type_string()) ~ ", 'none')",
            "', facts '",
            "coalesce(" ~ dbt.safe_cast("facts_ending_mrr", dbt.type_string()) ~ ", 'none')",
        ]) }} as problem
    from checked
    where
        (
            checked.previous_ending_mrr is not null
            and checked.previous_ending_mrr != checked.starting_mrr
        )
        or (
            checked.breakdown = 'company'
            and (
                coalesce(checked.segments_ending_mrr, -1) != checked.ending_mrr
                or coalesce(checked.facts_ending_mrr, -1) != checked.ending_mrr
            )
        )

)

select * from final
