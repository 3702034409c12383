{{ config(enabled=var('marketing_enabled', true)) }}

-- Multi-touch attribution: one row per opportunity x touch of its path x attribution model
-- (attribution_models seed), plus one explicit unattributed row (credit 1) for an
-- opportunity and model whose path carries no credit, so credits sum to 1 per opportunity
-- and model and attributed pipeline to total pipeline. The credits are computed in
-- int_attribution_credits; here the opportunity's and the touch's columns join on.

with

attribution_credits as (

    select * from {{ ref('int_attribution_credits') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

opportunity_persons as (

    select * from {{ ref('int_opportunity_persons') }}

),

person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}
    where is_attribution_touch

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

credits_described as (

    select
        attribution_credits.source_system,
        attribution_credits.opportunity_id,
        attribution_credits.attribution_model,
        attribution_credits.weighting,
        attribution_credits.touchpoint_id,
        person_touchpoints.person_id,
        opportunity_persons.is_originating_person,
        person_touchpoints.occurred_at,
        person_touchpoints.touch_type,
        person_touchpoints.channel,
        person_touchpoints.channel_team,
        person_touchpoints.campaign_id,
        attribution_credits.is_unattributed,
        attribution_credits.path_touch_number,
        attribution_credits.path_touches_count,
        attribution_credits.is_first_touch,
        attribution_credits.is_lead_creation_touch,
        attribution_credits.is_opportunity_creation_touch,
        attribution_credits.is_closed_won_touch,
        attribution_credits.touch_age_days,
        attribution_credits.raw_weight,
        attribution_credits.credit,
        opportunities.account_id,
        opportunities.created_at,
        opportunities.created_date,
        opportunities.closed_date,
        opportunities.status,
        opportunities.is_won,
        attribution_credits.amount_corporate,
        attribution_credits.attributed_amount_corporate,
        as_of.as_of_date
    from attribution_credits
    inner join opportunities
        on
            attribution_credits.source_system = opportunities.source_system
            and attribution_credits.opportunity_id = opportunities.opportunity_id
    -- the unattributed rows have no touch
    left join person_touchpoints
        on attribution_credits.touchpoint_id = person_touchpoints.touchpoint_id
    left join opportunity_persons
        on
            attribution_credits.source_system = opportunity_persons.source_system
            and attribution_credits.opportunity_id = opportunity_persons.opportunity_id
            and person_touchpoints.person_id = opportunity_persons.person_id
    cross join as_of

),

final as (

    select
        cast({{ dbt.hash(dbt.concat([
            "source_system", "'|'", "opportunity_id", "'|'", "attribution_model", "'|'",
            "coalesce(touchpoint_id, 'unattributed')",
        ])) }} as {{ dbt.type_string() }}) as attribution_id,
        source_system,
        opportunity_id,
        attribution_model,
        weighting,
        touchpoint_id,
        person_id,
        is_originating_person,
        occurred_at,
        touch_type,
        channel,
        channel_team,
        campaign_id,
        is_unattributed,
        path_touch_number,
        path_touches_count,
        is_first_touch,
        is_lead_creation_touch,
        is_opportunity_creation_touch,
        is_closed_won_touch,
        touch_age_days,
        raw_weight,
        credit,
        account_id,
        created_at as opportunity_created_at,
        created_date as opportunity_created_date,
        closed_date as opportunity_closed_date,
        status as opportunity_status,
        is_won,
        amount_corporate,
        attributed_amount_corporate,
        as_of_date
    from credits_described

)

select * from final
