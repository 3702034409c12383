{%- set history = source('salesforce', 'user_history') -%}
{%- set users = source('salesforce', 'user') -%}

with

source as (

    {% if not execute or history.is_cte or load_relation(history) is not none -%}
    -- every row is a version: ingestion keeps the history of the user's place in the
    -- organisation (meta.history of raw user, dlt scd2); a deleted user's last version is
    -- closed there, so no row of it is a deletion
    {{ fivetran_active_rows(history, every_version=true) }}
    {%- else -%}
    -- no history table (a schema a Fivetran connector maintains: SROS ingestion never wrote
    -- it): each live user's current row is their one version
    select
        *,
        coalesce(_fivetran_synced, created_date) as _sros_valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as _sros_valid_to
    from ({{ fivetran_active_rows(users) }}) as current_users
    where
        not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null
    {%- endif %}

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
