with

source as (

    {{ fivetran_active_rows(source('salesforce', 'user_role')) }}

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
        id as user_role_id,
        parent_role_id as parent_user_role_id,
        'salesforce' as source_system,

        -- descriptors
        name as role_name,
        developer_name as role_developer_name,
        rollup_description,

        -- timestamps (UTC)
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
