with

source as (

    {{ fivetran_active_rows(source('salesforce', 'campaign')) }}

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
        id as campaign_id,
        parent_id as parent_campaign_id,
        'salesforce' as source_system,

        -- descriptors
        name as campaign_name,
        type as campaign_type,
        status as campaign_status,
        utm_campaign_c as utm_campaign,
        experiment_id_c as experiment_id,
        experiment_arm_c as experiment_arm,

        -- money: the raw table has no currency; costs are in the corporate currency
        budgeted_cost,
        actual_cost,
        '{{ var("corporate_currency") }}' as cost_currency_code,

        -- booleans
        coalesce(is_active, false) as is_active,

        -- dates and timestamps (UTC)
        start_date,
        end_date,
        created_date as created_at,
        _fivetran_synced as synced_at

    from kept

)

select * from renamed
