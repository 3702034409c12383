with

source as (

    select * from {{ source('billing', 'subscription_monthly') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids: account_id is a Salesforce account or HubSpot company id (see source_system)
        subscription_id,
        account_id,
        source_system,

        -- descriptors: movement is new, expansion, contraction, churn or flat
        plan as plan_name,
        movement as mrr_movement,

        -- money: MRR at month end in currency_code (0 in the month of churn)
        mrr as mrr_amount,
        upper(trim(currency)) as currency_code,

        -- dates
        month_start as month_start_date

    from kept

)

select * from renamed
