{{ config(store_failures=true) }}

-- A channel is credited to one team: lead_source_channels must not map the same channel to
-- two teams (touchpoints and spend read the channel's team through int_channel_teams).
-- Returns each channel mapped to more than one team.

with

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

final as (

    select
        channel,
        count(distinct team) as teams_count,
        {{ dbt.concat(["'channel mapped to several teams: '", "channel"]) }} as problem
    from lead_source_channels
    group by 1
    having count(distinct team) > 1

)

select * from final
