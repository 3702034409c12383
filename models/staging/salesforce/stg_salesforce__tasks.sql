with

source as (

    {{ fivetran_active_rows(source('salesforce', 'task')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids: who_id is a lead or contact id, what_id an opportunity or account id
        id as task_id,
        who_id as person_id,
        what_id as related_record_id,
        account_id,
        owner_id as owner_user_id,
        'salesforce' as source_system,

        -- descriptors
        subject,
        type as task_type,
        task_subtype,
        status as task_status,

        -- measures
        call_duration_in_seconds as call_duration_seconds,

        -- dates and timestamps (UTC)
        activity_date,
        completed_date_time as completed_at,
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
