{{ config(enabled=var("salesforce_enabled", true)) }}

-- Campaign channel: the channel most of the campaign's marketing touchpoints carry (matched
-- on campaign id or utm_campaign); failing that, the channel of the lead source that bears
-- the campaign type's name (lead_source_channels); else null.

with

lead_source_channels as (

    select * from {{ ref('lead_source_channels') }}

),

campaigns as (

    select * from {{ ref('stg_salesforce__campaigns') }}

),

{% if var('marketing_enabled', true) %}
touchpoints as (

    select * from {{ ref('stg_marketing__touchpoints') }}

),

campaign_touches as (

    -- A touch belongs to the campaign it names, or, naming none, to the campaigns whose
    -- utm_campaign it carries. Two equi-joins rather than one join on an OR, which DuckDB
    -- could only run as a nested loop over every campaign and touch.
    select
        campaigns.campaign_id,
        touchpoints.channel
    from campaigns
    inner join touchpoints
        on campaigns.campaign_id = touchpoints.campaign_id

    union all

    select
        campaigns.campaign_id,
        touchpoints.channel
    from campaigns
    inner join touchpoints
        on campaigns.utm_campaign = touchpoints.utm_campaign
    where touchpoints.campaign_id is null

),

campaign_touch_channels as (

    select
        campaign_id,
        channel,
        count(*) as touchpoints_count
    from campaign_touches
    where channel is not null
    group by 1, 2

),

campaign_main_channels as (

    select
        campaign_id,
        channel,
        touchpoints_count
    from (
        select
            campaign_id,
            channel,
            touchpoints_count,
            row_number() over (
                partition by campaign_id
                order by touchpoints_count desc, channel asc
            ) as channel_rank
        from campaign_touch_channels
    ) as ranked_channels
    where channel_rank = 1

),
{% endif %}

final as (

    select
        campaigns.campaign_id,
        campaigns.source_system,
        campaigns.campaign_name,
        campaigns.parent_campaign_id,
        campaigns.campaign_type,
        campaigns.campaign_status,
        campaigns.utm_campaign,
        campaigns.experiment_id,
        campaigns.experiment_arm,
        {% if var('marketing_enabled', true) -%}
        coalesce(
            campaign_main_channels.channel, lead_source_channels.channel
        ) as channel,
        case
            when campaign_main_channels.channel is not null then 'touchpoints'
            when lead_source_channels.channel is not null then 'campaign_type'
        end as channel_derived_from,
        {%- else -%}
        lead_source_channels.channel,
        case
            when lead_source_channels.channel is not null then 'campaign_type'
        end as channel_derived_from,
        {%- endif %}
        cast(campaigns.budgeted_cost as decimal(18, 2)) as budgeted_cost,
        cast(campaigns.actual_cost as decimal(18, 2)) as actual_cost,
        campaigns.cost_currency_code,
        campaigns.is_active,
        campaigns.start_date,
        campaigns.end_date,
        campaigns.created_at
    from campaigns
    {% if var('marketing_enabled', true) -%}
    left join campaign_main_channels
        on campaigns.campaign_id = campaign_main_channels.campaign_id
    {%- endif %}
    left join lead_source_channels
        on
            campaigns.source_system = lead_source_channels.source_system
            and campaigns.campaign_type = lead_source_channels.lead_source

)

select * from final
