with

source as (

    {{ fivetran_active_rows(source('salesforce', 'lead')) }}

),

kept as (

    -- drop soft-deleted leads and leads merged into another (master_record_id set)
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
        id as lead_id,
        owner_id as owner_user_id,
        account_id_c as matched_account_id,
        converted_account_id,
        converted_contact_id,
        converted_opportunity_id,
        'salesforce' as source_system,

        -- person (PII: stays in staging)
        first_name,
        last_name,
        lower(trim(email)) as email,
        phone,
        title,

        -- company
        company as company_name,
        industry,
        number_of_employees as employee_count,
        upper(trim(country)) as country_code,

        -- funnel
        lead_source,
        status as lead_status,
        rating as lead_rating,
        lead_score_c as lead_score,
        lead_priority_c as lead_priority,
        rejection_reason_c as rejection_reason_code,

        -- booleans
        coalesce(is_converted, false) as is_converted,

        -- dates and timestamps (UTC)
        converted_date,
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
