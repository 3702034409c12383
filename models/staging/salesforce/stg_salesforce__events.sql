with

source as (

    {{ fivetran_active_rows(source('salesforce', 'event')) }}

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
        id as event_id,
        who_id as person_id,
        what_id as related_record_id,
        account_id,
        owner_id as owner_user_id,
        'salesforce' as source_system,

        -- descriptors
        subject,
        type as event_type,
        event_subtype,

        -- measures
        duration_in_minutes as duration_minutes,

        -- timestamps (UTC)
        start_date_time as started_at,
        end_date_time as ended_at,
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
