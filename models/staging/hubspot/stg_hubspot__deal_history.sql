with

source as (

    {{ history_versions('hubspot', 'deal', 'property_createdate', ['is_deleted']) }}

),

renamed as (

    select
        -- ids
        deal_id,
        deal_pipeline_stage_id as deal_stage_id,
        owner_id,
        'hubspot' as source_system,

        -- descriptors
        property_dealtype as deal_type,

        -- money: amount is in currency_code
        property_amount as amount,
        upper(trim(property_deal_currency_code)) as currency_code,

        -- booleans
        _sros_valid_to is null as is_current,

        -- dates and timestamps (UTC); HubSpot stores the close date as a timestamp;
        -- ingestion stores the validity with a time zone, dbt sessions run in UTC
        cast(property_closedate as date) as close_date,
        property_createdate as created_at,
        cast(_sros_valid_from as {{ dbt.type_timestamp() }}) as valid_from_at,
        cast(_sros_valid_to as {{ dbt.type_timestamp() }}) as valid_to_at

    from source

)

select * from renamed
