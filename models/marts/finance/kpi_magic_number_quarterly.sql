-- The SaaS magic number per quarter: the change in quarterly subscription revenue,
-- annualised, per unit of the prior quarter's sales and marketing expense.

with

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

cac as (

    select * from {{ ref('kpi_cac_monthly') }}

),

monthly_revenue as (

    select
        month_start,
        as_of_date,
        sum(ending_mrr_corporate) as revenue
    from mrr_movements
    group by 1, 2

),

monthly_expense as (

    select
        month_start,
        fully_loaded_expense
    from cac
    where breakdown = 'company'

),

quarterly as (

    select
        cast({{ dbt.date_trunc('quarter', 'monthly_revenue.month_start') }} as date)
            as quarter_start,
        max(monthly_revenue.as_of_date) as as_of_date,
        count(*) as months_with_revenue,
        sum(monthly_revenue.revenue) as quarterly_revenue,
        sum(coalesce(monthly_expense.fully_loaded_expense, 0)) as sales_and_marketing_expense,
        count(monthly_expense.month_start) as months_with_expense
    from monthly_revenue
    left join monthly_expense
        on monthly_revenue.month_start = monthly_expense.month_start
    group by 1

),

quarterly_numbered as (

    select
        *,
        {{ month_index('quarter_start') }} as quarter_month_number,
        months_with_revenue = 3
        and months_with_expense = 3
        and {{ dbt.dateadd('month', 3, 'quarter_start') }}
        <= {{ dbt.dateadd('day', 1, 'as_of_date') }} as is_complete
    from quarterly

),

final as (

    select
        quarterly_numbered.quarter_start,
        quarterly_numbered.is_complete as is_complete_quarter,
        cast(quarterly_numbered.quarterly_revenue as decimal(18, 2)) as quarterly_revenue,
        cast(previous_quarter.quarterly_revenue as decimal(18, 2)) as prior_quarter_revenue,
        cast(
            quarterly_numbered.quarterly_revenue
            - previous_quarter.quarterly_revenue as decimal(18, 2)
        )
            as revenue_change,
        cast(quarterly_numbered.sales_and_marketing_expense as decimal(18, 2))
            as sales_and_marketing_expense,
        cast(previous_quarter.sales_and_marketing_expense as decimal(18, 2))
            as prior_quarter_sales_and_marketing_expense,
        cast(case
            when
                quarterly_numbered.is_complete and previous_quarter.is_complete
                and previous_quarter.sales_and_marketing_expense > 0
                then {{ divide(
                    '(quarterly_numbered.quarterly_revenue - previous_quarter.quarterly_revenue)'
                    ~ ' * 4',
                    'previous_quarter.sales_and_marketing_expense',
                ) }}
        end as double) as magic_number,
        case
            when not quarterly_numbered.is_complete then 'quarter not complete'
            when previous_quarter.quarter_start is null or not previous_quarter.is_complete
                then 'prior quarter not complete'
            when previous_quarter.sales_and_marketing_expense = 0
                then 'no prior-quarter sales and marketing expense'
        end as magic_number_null_reason,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        quarterly_numbered.as_of_date
    from quarterly_numbered
    left join quarterly_numbered as previous_quarter
        on quarterly_numbered.quarter_month_number - 3 = previous_quarter.quarter_month_number

)

select * from final
