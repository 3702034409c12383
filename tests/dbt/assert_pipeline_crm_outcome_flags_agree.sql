{{ config(store_failures=true) }}

-- The stage mapping (crm_stage_mappings, funnel_stages stage_group and is_won) and the CRM
-- agree on each opportunity's outcome: Salesforce is_closed / is_won, HubSpot's closed-won
-- stage. Returns each opportunity where they differ (a mapping, a funnel_stages is_won or
-- a CRM stage setting is wrong).

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

fct_opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

final as (

    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.crm_stage_value,
        opportunities.crm_is_closed,
        opportunities.crm_is_won,
        fct_opportunities.is_closed,
        fct_opportunities.is_won,
        {{ dbt.concat([
            "'outcome of '",
            "opportunities.source_system",
            "' opportunity '",
            "opportunities.opportunity_id",
            "' in stage '",
            "opportunities.crm_stage_value",
            "' differs between the CRM flags and the stage mapping'",
        ]) }} as problem
    from opportunities
    inner join fct_opportunities
        on
            opportunities.source_system = fct_opportunities.source_system
            and opportunities.opportunity_id = fct_opportunities.opportunity_id
    where
        (
            opportunities.crm_is_closed is not null
            and opportunities.crm_is_closed != fct_opportunities.is_closed
        )
        or (
            opportunities.crm_is_won is not null
            and opportunities.crm_is_won != fct_opportunities.is_won
        )

)

select * from final
