{{ config(enabled=var('marketing_enabled', true)) }}

-- Marketing touchpoints, resolved to persons: a touch carries the person's email, or only a
-- cookie (anonymous_id) that the marketing platform later identified (identity table).
-- Emails are matched through the same keyed pseudonym as int_person_identities (macro
-- pseudonym), so no email leaves staging. Touches of visitors who never identified belong
-- to nobody: they are kept with a null person_id, so touch counts and channel volumes are
-- complete.

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

person_emails as (

    select distinct
        email_hash,
        person_id
    from {{ ref('int_person_identities') }}
    where email_hash is not null

),

touchpoints_with_email as (

    select
        touchpoints.touchpoint_id,
        touchpoints.occurred_at,
        touchpoints.touch_type,
        touchpoints.campaign_id,
        touchpoints.channel,
        touchpoints.utm_source,
        touchpoints.utm_medium,
        touchpoints.utm_campaign,
        touchpoints.email is null as is_identified_by_cookie,
        cast(
            {{ pseudonym('coalesce(touchpoints.email, identities.email)') }}
            as {{ dbt.type_string() }}
        ) as email_hash
    -- The touch's own email wins; the identity (unique per anonymous_id) fills in the rest.
    -- The join is on the cookie alone: an `email is null` condition in the ON clause would
    -- stop DuckDB from hashing the join and make it a nested loop (minutes at 100k leads).
    from touchpoints
    left join identities
        on touchpoints.anonymous_id = identities.anonymous_id

),

final as (

    select
        touchpoints_with_email.touchpoint_id,
        person_emails.person_id,
        touchpoints_with_email.occurred_at,
        touchpoints_with_email.touch_type,
        touch_types.intent_level,
        touch_types.score_points,
        coalesce(touch_types.is_attribution_touch, false) as is_attribution_touch,
        touchpoints_with_email.campaign_id,
        touchpoints_with_email.utm_source,
        touchpoints_with_email.utm_medium,
        touchpoints_with_email.utm_campaign,
        touchpoints_with_email.channel,
        channel_teams.channel_team,
        person_emails.person_id is not null as is_identified,
        (
            touchpoints_with_email.is_identified_by_cookie
            and person_emails.person_id is not null
        ) as is_identified_by_cookie
    from touchpoints_with_email
    left join person_emails
        on touchpoints_with_email.email_hash = person_emails.email_hash
    left join touch_types
        on touchpoints_with_email.touch_type = touch_types.touch_type
    left join channel_teams
        on touchpoints_with_email.channel = channel_teams.channel

)

select * from final
