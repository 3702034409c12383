with

source as (

    {{ fivetran_active_rows(source('hubspot', 'team')) }}

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
        id as team_id,
        'hubspot' as source_system,

        -- descriptors (function and region come from the hubspot_teams seed)
        name as team_name,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
