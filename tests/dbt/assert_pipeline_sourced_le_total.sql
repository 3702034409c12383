{{ config(store_failures=true) }}

-- Marketing-sourced pipeline never exceeds total pipeline, by count and by amount, per
-- month the opportunities were created in (and so overall). Returns each failing month.

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

monthly as (

    select
        {{ dbt.date_trunc('month', 'created_date') }} as created_month,
        count(*) as opportunities_count,
        sum(case when is_marketing_sourced then 1 else 0 end) as sourced_count,
        coalesce(sum(amount_corporate), 0) as pipeline_amount,
        coalesce(
            sum(case when is_marketing_sourced then amount_corporate end), 0
        ) as sourced_amount
    from opportunities
    group by 1

),

final as (

    select
        *,
        {{ dbt.concat([
            "'marketing-sourced pipeline exceeds total in '",
            dbt.safe_cast("created_month", dbt.type_string()),
        ]) }} as problem
    from monthly
    where
        sourced_count > opportunities_count
        or sourced_amount > pipeline_amount

)

select * from final
