{{ config(store_failures=true, enabled=var('marketing_enabled', true)) }}

-- Every opportunity has, for every attribution model in force on its creation date, credits
-- summing to 1 (the unattributed row included). Returns each opportunity and model whose
-- credits are missing or do not sum to 1.

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

attribution_models as (

    select * from {{ ref('attribution_models') }}

),

attribution_touches as (

    select * from {{ ref('fct_attribution_touches') }}

),

expected as (

    select
        opportunities.source_system,
        opportunities.opportunity_id,
        attribution_models.attribution_model
    from opportunities
    cross join attribution_models
    where
        opportunities.created_date >= attribution_models.valid_from
        and opportunities.created_date < attribution_models.valid_to

),

credited as (

    select
        source_system,
        opportunity_id,
        attribution_model,
        sum(credit) as credits
    from attribution_touches
    group by 1, 2, 3

),

final as (

    select
        expected.source_system,
        expected.opportunity_id,
        expected.attribution_model,
        credited.credits,
        {{ dbt.concat([
            "'credits of opportunity '", "expected.opportunity_id", "' under '",
            "expected.attribution_model", "' do not sum to 1'",
        ]) }} as problem
    from expected
    left join credited
        on
            expected.source_system = credited.source_system
            and expected.opportunity_id = credited.opportunity_id
            and expected.attribution_model = credited.attribution_model
    where
        credited.credits is null
        or abs(credited.credits - 1) > 0.000001

)

select * from final
