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

touches_before_creation as (

    -- the person's attribution touches at or before the person's first CRM record was
    -- created, latest first (ranked among those only: a window over every touch would sort
    -- the millions of anonymous ones as one partition)
    select
        touchpoint_id,
        row_number() over (
            partition by person_id
            order by occurred_at desc, touchpoint_id desc
        ) as creation_recency
    from touches_with_person
    where is_before_person_creation

),

flagged as (

    -- the lead-creation touch: the latest of them
    select
        touches_with_person.*,
        touches_before_creation.touchpoint_id is not null as is_lead_creation_touch
    from touches_with_person
    left join touches_before_creation
        on
            touches_with_person.touchpoint_id = touches_before_creation.touchpoint_id
            and touches_before_creation.creation_recency = 1

),

final as (

    select
        flagged.touchpoint_id,
        flagged.person_id,
        flagged.account_id,
        flagged.occurred_at,
        cast(flagged.occurred_at as date) as occurred_date,
        flagged.touch_type,
        flagged.intent_level,
        flagged.is_attribution_touch,
        flagged.channel,
        flagged.channel_team,
        {% if var('salesforce_enabled', true) -%}
        coalesce(flagged.campaign_id, campaign_utms.campaign_id) as campaign_id,
        {%- else -%}
        flagged.campaign_id,
        {%- endif %}
        flagged.utm_source,
        flagged.utm_medium,
        flagged.utm_campaign,
        flagged.is_identified,
        flagged.is_identified_by_cookie,
        flagged.is_lead_creation_touch
    from flagged
    {% if var('salesforce_enabled', true) -%}
    left join campaign_utms
        on flagged.utm_campaign = campaign_utms.utm_campaign
    {%- endif %}

)

select * from final
