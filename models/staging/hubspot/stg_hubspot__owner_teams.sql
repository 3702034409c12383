with

source as (

    {{ fivetran_active_rows(source('hubspot', 'owner_team')) }}

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
        owner_id,
        team_id,
        'hubspot' as source_system,

        -- booleans
        coalesce(is_team_primary, false) as is_primary_team,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
