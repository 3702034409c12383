with

source as (

    {{ fivetran_active_rows(source('salesforce', 'lead_history')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        id as lead_history_id,
        lead_id,
        created_by_id as changed_by_user_id,
        'salesforce' as source_system,

        -- change (field is the API name: Status, Owner, Rating, ...)
        field as field_name,
        data_type as field_data_type,
        old_value,
        new_value,

        -- timestamps (UTC)
        created_date as changed_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
