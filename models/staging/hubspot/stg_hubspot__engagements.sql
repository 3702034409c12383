with

source as (

    {{ fivetran_active_rows(source('hubspot', 'engagement')) }}

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
        id as engagement_id,
        owner_id,
        'hubspot' as source_system,

        -- descriptors: call, email, meeting, note, task
        lower(type) as engagement_type,

        -- booleans
        coalesce(active, false) as is_active,

        -- timestamps (UTC)
        {{ adapter.quote('timestamp') }} as occurred_at,
        created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
