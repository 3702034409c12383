with

source as (

    {{ fivetran_active_rows(source('salesforce', 'opportunity_history')) }}

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
        id as opportunity_history_id,
        opportunity_id,
        created_by_id as changed_by_user_id,
        'salesforce' as source_system,

        -- state of the opportunity after this change
        stage_name,
        forecast_category,

        -- money: in the opportunity's currency; probability is a percentage (0-100)
        amount,
        expected_revenue,
        probability as probability_pct,

        -- dates and timestamps (UTC)
        close_date,
        created_date as changed_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
