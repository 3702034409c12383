with

source as (

    select * from {{ source('hubspot', 'engagement_contact') }}

),

renamed as (

    select distinct
        -- ids
        engagement_id,
        contact_id,
        'hubspot' as source_system,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from source

)

select * from renamed
