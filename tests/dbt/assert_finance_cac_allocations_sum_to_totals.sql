{{ config(store_failures=true) }}

-- Each breakdown of kpi_cac_monthly (channel, segment) allocates exactly the company's
-- expense of the month, kind by kind (to the cent per row allocated), its basis shares sum
-- to 1, and it counts each new customer once; and each breakdown of kpi_cac_payback_monthly
-- allocates exactly the company's prior-month expense in every month with new customers (to
-- the cent per row allocated). Returns one row per month and breakdown that does not.

with

cac as (

    select * from {{ ref('kpi_cac_monthly') }}

),

payback as (

    select * from {{ ref('kpi_cac_payback_monthly') }}

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
        sum(basis_share) as basis_share,
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
        allocated.basis_share,
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
            "', basis shares sum to '",
            dbt.safe_cast("basis_share", dbt.type_string()),
        ]) }} as problem
    from compared
    where
        compared.company_new_customers is null
        or compared.new_customers != compared.company_new_customers
        or abs(compared.basis_share - 1) > 1e-9
        or abs(compared.fully_loaded_expense - compared.company_fully_loaded_expense)
        > 0.01 * compared.allocated_rows
        or abs(compared.marketing_expense - compared.company_marketing_expense)
        > 0.01 * compared.allocated_rows
        or abs(compared.advertising_expense - compared.company_advertising_expense)
        > 0.01 * compared.allocated_rows

),

payback_allocated as (

    select
        payback.month_start,
        payback.breakdown,
        count(*) as allocated_rows,
        sum(payback.prior_month_expense) as prior_month_expense,
        max(company_payback.prior_month_expense) as company_prior_month_expense
    from payback
    inner join payback as company_payback
        on
            payback.month_start = company_payback.month_start
            and company_payback.breakdown = 'company'
            and company_payback.new_customers > 0
    where payback.breakdown != 'company'
    group by 1, 2

),

payback_final as (

    select
        month_start,
        breakdown,
        {{ dbt.concat([
            "'CAC payback allocation by '",
            "breakdown",
            "' in '",
            dbt.safe_cast("month_start", dbt.type_string()),
            "' does not sum to the company: prior-month expense '",
            dbt.safe_cast("prior_month_expense", dbt.type_string()),
            "' vs '",
            dbt.safe_cast("company_prior_month_expense", dbt.type_string()),
        ]) }} as problem
    from payback_allocated
    where abs(prior_month_expense - company_prior_month_expense) > 0.01 * allocated_rows

)

select
    month_start,
    breakdown,
    problem
from final

union all

select
    month_start,
    breakdown,
    problem
from payback_final
