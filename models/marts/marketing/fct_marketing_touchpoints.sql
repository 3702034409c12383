{{ config(enabled=var('marketing_enabled', true)) }}

-- One row per marketing touch, resolved to person (anonymous touches stitched once the
-- visitor identified), the person's account, campaign and channel, and whether it is the
-- person's lead-creation touch (int_lead_creation_touches). Touches of visitors who never
-- identified stay, with a null person. No PII: ids only (person_id is a hash).

with

person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

lead_creation_touches as (

    select * from {{ ref('int_lead_creation_touches') }}

),

final as (

    select
        person_touchpoints.touchpoint_id,
        person_touchpoints.person_id,
        persons.account_id,
        person_touchpoints.occurred_at,
        person_touchpoints.occurred_date,
        person_touchpoints.touch_type,
        person_touchpoints.intent_level,
        person_touchpoints.is_attribution_touch,
        person_touchpoints.channel,
        person_touchpoints.channel_team,
        person_touchpoints.campaign_id,
        person_touchpoints.utm_source,
        person_touchpoints.utm_medium,
        person_touchpoints.utm_campaign,
        person_touchpoints.is_identified,
        person_touchpoints.is_identified_by_cookie,
        lead_creation_touches.touchpoint_id is not null as is_lead_creation_touch
    from person_touchpoints
    left join persons
        on person_touchpoints.person_id = persons.person_id
    left join lead_creation_touches
        on person_touchpoints.touchpoint_id = lead_creation_touches.touchpoint_id

)

select * from final
