{{ config(enabled=var('ads_enabled', true)) }}

-- Ad platform spend per calendar month, platform and utm_campaign, in the corporate
-- currency (the dated rate in force on each spend day), with the channel of the platform
-- (ad_platform_channels seed), the channel's team (int_channel_teams) and the campaign the
-- utm_campaign stands for (int_campaign_utms). Spend after the as-of date is left out.

with

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

ad_platform_channels as (

    select * from {{ ref('ad_platform_channels') }}

),

channel_teams as (

    select * from {{ ref('int_channel_teams') }}

),

{% if var('salesforce_enabled', true) %}
campaign_utms as (

    select * from {{ ref('int_campaign_utms') }}

),
{% endif %}

spend_converted as (

    select
        ad_spend.platform,
        ad_spend.utm_campaign,
        {{ dbt.date_trunc('month', 'ad_spend.spend_date') }} as month_start,
        {{ divide('ad_spend.spend_amount', 'conversion_rates.conversion_rate') }}
            as spend_amount_corporate,
        ad_spend.impressions,
        ad_spend.clicks
    from ad_spend
    cross join as_of
    left join conversion_rates
        on
            ad_spend.currency_code = conversion_rates.currency_code
            and ad_spend.spend_date >= conversion_rates.valid_from
            and ad_spend.spend_date < conversion_rates.valid_to
    where ad_spend.spend_date <= as_of.as_of_date

),

monthly as (

    select
        month_start,
        platform,
        utm_campaign,
        sum(spend_amount_corporate) as spend_amount_corporate,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        count(*) as spend_rows
    from spend_converted
    group by 1, 2, 3

),

final as (

    select
        cast(monthly.month_start as date) as month_start,
        monthly.platform,
        ad_platform_channels.channel,
        channel_teams.channel_team,
        monthly.utm_campaign,
        {% if var('salesforce_enabled', true) -%}
        campaign_utms.campaign_id,
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        {%- endif %}
        monthly.spend_amount_corporate,
        monthly.impressions,
        monthly.clicks,
        monthly.spend_rows
    from monthly
    left join ad_platform_channels
        on monthly.platform = ad_platform_channels.platform
    left join channel_teams
        on ad_platform_channels.channel = channel_teams.channel
    {% if var('salesforce_enabled', true) -%}
    left join campaign_utms
        on monthly.utm_campaign = campaign_utms.utm_campaign
    {%- endif %}

)

select * from final
