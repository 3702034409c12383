with

source as (

    {{ fivetran_active_rows(source('hubspot', 'deal')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        deal_id,
        deal_pipeline_id as pipeline_id,
        deal_pipeline_stage_id as deal_stage_id,
        owner_id,
        property_originating_contact_id as originating_contact_id,
        'hubspot' as source_system,

        -- descriptors
        property_dealname as deal_name,
        property_dealtype as deal_type,
        property_hs_analytics_source as lead_source,

        -- money: amount is in currency_code
        property_amount as amount,
        upper(trim(property_deal_currency_code)) as currency_code,

        -- dates and timestamps (UTC); HubSpot stores the close date as a timestamp
        cast(property_closedate as date) as close_date,
        property_createdate as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
