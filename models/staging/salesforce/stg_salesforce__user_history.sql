with

source as (

    {{ history_versions('salesforce', 'user', 'created_date') }}

),

renamed as (

    select
        -- ids
        id as user_id,
        manager_id as manager_user_id,
        user_role_id,
        'salesforce' as source_system,

        -- organisation (the tracked columns)
        title,
        department,
        region_c as region,

        -- booleans
        coalesce(is_active, false) as is_active,
        _sros_valid_to is null as is_current,

        -- timestamps (UTC; ingestion stores the validity with a time zone, dbt sessions
        -- run in UTC)
        created_date as created_at,
        cast(_sros_valid_from as {{ dbt.type_timestamp() }}) as valid_from_at,
        cast(_sros_valid_to as {{ dbt.type_timestamp() }}) as valid_to_at

    from source

)

select * from renamed
