with

source as (

    {{ fivetran_active_rows(source('hubspot', 'engagement_contact')) }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        engagement_id,
        contact_id,
        'hubspot' as source_system,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
