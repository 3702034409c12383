with

source as (

    {{ fivetran_active_rows(source('salesforce', 'campaign_member')) }}

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
        id as campaign_member_id,
        campaign_id,
        lead_id,
        contact_id,
        'salesforce' as source_system,

        -- descriptors
        status as member_status,

        -- booleans
        coalesce(has_responded, false) as has_responded,

        -- dates and timestamps (UTC)
        first_responded_date,
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
