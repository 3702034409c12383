with

source as (

    {{ fivetran_active_rows(source('hubspot', 'contact_property_history')) }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        contact_id,
        'hubspot' as source_system,

        -- change (name is the property: lifecyclestage, hs_lead_status, hubspot_owner_id)
        name as property_name,
        value as property_value,
        source as change_source,
        source_id as change_source_id,

        -- timestamps (UTC)
        {{ adapter.quote('timestamp') }} as changed_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
