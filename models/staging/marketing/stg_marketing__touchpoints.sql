with

source as (

    select * from {{ source('marketing', 'touchpoint') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        touchpoint_id,
        anonymous_id,
        campaign_id,

        -- person (PII: stays in staging)
        lower(trim(email)) as email,

        -- touch (touch_type is the key of the touch_types seed)
        touch_type,
        channel,
        business_unit,
        page_url,

        -- utm parameters
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,

        -- timestamps (UTC)
        occurred_at

    from kept

)

select * from renamed
