with

source as (

    select * from {{ source('hubspot', 'engagement_deal') }}

),

renamed as (

    select distinct
        -- ids
        engagement_id,
        deal_id,
        'hubspot' as source_system,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from source

)

select * from renamed
