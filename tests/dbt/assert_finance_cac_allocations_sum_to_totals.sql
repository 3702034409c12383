{{ config(store_failures=true) }}

-- Each breakdown of kpi_cac_monthly (channel, segment) allocates exactly the company's
-- expense of the month, kind by kind (to the cent per row allocated), and counts each new
-- customer once. kpi_cac_payback_monthly's prior-month expense follows the same totals.
-- Returns one row per month and breakdown that does not.

with

cac as (

    select * from {{ ref('kpi_cac_monthly') }}

),

company as (

    select * from cac
    where breakdown = 'company'

),

allocated as (

    select
        month_start,
        breakdown,
        count(*) as allocated_rows,
        sum(new_customers) as new_customers,
        sum(fully_loaded_expense) as fully_loaded_expense,
        sum(marketing_expense) as marketing_expense,
        sum(advertising_expense) as advertising_expense
    from cac
    where breakdown != 'company'
    group by 1, 2

),

compared as (

    select
        allocated.month_start,
        allocated.breakdown,
        allocated.allocated_rows,
        allocated.new_customers,
        company.new_customers as company_new_customers,
        allocated.fully_loaded_expense,
        company.fully_loaded_expense as company_fully_loaded_expense,
        allocated.marketing_expense,
        company.marketing_expense as company_marketing_expense,
        allocated.advertising_expense,
        company.advertising_expense as company_advertising_expense
    from allocated
    left join company
        on allocated.month_start = company.month_start

),

final as (

    select
        compared.*,
        {{ dbt.concat([
            "'CAC allocation by '",
            "breakdown",
            "' in '",
            dbt.safe_cast("month_start", dbt.type_string()),
            "' does not sum to the company: fully loaded '",
            dbt.safe_cast("fully_loaded_expense", dbt.type_string()),
            "' vs '",
            dbt.safe_cast("company_fully_loaded_expense", dbt.type_string()),
            "', new customers '",
            dbt.safe_cast("new_customers", dbt.type_string()),
            "' vs '",
            dbt.safe_cast("company_new_customers", dbt.type_string()),
        ]) }} as problem
    from compared
    where
        compared.company_new_customers is null
        or compared.new_customers != compared.company_new_customers
        or abs(compared.fully_loaded_expense - compared.company_fully_loaded_expense)
        > 0.01 * compared.allocated_rows
        or abs(compared.marketing_expense - compared.company_marketing_expense)
        > 0.01 * compared.allocated_rows
        or abs(compared.advertising_expense - compared.company_advertising_expense)
        > 0.01 * compared.allocated_rows

)

select * from final
