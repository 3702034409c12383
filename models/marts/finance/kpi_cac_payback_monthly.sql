-- CAC payback in months, period form, per month for the company, by channel and by segment:
-- last month's fully loaded expense over this month's new MRR times the gross margin in
-- force. The period form takes last month's expense to have acquired this month's new
-- customers, so a channel's or segment's part of it follows this month's customers: the
-- company's expense allocated by the row's share of this month's allocation basis
-- (kpi_cac_monthly.basis_share: of the month's new customers by default, or of their new
-- MRR, as cac_allocation_rules says). Last month's own allocation would follow last month's
-- customers, and give a channel that acquired no one last month no expense and a payback of
-- 0 months.

with

cac as (

    select * from {{ ref('kpi_cac_monthly') }}

),

gross_margins as (

    select * from {{ ref('gross_margins') }}

),

cac_numbered as (

    select
        *,
        {{ month_index('month_start') }} as month_number
    from cac

),

company_months as (

    select
        month_number,
        fully_loaded_expense
    from cac_numbered
    where breakdown = 'company'

),

with_prior as (

    select
        cac_numbered.month_start,
        cac_numbered.breakdown,
        cac_numbered.channel,
        cac_numbered.segment,
        cac_numbered.new_customers,
        cac_numbered.new_mrr_corporate,
        cac_numbered.as_of_date,
        previous_month.month_number is not null as has_prior_month,
        coalesce(previous_month.fully_loaded_expense * cac_numbered.basis_share, 0)
            as prior_month_expense
    from cac_numbered
    left join company_months as previous_month
        on cac_numbered.month_number - 1 = previous_month.month_number

),

final as (

    select
        with_prior.month_start,
        with_prior.breakdown,
        with_prior.channel,
        with_prior.segment,
        with_prior.new_customers,
        with_prior.new_mrr_corporate,
        cast(gross_margins.gross_margin as double) as gross_margin,
        cast(
            with_prior.new_mrr_corporate * gross_margins.gross_margin as decimal(18, 2)
        ) as new_gross_margin_mrr,
        {{ to_money('with_prior.prior_month_expense') }} as prior_month_expense,
        cast(case
            when with_prior.has_prior_month and with_prior.new_mrr_corporate > 0
                then {{ divide(
                    'with_prior.prior_month_expense',
                    'with_prior.new_mrr_corporate * gross_margins.gross_margin',
                ) }}
        end as double) as cac_payback_months,
        case
            when not with_prior.has_prior_month then 'no expense data for the prior month'
            when with_prior.new_mrr_corporate = 0 then 'no new MRR in the month'
        end as payback_null_reason,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        with_prior.as_of_date
    from with_prior
    left join gross_margins
        on
            with_prior.month_start >= gross_margins.valid_from
            and with_prior.month_start < gross_margins.valid_to

)

select * from final
