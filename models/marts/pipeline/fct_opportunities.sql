-- The stage, the reported amount and its conversion to the corporate currency come from
-- int_opportunities_converted (at the dated rate of the close date once closed, of the as-of
-- date while open; a lost opportunity carries its last open amount).
-- Sourced and influenced follow the marketing_credit_rules version in force on the day the
-- opportunity was created: sourced = its lead source's team is the rule's marketing team, or
-- its first qualifying touch's is (the earliest touch of its persons, int_opportunity_persons,
-- of an attribution touch type within the rule's lookback before its creation);
-- influenced = such a touch on a channel of that team fell within the rule's lookback before
-- its creation, or while it was open (up to its close date, or the as-of date while open).
-- Computed from intermediate models, so fct_opportunities never reads a mart that reads it.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

converted as (

    select * from {{ ref('int_opportunities_converted') }}

),

opportunity_versions as (

    select * from {{ ref('int_opportunity_versions') }}

),

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

person_identities as (

    select * from {{ ref('int_person_identities') }}

),

lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

marketing_credit_rules as (

    select * from {{ ref('marketing_credit_rules') }}

),

opportunity_persons as (

    select * from {{ ref('int_opportunity_persons') }}

),

{% if var('marketing_enabled', true) %}
person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),
{% endif %}

history_inferred as (

    -- opportunities the CRM gave no history for (int_opportunity_versions)
    select distinct
        source_system,
        opportunity_id
    from opportunity_versions
    where is_history_inferred

),

opportunity_credit_rules as (

    select
        converted.source_system,
        converted.opportunity_id,
        marketing_credit_rules.marketing_team,
        marketing_credit_rules.influence_lookback_days
    from converted
    inner join marketing_credit_rules
        on
            converted.created_date >= marketing_credit_rules.valid_from
            and converted.created_date < marketing_credit_rules.valid_to

),

{% if var('marketing_enabled', true) %}
opportunity_person_windows as (

    -- each person of the opportunity with the days and the team whose touches influence
    -- it; grouped, so the touch join below is one hash join on the person: joined to the
    -- rules separately, DuckDB paired every touch with every opportunity on the team
    select
        opportunity_persons.source_system,
        opportunity_persons.opportunity_id,
        opportunity_persons.person_id,
        opportunity_credit_rules.marketing_team,
        converted.created_at,
        {{ dbt.dateadd(
            'day',
            '-1 * opportunity_credit_rules.influence_lookback_days',
            'converted.created_date'
        ) }} as window_start_date,
        case
            when converted.is_closed then converted.close_date
            else as_of.as_of_date
        end as window_end_date
    from converted
    cross join as_of
    inner join opportunity_credit_rules
        on
            converted.source_system = opportunity_credit_rules.source_system
            and converted.opportunity_id = opportunity_credit_rules.opportunity_id
    inner join opportunity_persons
        on
            converted.source_system = opportunity_persons.source_system
            and converted.opportunity_id = opportunity_persons.opportunity_id
    group by 1, 2, 3, 4, 5, 6, 7

),

window_touches as (

    -- the attribution touches of the opportunity's persons inside its window, every team's
    select
        opportunity_person_windows.source_system,
        opportunity_person_windows.opportunity_id,
        opportunity_person_windows.marketing_team,
        opportunity_person_windows.created_at,
        person_touchpoints.touchpoint_id,
        person_touchpoints.occurred_at,
        person_touchpoints.channel,
        person_touchpoints.channel_team
    from opportunity_person_windows
    inner join person_touchpoints
        on opportunity_person_windows.person_id = person_touchpoints.person_id
    where
        person_touchpoints.is_attribution_touch
        and cast(person_touchpoints.occurred_at as date)
        >= opportunity_person_windows.window_start_date
        and cast(person_touchpoints.occurred_at as date)
        <= opportunity_person_windows.window_end_date

),

influenced_opportunities as (

    select
        source_system,
        opportunity_id,
        count(*) as influencing_touches_count
    from window_touches
    where channel_team = marketing_team
    group by 1, 2

),

first_qualifying_touches as (

    -- the earliest of those touches at or before the opportunity's creation
    select
        source_system,
        opportunity_id,
        channel,
        channel_team,
        row_number() over (
            partition by source_system, opportunity_id
            order by occurred_at, touchpoint_id
        ) as touch_rank
    from window_touches
    where occurred_at <= created_at

),
{% endif %}

