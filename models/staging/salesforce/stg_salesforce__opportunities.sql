with

source as (

    {{ fivetran_active_rows(source('salesforce', 'opportunity')) }}

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
        id as opportunity_id,
        account_id,
        owner_id as owner_user_id,
        campaign_id,
        originating_lead_id_c as originating_lead_id,
        'salesforce' as source_system,

        -- descriptors
        name as opportunity_name,
        type as opportunity_type,
        stage_name,
        forecast_category,
        lead_source,

        -- money: amount is in currency_code; probability is a percentage (0-100)
        amount,
        currency_iso_code as currency_code,
        probability as probability_pct,

        -- booleans
        coalesce(is_closed, false) as is_closed,
        coalesce(is_won, false) as is_won,

        -- dates and timestamps (UTC)
        close_date,
        created_date as created_at,
        last_modified_date as last_modified_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
