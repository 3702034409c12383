{{
    config(
        enabled=var('marketing_enabled', true),
        post_hook="{{ remove_emptied_days(
            'occurred_date', ref('int_person_touchpoints'), 'occurred_at'
        ) }}",
    )
}}

-- One row per marketing touch, resolved to person (anonymous touches stitched once the
-- visitor identified), the person's account, campaign and channel, and whether it is the
-- person's lead-creation touch (int_lead_creation_touches). Touches of visitors who never
-- identified stay, with a null person. No PII: ids only (person_id is a hash).
--
-- Incremental by day (materialization and strategy per engine in dbt_project.yml): a run
-- rebuilds whole the days whose rows differ now from the table's in any column (macro
-- differing_days: per day, a count and a hash of the rows on each side), so a new touch, a
-- person's new account or a lead-creation touch that moved rebuilds the days it touches and
-- nothing else. A day whose every touch is gone has no new rows to replace it: the
-- post-hook removes it (macro remove_emptied_days). A full refresh rebuilds every day.

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

resolved as (

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

),

{% if is_incremental() %}
days_to_rebuild as (

    {{ differing_days('resolved', 'occurred_date') }}

),

final as (

    select resolved.*
    from resolved
    inner join days_to_rebuild
        on resolved.occurred_date = days_to_rebuild.changed_date

)
{% else %}
final as (

    select * from resolved

)
{% endif %}

select * from final
