with

source as (

    {{ fivetran_active_rows(source('hubspot', 'deal_contact')) }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        deal_id,
        contact_id,
        type_id as association_type_id,
        'hubspot' as source_system,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
