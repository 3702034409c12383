with

source as (

    {{ fivetran_active_rows(source('hubspot', 'owner')) }}

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
        user_id,
        'hubspot' as source_system,

        -- person (PII: stays in staging)
        first_name,
        last_name,
        {{ dbt.concat(["first_name", "' '", "last_name"]) }} as full_name,
        lower(trim(email)) as email,

        -- booleans
        coalesce(is_active, false) as is_active,

        -- timestamps (UTC)
        created_at,
        updated_at as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
