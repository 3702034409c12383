{{ config(store_failures=true) }}

-- Gross revenue retention never exceeds 1 (expansion never counts) and never exceeds net
-- revenue retention; a cohort's retained MRR is at most its starting MRR. Returns the
-- offending rows of kpi_revenue_retention.

with

retention as (

    select * from {{ ref('kpi_revenue_retention') }}

),

final as (

    select
        month_start,
        breakdown,
        segment,
        cohort_starting_mrr,
        cohort_retained_mrr,
        net_revenue_retention,
        gross_revenue_retention,
        {{ dbt.concat([
            "'GRR of '",
            dbt.safe_cast("month_start", dbt.type_string()),
            "' is '",
            dbt.safe_cast("gross_revenue_retention", dbt.type_string()),
            "' (NRR '",
            dbt.safe_cast("net_revenue_retention", dbt.type_string()),
            "')'",
        ]) }} as problem
    from retention
    where
        gross_revenue_retention > 1
        or gross_revenue_retention > net_revenue_retention
        or cohort_retained_mrr > cohort_starting_mrr

)

select * from final
