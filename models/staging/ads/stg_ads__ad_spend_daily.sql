with

source as (

    select * from {{ source('ads', 'ad_spend_daily') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        platform,
        ad_account_id,
        ad_campaign_id,

        -- descriptors
        ad_campaign_name,
        utm_campaign,

        -- money: spend is in currency_code
        spend as spend_amount,
        upper(trim(currency)) as currency_code,

        -- measures
        impressions,
        clicks,

        -- dates
        spend_date

    from kept

)

select * from renamed
