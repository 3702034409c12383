with

source as (

    {{ fivetran_active_rows(source('salesforce', 'contact')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and not coalesce(_fivetran_deleted, false)
        and master_record_id is null
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        id as contact_id,
        account_id,
        owner_id as owner_user_id,
        'salesforce' as source_system,

        -- person (PII: stays in staging)
        first_name,
        last_name,
        lower(trim(email)) as email,
        phone,
        title,
        department,
        buying_role_c as buying_role,
        upper(trim(mailing_country)) as country_code,

        -- funnel
        lead_source,

        -- timestamps (UTC)
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
