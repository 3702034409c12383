with

source as (

    {{ fivetran_active_rows(source('salesforce', 'opportunity_contact_role')) }}

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
        id as opportunity_contact_role_id,
        opportunity_id,
        contact_id,
        'salesforce' as source_system,

        -- descriptors
        role as contact_role,

        -- booleans
        coalesce(is_primary, false) as is_primary,

        -- timestamps (UTC)
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
