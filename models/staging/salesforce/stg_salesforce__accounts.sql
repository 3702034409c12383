with

source as (

    {{ fivetran_active_rows(source('salesforce', 'account')) }}

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
        id as account_id,
        parent_id as parent_account_id,
        owner_id as owner_user_id,
        'salesforce' as source_system,

        -- company
        name as account_name,
        website,
        {{ website_domain('website') }} as website_domain,
        industry,
        number_of_employees as employee_count,
        annual_revenue,
        upper(trim(billing_country)) as country_code,
        type as account_type,
        account_source,

        -- timestamps (UTC)
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
