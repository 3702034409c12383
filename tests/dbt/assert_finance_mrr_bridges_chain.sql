{{ config(store_failures=true) }}

-- The MRR bridges of kpi_revenue_retention, which balance row by row (the model's
-- expression test), chain from month to month: the company's month starts where the
-- previous one ended, the company's ending MRR is what fct_mrr_movements holds, and the
-- segment rows add up to the company row. Returns one row per month that does not.

with

retention as (

    select * from {{ ref('kpi_revenue_retention') }}

),

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

company as (

    select
        *,
        {{ month_index('month_start') }} as month_number
    from retention
    where breakdown = 'company'

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
        company.month_start,
        company.starting_mrr,
        company.ending_mrr,
        previous_month.ending_mrr as previous_ending_mrr,
        segments.ending_mrr as segments_ending_mrr,
        facts.ending_mrr as facts_ending_mrr
    from company
    left join company as previous_month
        on company.month_number - 1 = previous_month.month_number
    left join segments
        on company.month_start = segments.month_start
    left join facts
        on company.month_start = facts.month_start

),

final as (

    select
        checked.*,
        {{ dbt.concat([
            "'MRR bridge of '",
            dbt.safe_cast("month_start", dbt.type_string()),
            "' does not chain: starting '",
            dbt.safe_cast("starting_mrr", dbt.type_string()),
            "', ending '",
            dbt.safe_cast("ending_mrr", dbt.type_string()),
            "', previous ending '",
            dbt.safe_cast("previous_ending_mrr", dbt.type_string()),
            "', segments '",
            dbt.safe_cast("segments_ending_mrr", dbt.type_string()),
            "', facts '",
            dbt.safe_cast("facts_ending_mrr", dbt.type_string()),
        ]) }} as problem
    from checked
    where
        (
            checked.previous_ending_mrr is not null
            and checked.previous_ending_mrr != checked.starting_mrr
        )
        or coalesce(checked.segments_ending_mrr, -1) != checked.ending_mrr
        or coalesce(checked.facts_ending_mrr, -1) != checked.ending_mrr

)

select * from final
