{{
    config(
        enabled=var('marketing_enabled', true),
        post_hook="{{ remove_emptied_days(
            'occurred_date', ref('stg_marketing__touchpoints'), 'occurred_at'
        ) }}",
    )
}}

-- Marketing touchpoints, resolved to persons: a touch carries the person's email, or only a
-- cookie (anonymous_id) that the marketing platform later identified (identity table).
-- Emails are matched through the same keyed pseudonym as int_person_identities (macro
-- pseudonym), so no email leaves staging. Touches of visitors who never identified belong
-- to nobody: they are kept with a null person_id, so touch counts and channel volumes are
-- complete. A touch that names no campaign gets the Salesforce campaign carrying its
-- utm_campaign (int_campaign_utms).
--
-- Incremental by day (materialization and strategy per engine in dbt_project.yml): a run
-- rebuilds whole the days whose touches in stg_marketing__touchpoints differ from the ones
-- it was built from (new, gone, moved, delivered again or changed in place: per day, the
-- count and the bit_xor of the staged touches' _sros_row_hash, macro differing_days), and
-- the days holding a touch whose
-- resolution has changed since it was built: its cookie identified, its email now another
-- person's or no one's, its touch type or channel mapped differently in the seeds, its
-- utm_campaign now another campaign's. A full refresh rebuilds every day. A day whose every
-- touch is gone has no new rows to replace it: the post-hook removes it (macro
-- remove_emptied_days).

with

touchpoints as (

    select * from {{ ref('stg_marketing__touchpoints') }}

),

identities as (

    select * from {{ ref('stg_marketing__identities') }}

),

touch_types as (

    select * from {{ ref('touch_types') }}

),

channel_teams as (

    select * from {{ ref('int_channel_teams') }}

),

{% if var('salesforce_enabled', true) %}
campaign_utms as (

    select * from {{ ref('int_campaign_utms') }}

),
{% endif %}

person_emails as (

    select distinct
        email_hash,
        person_id
    from {{ ref('int_person_identities') }}
    where email_hash is not null

),

identity_emails as (

    -- one row per identified cookie (anonymous_id is the identity table's key)
    select
        anonymous_id,
        cast({{ pseudonym('email') }} as {{ dbt.type_string() }}) as email_hash
    from identities

),

identity_persons as (

    -- each identified cookie with the person its email belongs to, if any
    select
        identity_emails.anonymous_id,
        person_emails.person_id
    from identity_emails
    left join person_emails
        on identity_emails.email_hash = person_emails.email_hash

),

{% if is_incremental() %}
changed as (

    -- staging itself, not the touchpoints CTE: a CTE read twice is materialised whole (7.7M
    -- touches at 1M leads), which took this run from 5 s to 12-20 s
    {{ differing_days(ref('stg_marketing__touchpoints'), 'occurred_date', ['_sros_row_hash']) }}

),

resolved_again as (

    -- touches already built whose person, seed mapping or channel team would differ now
    select loaded.occurred_date
    from {{ this }} as loaded
    left join person_emails
        on loaded.touch_email_hash = person_emails.email_hash
    left join identity_persons
        on loaded.anonymous_id = identity_persons.anonymous_id
    left join touch_types
        on loaded.touch_type = touch_types.touch_type
    left join channel_teams
        on loaded.channel = channel_teams.channel
    {% if var('salesforce_enabled', true) -%}
    left join campaign_utms
        on loaded.utm_campaign = campaign_utms.utm_campaign
    {%- endif %}
    where
        -- the person as touchpoints_with_email resolves it below
        loaded.person_id is distinct from (
            case
                when loaded.touch_email_hash is not null then person_emails.person_id
                else identity_persons.person_id
            end
        )
        or loaded.intent_level is distinct from touch_types.intent_level
        or loaded.score_points is distinct from touch_types.score_points
        or loaded.is_attribution_touch
        <> coalesce(touch_types.is_attribution_touch, false)
        or loaded.channel_team is distinct from channel_teams.channel_team
        {% if var('salesforce_enabled', true) -%}
        or (
            loaded.is_campaign_by_utm
            and loaded.campaign_id is distinct from campaign_utms.campaign_id
        )
        {%- endif %}

),

days_to_rebuild as (

    select changed_date as occurred_date from changed
    union
    select occurred_date from resolved_again

),

rebuilt as (

    select touchpoints.*
    from touchpoints
    inner join days_to_rebuild
        on touchpoints.occurred_date = days_to_rebuild.occurred_date

),
{%- set emails_source = 'rebuilt' %}
{% else %}
rebuilt as (

    select * from touchpoints

),
{#- the distinct emails from staging itself, not from rebuilt: a CTE read twice is
    materialised whole, every touch with every column (7.7M at 1M leads, 77M at 10M) #}
{%- set emails_source = ref('stg_marketing__touchpoints') %}
{% endif %}

touch_emails as (

    -- each email once: its pseudonym (two SHA-256) costs more than the join back (at 1M
    -- leads, 5.3M touches carry 1.0M emails)
    select
        email,
        cast({{ pseudonym('email') }} as {{ dbt.type_string() }}) as touch_email_hash
    from (
        select distinct email
        from {{ emails_source }}
        where email is not null
    ) as distinct_emails

),

touch_email_persons as (

    -- each email with the person it belongs to, if any: the touches then join two narrow
    -- tables keyed by email and cookie, not a third keyed by the 64-character pseudonym
    -- (which made DuckDB spill every touch at a tenth of its memory bound)
    select
        touch_emails.email,
        touch_emails.touch_email_hash,
        person_emails.person_id
    from touch_emails
    left join person_emails
        on touch_emails.touch_email_hash = person_emails.email_hash

),

touchpoints_with_email as (

    select
        rebuilt.touchpoint_id,
        rebuilt.anonymous_id,
        rebuilt.occurred_at,
        rebuilt.occurred_date,
        rebuilt.touch_type,
        rebuilt.campaign_id,
        rebuilt.channel,
        rebuilt.utm_source,
        rebuilt.utm_medium,
        rebuilt.utm_campaign,
        rebuilt.email is null as is_identified_by_cookie,
        touch_email_persons.touch_email_hash,
        rebuilt._sros_row_hash,
        -- the touch's own email wins; the identity (unique per anonymous_id) fills in the rest
        case
            when touch_email_persons.touch_email_hash is not null
                then touch_email_persons.person_id
            else identity_persons.person_id
        end as person_id
    -- The join is on the cookie alone: an `email is null` condition in the ON clause would
    -- stop DuckDB from hashing the join and make it a nested loop (minutes at 100k leads).
    from rebuilt
    left join touch_email_persons
        on rebuilt.email = touch_email_persons.email
    left join identity_persons
        on rebuilt.anonymous_id = identity_persons.anonymous_id

),

final as (

    select
        touchpoints_with_email.touchpoint_id,
        touchpoints_with_email.person_id,
        touchpoints_with_email.occurred_at,
        touchpoints_with_email.touch_type,
        touch_types.intent_level,
        touch_types.score_points,
        coalesce(touch_types.is_attribution_touch, false) as is_attribution_touch,
        {% if var('salesforce_enabled', true) -%}
        coalesce(touchpoints_with_email.campaign_id, campaign_utms.campaign_id) as campaign_id,
        {%- else -%}
        touchpoints_with_email.campaign_id,
        {%- endif %}
        touchpoints_with_email.campaign_id is null as is_campaign_by_utm,
        touchpoints_with_email.utm_source,
        touchpoints_with_email.utm_medium,
        touchpoints_with_email.utm_campaign,
        touchpoints_with_email.channel,
        channel_teams.channel_team,
        touchpoints_with_email.person_id is not null as is_identified,
        (
            touchpoints_with_email.is_identified_by_cookie
            and touchpoints_with_email.person_id is not null
        ) as is_identified_by_cookie,
        -- what an incremental run compares to find touches resolved differently now
        touchpoints_with_email.anonymous_id,
        touchpoints_with_email.touch_email_hash,
        touchpoints_with_email._sros_row_hash,
        touchpoints_with_email.occurred_date
    from touchpoints_with_email
    left join touch_types
        on touchpoints_with_email.touch_type = touch_types.touch_type
    left join channel_teams
        on touchpoints_with_email.channel = channel_teams.channel
    {% if var('salesforce_enabled', true) -%}
    left join campaign_utms
        on touchpoints_with_email.utm_campaign = campaign_utms.utm_campaign
    {%- endif %}

)

select * from final
