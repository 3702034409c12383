with

source as (

    {{ fivetran_active_rows(source('hubspot', 'deal_pipeline')) }}

),

kept as (

    select * from source
    where
        not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        pipeline_id,
        'hubspot' as source_system,

        -- descriptors
        label as pipeline_name,
        display_order,

        -- booleans
        coalesce(active, false) as is_active,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
