with

source as (

    {{ fivetran_active_rows(source('hubspot', 'company')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        id as company_id,
        property_hubspot_owner_id as owner_id,
        'hubspot' as source_system,

        -- company
        property_name as company_name,
        {{ website_domain('property_domain') }} as website_domain,
        property_industry as industry,
        property_numberofemployees as employee_count,
        property_annualrevenue as annual_revenue,
        upper(trim(property_country)) as country_code,
        property_lifecyclestage as lifecycle_stage,

        -- timestamps (UTC)
        property_createdate as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
