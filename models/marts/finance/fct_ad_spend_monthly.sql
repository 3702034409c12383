-- One row per month, ad platform, ad account and ad campaign: spend converted to the
-- corporate currency day by day (the dated rate in force on the spend date) and the
-- platform's channel (ad_platform_channels seed).

with

ad_spend as (

    select * from {{ ref('stg_ads__ad_spend_daily') }}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

ad_platform_channels as (

    select * from {{ ref('ad_platform_channels') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

converted as (

    select
        {{ dbt.date_trunc('month', 'ad_spend.spend_date') }} as month_start,
        ad_spend.platform,
        ad_spend.ad_account_id,
        ad_spend.ad_campaign_id,
        ad_spend.spend_amount / conversion_rates.conversion_rate as spend_corporate,
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
        ad_account_id,
        ad_campaign_id,
        sum(spend_corporate) as spend_corporate,
        sum(impressions) as impressions,
        sum(clicks) as clicks
    from converted
    group by 1, 2, 3, 4

),

final as (

    select
        cast(monthly.month_start as date) as month_start,
        monthly.platform,
        monthly.ad_account_id,
        monthly.ad_campaign_id,
        ad_platform_channels.channel,
        cast(monthly.spend_corporate as decimal(18, 2)) as spend_corporate,
        cast(monthly.impressions as bigint) as impressions,
        cast(monthly.clicks as bigint) as clicks,
        '{{ var("corporate_currency") }}' as corporate_currency_code
    from monthly
    left join ad_platform_channels
        on monthly.platform = ad_platform_channels.platform

)

select * from final
