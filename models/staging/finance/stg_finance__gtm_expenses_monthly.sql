with

source as (

    select * from {{ source('finance', 'gtm_expense_monthly') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

renamed as (

    select distinct
        -- ids
        expense_id,

        -- descriptors (category is the key of the expense_categories seed)
        category as expense_category,
        business_unit,

        -- money: amount is in currency_code
        amount,
        upper(trim(currency)) as currency_code,

        -- dates
        month_start as month_start_date

    from kept

)

select * from renamed
