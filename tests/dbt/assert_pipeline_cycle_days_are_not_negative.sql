{{ config(store_failures=true) }}

-- A sales cycle is dbt.datediff(created, closed): second minus first. A negative cycle is
-- a bug (arguments swapped) or a close date before the creation, never data to average.
-- A CRM record that closes before it was created or without a close date is quarantined
-- (int_opportunities_quarantined) and never reaches fct_opportunities, so a row here is a
-- bug in the models. Returns each closed opportunity with a negative or missing cycle.

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

final as (

    select
        opportunity_id,
        source_system,
        created_date,
        closed_date,
        cycle_days,
        {{ dbt.concat([
            "'opportunity '",
            "opportunity_id",
            "' has cycle_days '",
            "coalesce(" ~ dbt.safe_cast("cycle_days", dbt.type_string()) ~ ", 'null')",
        ]) }} as problem
    from opportunities
    where
        is_closed
        and (cycle_days is null or cycle_days < 0)

)

select * from final
