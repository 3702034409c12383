-- LTV, CAC and LTV:CAC per month, for the company and by segment.

with

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

cac as (

    select * from {{ ref('kpi_cac_monthly') }}

),

gross_margins as (

    select * from {{ ref('gross_margins') }}

),

unit_economics_windows as (

    select * from {{ ref('unit_economics_windows') }}

),

ltv_cac_bands as (

    select * from {{ ref('ltv_cac_bands') }}

),

{{ mrr_breakdown_grid('mrr_movements') }}

monthly as (

    select
        keys.month_start,
        keys.month_number,
        keys.as_of_date,
        keys.breakdown,
        keys.segment,
        sum(case when account_months.was_active_customer then 1 else 0 end)
            as customers_at_start,
        sum(case when account_months.is_churned_customer then 1 else 0 end)
            as churned_customers,
        sum(case when account_months.is_active_customer then 1 else 0 end)
            as active_customers,
        coalesce(sum(account_months.ending_mrr_corporate), 0) as ending_mrr
    from keys
    left join account_months_by_breakdown as account_months
        on
            keys.month_start = account_months.month_start
            and keys.breakdown = account_months.breakdown
            and coalesce(keys.segment, '') = coalesce(account_months.breakdown_segment, '')
            and (keys.segment is null) = (account_months.breakdown_segment is null)
    group by 1, 2, 3, 4, 5

),

windowed as (

    select
        monthly.*,
        unit_economics_windows.churn_window_months
    from monthly
    left join unit_economics_windows
        on
            monthly.month_start >= unit_economics_windows.valid_from
            and monthly.month_start < unit_economics_windows.valid_to

),

trailing_window as (

    -- the churn_window_months months before this one; the current month is excluded
    select
        windowed.month_start,
        windowed.breakdown,
        windowed.segment,
        count(past.month_start) as trailing_months,
        coalesce(sum(past.churned_customers), 0) as trailing_churned_customers,
        coalesce(sum(past.customers_at_start), 0) as trailing_customers_at_start
    from windowed
    left join monthly as past
        on
            windowed.breakdown = past.breakdown
            and coalesce(windowed.segment, '') = coalesce(past.segment, '')
            and (windowed.segment is null) = (past.segment is null)
            and past.month_number >= windowed.month_number - windowed.churn_window_months
            and windowed.month_number > past.month_number
    group by 1, 2, 3

),

measured as (

    select
        windowed.*,
        trailing_window.trailing_months,
        trailing_window.trailing_churned_customers,
        trailing_window.trailing_customers_at_start,
        gross_margins.gross_margin,
        cac.new_customers,
        cac.fully_loaded_expense,
        cac.fully_loaded_cac,
        case
            when windowed.active_customers > 0
                then {{ to_money(divide('windowed.ending_mrr', 'windowed.active_customers')) }}
        end as arpa,
        case
            when trailing_window.trailing_customers_at_start > 0
                then
                    cast(trailing_window.trailing_churned_customers as double)
                    / trailing_window.trailing_customers_at_start
        end as trailing_churn_rate
    from windowed
    inner join trailing_window
        on
            windowed.month_start = trailing_window.month_start
            and windowed.breakdown = trailing_window.breakdown
            and coalesce(windowed.segment, '') = coalesce(trailing_window.segment, '')
            and (windowed.segment is null) = (trailing_window.segment is null)
    left join gross_margins
        on
            windowed.month_start >= gross_margins.valid_from
            and windowed.month_start < gross_margins.valid_to
    left join cac
        on
            windowed.month_start = cac.month_start
            and windowed.breakdown = cac.breakdown
            and coalesce(windowed.segment, '') = coalesce(cac.segment, '')
            and (windowed.segment is null) = (cac.segment is null)

),

with_ltv as (

    select
        *,
        case
            when trailing_churn_rate > 0
                then arpa * gross_margin / trailing_churn_rate
        end as ltv
    from measured

),

with_ratio as (

    select
        *,
        -- the ratio of the amounts as published (LTV rounded to cents like CAC)
        case
            when fully_loaded_cac > 0
                then {{ divide(to_money('ltv'), 'fully_loaded_cac') }}
        end as ltv_to_cac
    from with_ltv

),

final as (

    select
        with_ratio.month_start,
        with_ratio.breakdown,
        with_ratio.segment,
        cast(with_ratio.active_customers as bigint) as active_customers,
        cast(with_ratio.ending_mrr as decimal(18, 2)) as ending_mrr,
        cast(with_ratio.arpa as decimal(18, 2)) as arpa,
        cast(with_ratio.gross_margin as double) as gross_margin,
        cast(with_ratio.customers_at_start as bigint) as customers_at_start,
        cast(with_ratio.churned_customers as bigint) as churned_customers,
        cast(with_ratio.churn_window_months as integer) as churn_window_months,
        cast(with_ratio.trailing_months as integer) as trailing_months,
        cast(with_ratio.trailing_churned_customers as bigint) as trailing_churned_customers,
        cast(with_ratio.trailing_customers_at_start as bigint)
            as trailing_customers_at_start,
        cast(with_ratio.trailing_churn_rate as double) as trailing_churn_rate,
        {{ to_money('with_ratio.ltv') }} as ltv,
        case
            when with_ratio.active_customers = 0 then 'no active customers'
            when with_ratio.trailing_customers_at_start = 0
                then 'no customers in the trailing churn window'
            when with_ratio.trailing_churned_customers = 0
                then 'no churn in the trailing churn window'
        end as ltv_null_reason,
        cast(coalesce(with_ratio.new_customers, 0) as bigint) as new_customers,
        cast(coalesce(with_ratio.fully_loaded_expense, 0) as decimal(18, 2))
            as fully_loaded_expense,
        cast(with_ratio.fully_loaded_cac as decimal(18, 2)) as fully_loaded_cac,
        cast(with_ratio.ltv_to_cac as double) as ltv_to_cac,
        ltv_cac_bands.band as ltv_to_cac_band,
        ltv_cac_bands.assessment as ltv_to_cac_assessment,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        with_ratio.as_of_date
    from with_ratio
    left join ltv_cac_bands
        on
            with_ratio.ltv_to_cac >= ltv_cac_bands.min_ratio
            and with_ratio.ltv_to_cac < ltv_cac_bands.max_ratio

)

select * from final
