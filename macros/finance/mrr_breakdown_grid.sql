{% macro mrr_breakdown_grid(mrr_movements) -%}
    {#- CTEs shared by the unit-economics marts that report for the company and by segment:
        account_months (fct_mrr_movements rows with their month_number),
        account_months_by_breakdown (each account-month once for the company and once for its
        segment), months, segments, and keys (every month for the company and for every
        segment). mrr_movements names the CTE that imports fct_mrr_movements. -#}
account_months as (

    select
        *,
        {{ month_index('month_start') }} as month_number
    from {{ mrr_movements }}

),

account_months_by_breakdown as (

    -- each account-month once for the company and once for its segment, so every join
    -- below is on equalities
    select
        'company' as breakdown,
        cast(null as {{ dbt.type_string() }}) as breakdown_segment,
        account_months.*
    from account_months
    union all
    select
        'segment' as breakdown,
        account_months.segment as breakdown_segment,
        account_months.*
    from account_months

),

months as (

    select distinct
        month_start,
        month_number,
        as_of_date
    from account_months

),

segments as (

    select distinct segment from account_months

),

keys as (

    select
        months.month_start,
        months.month_number,
        months.as_of_date,
        'company' as breakdown,
        cast(null as {{ dbt.type_string() }}) as segment
    from months
    union all
    select
        months.month_start,
        months.month_number,
        months.as_of_date,
        'segment' as breakdown,
        segments.segment
    from months
    cross join segments

),
{%- endmacro %}
