with

source as (

    {{ fivetran_active_rows(source('salesforce', 'user')) }}

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
        id as user_id,
        manager_id as manager_user_id,
        user_role_id,
        'salesforce' as source_system,

        -- person (PII: stays in staging)
        name as full_name,
        first_name,
        last_name,
        lower(trim(email)) as email,
        title,

        -- organisation
        department,
        region_c as region,
        time_zone_sid_key as time_zone,

        -- booleans
        coalesce(is_active, false) as is_active,

        -- timestamps (UTC)
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
