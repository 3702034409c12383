with

source as (

    {{ fivetran_active_rows(source('hubspot', 'deal_pipeline_stage')) }}

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
        stage_id as deal_stage_id,
        pipeline_id,
        'hubspot' as source_system,

        -- descriptors
        label as stage_name,
        display_order,

        -- probability is a fraction (0-1) in HubSpot, not a percentage
        probability,

        -- booleans
        coalesce(closed_won, false) as is_closed_won,
        coalesce(active, false) as is_active,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
