-- The team credited with each channel, read from the lead_source_channels seed (source ->
-- channel -> team), the one place that rule is written. A channel maps to one team
-- (tests/dbt/assert_channels_map_to_one_team.sql).

with

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

final as (

    select distinct
        channel,
        team as channel_team
    from lead_source_channels
    where channel is not null

)

select * from final