originating_handoffs as (

    -- the latest handoff of the originating person at or before the opportunity's creation
    select
        converted.source_system,
        converted.opportunity_id,
        person_identities.person_id,
        lead_handoffs.handoff_id,
        row_number() over (
            partition by converted.source_system, converted.opportunity_id
            order by lead_handoffs.handed_at desc, lead_handoffs.handoff_id desc
        ) as handoff_recency
    from converted
    inner join person_identities
        on
            converted.source_system = person_identities.source_system
            and converted.originating_crm_object = person_identities.crm_object
            and converted.originating_crm_record_id = person_identities.crm_record_id
    left join lead_handoffs
        on
            person_identities.person_id = lead_handoffs.person_id
            and converted.created_at >= lead_handoffs.handed_at

),

final as (

    select
        converted.opportunity_id,
        converted.source_system,
        converted.account_id,
        converted.owner_user_id,
        converted.campaign_id,
        converted.opportunity_type,
        converted.crm_opportunity_type,
        accounts.segment,
        accounts.region,
        converted.originating_crm_object,
        converted.originating_crm_record_id,
        originating_handoffs.person_id as originating_person_id,
        originating_handoffs.handoff_id as originating_handoff_id,
        primary_persons.person_id as primary_person_id,
        converted.lead_source,
        lead_source_channels.channel as source_channel,
        lead_source_channels.team as source_team,
        {% if var('marketing_enabled', true) -%}
        first_qualifying_touches.channel as first_touch_channel,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as first_touch_channel,
        {%- endif %}
        -- sourced: the originating lead's source or the first qualifying touch is marketing's
        coalesce(
            lead_source_channels.team = opportunity_credit_rules.marketing_team, false
        )
        {%- if var('marketing_enabled', true) %}
        or coalesce(
            first_qualifying_touches.channel_team = opportunity_credit_rules.marketing_team,
            false
        )
        {%- endif %} as is_marketing_sourced,
        {% if var('marketing_enabled', true) -%}
        influenced_opportunities.opportunity_id is not null as is_marketing_influenced,
        {%- else -%}
        false as is_marketing_influenced,
        {%- endif %}
        converted.created_at,
        converted.created_date,
        converted.close_date,
        converted.closed_date,
        case
            when converted.is_closed
                then {{ dbt.datediff('converted.created_date', 'converted.close_date', 'day') }}
        end as cycle_days,
        case
            when converted.is_won then 'won'
            when converted.is_closed then 'lost'
            else 'open'
        end as status,
        converted.is_won,
        converted.is_closed,
        converted.stage_key,
        converted.stage_order,
        converted.crm_stage_value,
        history_inferred.opportunity_id is not null as is_history_inferred,
        converted.forecast_category,
        cast(converted.probability as double) as probability,
        cast(converted.reported_amount as decimal(18, 2)) as amount,
        cast(converted.amount as decimal(18, 2)) as crm_amount,
        converted.currency_code,
        converted.conversion_date,
        cast(converted.conversion_rate as double) as conversion_rate,
        converted.amount_corporate,
        {{ to_money('converted.amount_corporate * converted.probability') }}
            as weighted_amount_corporate,
        '{{ var("corporate_currency") }}' as corporate_currency_code
    from converted
    left join accounts
        on
            converted.source_system = accounts.source_system
            and converted.account_id = accounts.account_id
    left join lead_source_channels
        on
            converted.source_system = lead_source_channels.source_system
            and converted.lead_source = lead_source_channels.lead_source
    left join originating_handoffs
        on
            converted.source_system = originating_handoffs.source_system
            and converted.opportunity_id = originating_handoffs.opportunity_id
            and originating_handoffs.handoff_recency = 1
    left join opportunity_credit_rules
        on
            converted.source_system = opportunity_credit_rules.source_system
            and converted.opportunity_id = opportunity_credit_rules.opportunity_id
    left join opportunity_persons as primary_persons
        on
            converted.source_system = primary_persons.source_system
            and converted.opportunity_id = primary_persons.opportunity_id
            and primary_persons.is_primary_person
    left join history_inferred
        on
            converted.source_system = history_inferred.source_system
            and converted.opportunity_id = history_inferred.opportunity_id
    {% if var('marketing_enabled', true) -%}
    left join influenced_opportunities
        on
            converted.source_system = influenced_opportunities.source_system
            and converted.opportunity_id = influenced_opportunities.opportunity_id
    left join first_qualifying_touches
        on
            converted.source_system = first_qualifying_touches.source_system
            and converted.opportunity_id = first_qualifying_touches.opportunity_id
            and first_qualifying_touches.touch_rank = 1
    {%- endif %}

)

select * from final
