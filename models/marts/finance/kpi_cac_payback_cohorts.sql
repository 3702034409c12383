-- CAC payback, cohort form: each monthly cohort of new customers (company and by segment)
-- month by month since acquisition, until its cumulative gross-margin MRR reaches the
-- cohort's acquisition cost.

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

account_months as (

    select
        *,
        {{ month_index('month_start') }} as month_number
    from mrr_movements

),

months as (

    select distinct
        month_start,
        month_number,
        as_of_date
    from account_months

),

members as (

    select
        source_system,
        account_id,
        segment,
        month_start as cohort_month,
        month_number as cohort_month_number,
        new_mrr_corporate
    from account_months
    where is_new_customer

),

member_breakdowns as (

    select
        'company' as breakdown,
        cast(null as {{ dbt.type_string() }}) as segment,
        source_system,
        account_id,
        cohort_month,
        cohort_month_number,
        new_mrr_corporate
    from members
    union all
    select
        'segment' as breakdown,
        segment,
        source_system,
        account_id,
        cohort_month,
        cohort_month_number,
        new_mrr_corporate
    from members

),

cohorts as (

    select
        member_breakdowns.cohort_month,
        member_breakdowns.cohort_month_number,
        member_breakdowns.breakdown,
        member_breakdowns.segment,
        count(*) as cohort_customers,
        sum(member_breakdowns.new_mrr_corporate) as cohort_new_mrr,
        max(cac.fully_loaded_expense) as acquisition_cost
    from member_breakdowns
    left join cac
        on
            member_breakdowns.cohort_month = cac.month_start
            and member_breakdowns.breakdown = cac.breakdown
            and coalesce(member_breakdowns.segment, '') = coalesce(cac.segment, '')
            and (member_breakdowns.segment is null) = (cac.segment is null)
    group by 1, 2, 3, 4

),

cohort_months as (

    select
        member_breakdowns.cohort_month,
        member_breakdowns.breakdown,
        member_breakdowns.segment,
        months.month_start,
        months.month_number - member_breakdowns.cohort_month_number + 1
            as months_since_acquisition,
        months.as_of_date,
        coalesce(sum(account_months.ending_mrr_corporate), 0) as cohort_mrr,
        sum(case when account_months.is_active_customer then 1 else 0 end)
            as active_customers
    from member_breakdowns
    inner join months
        on member_breakdowns.cohort_month_number <= months.month_number
    left join account_months
        on
            member_breakdowns.source_system = account_months.source_system
            and member_breakdowns.account_id = account_months.account_id
            and months.month_number = account_months.month_number
    group by 1, 2, 3, 4, 5, 6

),

margins as (

    select
        cohort_months.*,
        gross_margins.gross_margin,
        cohort_months.cohort_mrr * gross_margins.gross_margin as gross_margin_mrr
    from cohort_months
    left join gross_margins
        on
            cohort_months.month_start >= gross_margins.valid_from
            and cohort_months.month_start < gross_margins.valid_to

),

cumulated as (

    select
        margins.*,
        cohorts.cohort_customers,
        cohorts.cohort_new_mrr,
        coalesce(cohorts.acquisition_cost, 0) as acquisition_cost,
        sum(margins.gross_margin_mrr) over (
            partition by margins.cohort_month, margins.breakdown, margins.segment
            order by margins.months_since_acquisition
            rows between unbounded preceding and current row
        ) as cumulative_gross_margin_mrr
    from margins
    inner join cohorts
        on
            margins.cohort_month = cohorts.cohort_month
            and margins.breakdown = cohorts.breakdown
            and coalesce(margins.segment, '') = coalesce(cohorts.segment, '')
            and (margins.segment is null) = (cohorts.segment is null)

),

paid_back as (

    select
        *,
        min(
            case
                when cumulative_gross_margin_mrr >= acquisition_cost
                    then months_since_acquisition
            end
        ) over (
            partition by cohort_month, breakdown, segment
        ) as payback_month
    from cumulated

),

final as (

    select
        cohort_month,
        breakdown,
        segment,
        cast(months_since_acquisition as integer) as months_since_acquisition,
        month_start,
        cast(cohort_customers as bigint) as cohort_customers,
        cast(cohort_new_mrr as decimal(18, 2)) as cohort_new_mrr,
        cast(acquisition_cost as decimal(18, 2)) as acquisition_cost,
        cast(active_customers as bigint) as active_customers,
        cast(cohort_mrr as decimal(18, 2)) as cohort_mrr,
        cast(gross_margin as double) as gross_margin,
        cast(gross_margin_mrr as decimal(18, 2)) as gross_margin_mrr,
        cast(cumulative_gross_margin_mrr as decimal(18, 2)) as cumulative_gross_margin_mrr,
        cumulative_gross_margin_mrr >= acquisition_cost as is_paid_back,
        cast(payback_month as integer) as payback_month,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        as_of_date
    from paid_back

)

select * from final
