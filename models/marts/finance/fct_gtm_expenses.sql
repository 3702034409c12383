-- One row per general-ledger go-to-market expense line, converted to the corporate currency
-- at the dated rate in force on the first day of its month.

{{ config(meta={'may_be_empty': switched_off_reason('finance')}) }}

with

expenses as (

    {% if var('finance_enabled', true) %}
    select * from {{ ref('stg_finance__gtm_expenses_monthly') }}
    {% else %}
    -- finance switched off: no expense lines
    select
        cast(null as {{ dbt.type_string() }}) as expense_id,
        cast(null as {{ dbt.type_string() }}) as expense_category,
        cast(null as {{ dbt.type_string() }}) as business_unit,
        cast(null as decimal(18, 2)) as amount,
        cast(null as {{ dbt.type_string() }}) as currency_code,
        cast(null as date) as month_start_date
    where 1 = 0
    {% endif %}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

final as (

    select
        expenses.expense_id,
        expenses.month_start_date as month_start,
        expenses.expense_category,
        expenses.business_unit,
        cast(expenses.amount as decimal(18, 2)) as amount,
        expenses.currency_code,
        cast(conversion_rates.conversion_rate as double) as conversion_rate,
        {{ to_money(divide('expenses.amount', 'conversion_rates.conversion_rate')) }}
            as amount_corporate,
        '{{ var("corporate_currency") }}' as corporate_currency_code
    from expenses
    cross join as_of
    left join conversion_rates
        on
            expenses.currency_code = conversion_rates.currency_code
            and expenses.month_start_date >= conversion_rates.valid_from
            and expenses.month_start_date < conversion_rates.valid_to
    where expenses.month_start_date <= as_of.as_of_date

)

select * from final
