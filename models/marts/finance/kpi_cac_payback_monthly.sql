-- CAC payback in months, period form, per month for the company, by channel and by segment:
-- last month's fully loaded expense over this month's new MRR times the gross margin in
-- force. The period form takes last month's expense to have acquired this month's new
-- customers, so a channel's or segment's part of it follows this month's customers: the
-- company's expense allocated by the row's share of this month's allocation basis
-- (kpi_cac_monthly.allocation_basis, from cac_allocation_rules: new customers by default, or
-- new MRR). Last month's own allocation would follow last month's customers, and give a
-- channel that acquired no one last month no expense and a payback of 0 months.

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

with_basis as (

    select
        *,
        case
            when breakdown = 'company' then 1.0
            when allocation_basis = 'new_mrr' then cast(new_mrr_corporate as double)
            else cast(new_customers as double)
        end as basis_value
    from cac_numbered

),

basis_totals as (

    select
        month_number,
        breakdown,
        sum(basis_value) as total_basis
    from with_basis
    group by 1, 2

),

shares as (

    -- as kpi_cac_monthly shares a month's cost: a month without any basis leaves it on the
    -- row whose channel (segment) is null
    select
        with_basis.*,
        case
            when basis_totals.total_basis > 0
                then {{ divide('with_basis.basis_value', 'basis_totals.total_basis') }}
            when with_basis.channel is null and with_basis.segment is null then 1.0
            else 0.0
        end as basis_share
    from with_basis
    inner join basis_totals
        on
            with_basis.month_number = basis_totals.month_number
            and with_basis.breakdown = basis_totals.breakdown

),

with_prior as (

    select
        shares.month_start,
        shares.breakdown,
        shares.channel,
        shares.segment,
        shares.new_customers,
        shares.new_mrr_corporate,
        shares.as_of_date,
        previous_month.month_number is not null as has_prior_month,
        coalesce(previous_month.fully_loaded_expense * shares.basis_share, 0)
            as prior_month_expense
    from shares
    left join company_months as previous_month
        on shares.month_number - 1 = previous_month.month_number

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
        cast(with_prior.prior_month_expense as decimal(18, 2)) as prior_month_expense,
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
