{{ config(enabled=var('ads_enabled', true)) }}

-- Ad spend per month, platform and utm_campaign in the corporate currency, with channel and
-- campaign (int_ad_spend_monthly), for BI and kpi_attribution_monthly.

with

ad_spend_monthly as (

    select * from {{ ref('int_ad_spend_monthly') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        ad_spend_monthly.month_start,
        ad_spend_monthly.platform,
        ad_spend_monthly.channel,
        ad_spend_monthly.channel_team,
        ad_spend_monthly.utm_campaign,
        ad_spend_monthly.campaign_id,
        {{ to_money('ad_spend_monthly.spend_amount_corporate') }} as spend_amount_corporate,
        cast(ad_spend_monthly.impressions as bigint) as impressions,
        cast(ad_spend_monthly.clicks as bigint) as clicks,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        as_of.as_of_date
    from ad_spend_monthly
    cross join as_of

)

select * from final
