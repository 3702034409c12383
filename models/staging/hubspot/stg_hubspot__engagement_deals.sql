with

source as (

    {{ fivetran_active_rows(source('hubspot', 'engagement_deal')) }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        engagement_id,
        deal_id,
        'hubspot' as source_system,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
