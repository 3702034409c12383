{{ config(enabled=var('marketing_enabled', true)) }}

-- One row per marketing touch, resolved to person (anonymous touches stitched once the
-- visitor identified), the person's account, campaign and channel. Touches of visitors who
-- never identified stay, with a null person. No PII: ids only (person_id is a hash).

with

person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

{% if var('salesforce_enabled', true) %}
campaign_utms as (

    select * from {{ ref('int_campaign_utms') }}

),
{% endif %}

touches_with_person as (

    select
        person_touchpoints.*,
        persons.account_id,
        persons.first_created_at as person_created_at,
        person_touchpoints.is_attribution_touch
        and person_touchpoints.occurred_at <= persons.first_created_at
            as is_before_person_creation
    from person_touchpoints
    left join persons
        on person_touchpoints.person_id = persons.person_id

),

ranked as (

    -- the lead-creation touch: the person's latest attribution touch at or before the
    -- person's first CRM record was created
    select
        touches_with_person.*,
        case
            when touches_with_person.is_before_person_creation
                then row_number() over (
                    partition by
                        touches_with_person.person_id,
                        touches_with_person.is_before_person_creation
                    order by
                        touches_with_person.occurred_at desc,
                        touches_with_person.touchpoint_id desc
                )
        end as creation_recency
    from touches_with_person

),

final as (

    select
        ranked.touchpoint_id,
        ranked.person_id,
        ranked.account_id,
        ranked.occurred_at,
        cast(ranked.occurred_at as date) as occurred_date,
        ranked.touch_type,
        ranked.intent_level,
        ranked.is_attribution_touch,
        ranked.channel,
        ranked.channel_team,
        {% if var('salesforce_enabled', true) -%}
        coalesce(ranked.campaign_id, campaign_utms.campaign_id) as campaign_id,
        {%- else -%}
        ranked.campaign_id,
        {%- endif %}
        ranked.utm_source,
        ranked.utm_medium,
        ranked.utm_campaign,
        ranked.is_identified,
        ranked.is_identified_by_cookie,
        coalesce(ranked.creation_recency = 1, false) as is_lead_creation_touch
    from ranked
    {% if var('salesforce_enabled', true) -%}
    left join campaign_utms
        on ranked.utm_campaign = campaign_utms.utm_campaign
    {%- endif %}

)

select * from final
