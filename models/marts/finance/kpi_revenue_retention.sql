-- Revenue retention per month, for the company and by segment: the period form (the MRR
-- bridge) and the cohort form (NRR and GRR of the customers paying lookback months ago).

with

mrr_movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

unit_economics_windows as (

    select * from {{ ref('unit_economics_windows') }}

),

{{ mrr_breakdown_grid('mrr_movements') }}

keys_windowed as (

    select
        keys.*,
        unit_economics_windows.retention_lookback_months,
        keys.month_number - unit_economics_windows.retention_lookback_months
            as cohort_month_number
    from keys
    left join unit_economics_windows
        on
            keys.month_start >= unit_economics_windows.valid_from
            and keys.month_start < unit_economics_windows.valid_to

),

bridge as (

    select
        keys_windowed.month_start,
        keys_windowed.breakdown,
        keys_windowed.segment,
        coalesce(sum(account_months.starting_mrr_corporate), 0) as starting_mrr,
        coalesce(sum(account_months.fx_adjustment_mrr_corporate), 0) as fx_adjustment_mrr,
        coalesce(sum(account_months.new_mrr_corporate), 0) as new_mrr,
        coalesce(sum(account_months.reactivation_mrr_corporate), 0) as reactivation_mrr,
        coalesce(sum(account_months.expansion_mrr_corporate), 0) as expansion_mrr,
        coalesce(sum(account_months.contraction_mrr_corporate), 0) as contraction_mrr,
        coalesce(sum(account_months.churned_mrr_corporate), 0) as churned_mrr,
        coalesce(sum(account_months.ending_mrr_corporate), 0) as ending_mrr,
        sum(case when account_months.was_active_customer then 1 else 0 end)
            as customers_at_start,
        sum(case when account_months.is_new_customer then 1 else 0 end) as new_customers,
        sum(case when account_months.is_churned_customer then 1 else 0 end)
            as churned_customers,
        sum(case when account_months.is_active_customer then 1 else 0 end)
            as customers_at_end
    from keys_windowed
    left join account_months_by_breakdown as account_months
        on
            keys_windowed.month_start = account_months.month_start
            and keys_windowed.breakdown = account_months.breakdown
            and coalesce(keys_windowed.segment, '')
            = coalesce(account_months.breakdown_segment, '')
            and (keys_windowed.segment is null) = (account_months.breakdown_segment is null)
    group by 1, 2, 3

),

cohort_accounts as (

    -- the accounts paying in the cohort month, with their MRR then and now (0 once gone)
    select
        keys_windowed.month_start,
        keys_windowed.breakdown,
        keys_windowed.segment,
        cohort.ending_mrr_corporate as cohort_starting_mrr,
        coalesce(today.ending_mrr_corporate, 0) as cohort_ending_mrr
    from keys_windowed
    inner join account_months_by_breakdown as cohort
        on
            keys_windowed.cohort_month_number = cohort.month_number
            and keys_windowed.breakdown = cohort.breakdown
            and coalesce(keys_windowed.segment, '') = coalesce(cohort.breakdown_segment, '')
            and (keys_windowed.segment is null) = (cohort.breakdown_segment is null)
            and cohort.is_active_customer
    left join account_months as today
        on
            cohort.source_system = today.source_system
            and cohort.account_id = today.account_id
            and keys_windowed.month_number = today.month_number

),

cohort_totals as (

    select
        month_start,
        breakdown,
        segment,
        sum(cohort_starting_mrr) as cohort_starting_mrr,
        sum(cohort_ending_mrr) as cohort_ending_mrr,
        sum(
            case
                when cohort_ending_mrr < cohort_starting_mrr then cohort_ending_mrr
                else cohort_starting_mrr
            end
        ) as cohort_retained_mrr,
        count(*) as cohort_customers
    from cohort_accounts
    group by 1, 2, 3

),

final as (

    select
        keys_windowed.month_start,
        keys_windowed.breakdown,
        keys_windowed.segment,
        cast(bridge.starting_mrr as decimal(18, 2)) as starting_mrr,
        cast(bridge.fx_adjustment_mrr as decimal(18, 2)) as fx_adjustment_mrr,
        cast(bridge.new_mrr as decimal(18, 2)) as new_mrr,
        cast(bridge.reactivation_mrr as decimal(18, 2)) as reactivation_mrr,
        cast(bridge.expansion_mrr as decimal(18, 2)) as expansion_mrr,
        cast(bridge.contraction_mrr as decimal(18, 2)) as contraction_mrr,
        cast(bridge.churned_mrr as decimal(18, 2)) as churned_mrr,
        cast(bridge.ending_mrr as decimal(18, 2)) as ending_mrr,
        cast(bridge.customers_at_start as bigint) as customers_at_start,
        cast(bridge.new_customers as bigint) as new_customers,
        cast(bridge.churned_customers as bigint) as churned_customers,
        cast(bridge.customers_at_end as bigint) as customers_at_end,
        cast(keys_windowed.retention_lookback_months as integer)
            as retention_lookback_months,
        cast(coalesce(cohort_totals.cohort_customers, 0) as bigint) as cohort_customers,
        cast(coalesce(cohort_totals.cohort_starting_mrr, 0) as decimal(18, 2))
            as cohort_starting_mrr,
        cast(coalesce(cohort_totals.cohort_ending_mrr, 0) as decimal(18, 2))
            as cohort_ending_mrr,
        cast(coalesce(cohort_totals.cohort_retained_mrr, 0) as decimal(18, 2))
            as cohort_retained_mrr,
        cast(case
            when cohort_totals.cohort_starting_mrr > 0
                then {{ divide(
                    'cohort_totals.cohort_ending_mrr', 'cohort_totals.cohort_starting_mrr'
                ) }}
        end as double) as net_revenue_retention,
        cast(case
            when cohort_totals.cohort_starting_mrr > 0
                then {{ divide(
                    'cohort_totals.cohort_retained_mrr', 'cohort_totals.cohort_starting_mrr'
                ) }}
        end as double) as gross_revenue_retention,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        keys_windowed.as_of_date
    from keys_windowed
    inner join bridge
        on
            keys_windowed.month_start = bridge.month_start
            and keys_windowed.breakdown = bridge.breakdown
            and coalesce(keys_windowed.segment, '') = coalesce(bridge.segment, '')
            and (keys_windowed.segment is null) = (bridge.segment is null)
    left join cohort_totals
        on
            keys_windowed.month_start = cohort_totals.month_start
            and keys_windowed.breakdown = cohort_totals.breakdown
            and coalesce(keys_windowed.segment, '') = coalesce(cohort_totals.segment, '')
            and (keys_windowed.segment is null) = (cohort_totals.segment is null)

)

select * from final
