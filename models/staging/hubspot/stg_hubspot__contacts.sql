with

source as (

    {{ fivetran_active_rows(source('hubspot', 'contact')) }}

),

kept as (

    select * from source
    where
        not coalesce(is_deleted, false)
        and not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null

),

-- Contacts merged into a survivor: the survivor lists their ids, semicolon-separated, in
-- property_hs_merged_object_ids (split to one row per id; only survivors with a list).
merged_ids as (

    select
        id as survivor_contact_id,
        {{ split_to_rows(
            "replace(property_hs_merged_object_ids, ' ', '')", "';'"
        ) }} as merged_contact_id
    from source
    where property_hs_merged_object_ids is not null

),

merged_away as (

    select distinct merged_contact_id as contact_id
    from merged_ids
    where
        merged_contact_id != survivor_contact_id
        and merged_contact_id != ''

),

not_merged as (

    select kept.*
    from kept
    left join merged_away
        on kept.id = merged_away.contact_id
    where merged_away.contact_id is null

),

renamed as (

    select distinct
        -- ids
        id as contact_id,
        property_associatedcompanyid as company_id,
        property_hubspot_owner_id as owner_id,
        'hubspot' as source_system,

        -- person (PII: stays in staging)
        property_firstname as first_name,
        property_lastname as last_name,
        lower(trim(property_email)) as email,
        property_phone as phone,
        property_jobtitle as title,
        property_buying_role as buying_role,

        -- company
        property_company as company_name,
        upper(trim(property_country)) as country_code,

        -- funnel
        property_hs_analytics_source as lead_source,
        property_lifecyclestage as lifecycle_stage,
        property_hs_lead_status as lead_status,
        property_hubspotscore as lead_score,
        property_lead_priority as lead_priority,
        property_rejection_reason as rejection_reason_code,
        property_hs_merged_object_ids as merged_contact_ids,

        -- timestamps (UTC)
        property_createdate as created_at,
        property_lastmodifieddate as last_modified_at,
        _fivetran_synced as synced_at

    from not_merged

)

select * from renamed
