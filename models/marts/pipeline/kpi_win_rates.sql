-- Win rates per week, month and quarter of the close date, by opportunity type and account
-- segment, by count and by amount (a lost deal carries its last open amount:
-- fct_opportunities.amount_corporate), with the company-wide rate of the same period and
-- type and each segment's divergence from it.

{%- set period_types = ['week', 'month', 'quarter'] %}

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

closed_opportunities as (

    select
        opportunities.opportunity_type,
        opportunities.segment,
        opportunities.is_won,
        opportunities.amount_corporate,
        opportunities.cycle_days,
        dates.week_start_date,
        dates.month_start_date,
        dates.quarter_start_date
    from opportunities
    cross join as_of
    inner join dates
        on opportunities.closed_date = dates.date_day
    where
        opportunities.is_closed
        and opportunities.closed_date <= as_of.as_of_date

),

closed_by_segment as (

    {% for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        {{ period_type }}_start_date as period_start,
        opportunity_type,
        segment,
        sum(case when is_won then 1 else 0 end) as won_count,
        count(*) as closed_count,
        coalesce(sum(case when is_won then amount_corporate end), 0) as won_amount,
        coalesce(sum(amount_corporate), 0) as closed_amount,
        {{ percentile_cont('cycle_days', 0.5) }} as median_cycle_days
    from closed_opportunities
    group by 1, 2, 3, 4
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

company_wide as (

    select
        period_type,
        period_start,
        opportunity_type,
        sum(won_count) as company_won_count,
        sum(closed_count) as company_closed_count,
        sum(won_amount) as company_won_amount,
        sum(closed_amount) as company_closed_amount
    from closed_by_segment
    group by 1, 2, 3

),

period_ends as (

    {% for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        {{ period_type }}_start_date as period_start,
        max(date_day) as period_end
    from dates
    group by 1, 2
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

rates as (

    select
        closed_by_segment.*,
        company_wide.company_won_count,
        company_wide.company_closed_count,
        company_wide.company_won_amount,
        company_wide.company_closed_amount,
        {{ divide('closed_by_segment.won_count', 'closed_by_segment.closed_count') }}
            as win_rate_by_count,
        case
            when closed_by_segment.closed_amount != 0
                then {{ divide('closed_by_segment.won_amount', 'closed_by_segment.closed_amount') }}
        end as win_rate_by_amount,
        {{ divide('company_wide.company_won_count', 'company_wide.company_closed_count') }}
            as company_win_rate_by_count,
        case
            when company_wide.company_closed_amount != 0
                then {{ divide(
                    'company_wide.company_won_amount', 'company_wide.company_closed_amount'
                ) }}
        end as company_win_rate_by_amount
    from closed_by_segment
    inner join company_wide
        on
            closed_by_segment.period_type = company_wide.period_type
            and closed_by_segment.period_start = company_wide.period_start
            and closed_by_segment.opportunity_type = company_wide.opportunity_type

),

final as (

    select
        cast(rates.period_type as {{ dbt.type_string() }}) as period_type,
        cast(rates.period_start as date) as period_start,
        cast(period_ends.period_end as date) as period_end,
        cast(as_of.as_of_date as date) as as_of_date,
        period_ends.period_end <= as_of.as_of_date as is_complete,
        cast(rates.opportunity_type as {{ dbt.type_string() }}) as opportunity_type,
        cast(rates.segment as {{ dbt.type_string() }}) as segment,
        cast(rates.won_count as bigint) as won_count,
        cast(rates.closed_count - rates.won_count as bigint) as lost_count,
        cast(rates.closed_count as bigint) as closed_count,
        cast(rates.win_rate_by_count as double) as win_rate_by_count,
        cast(rates.won_amount as decimal(18, 2)) as won_amount,
        cast(rates.closed_amount - rates.won_amount as decimal(18, 2)) as lost_amount,
        cast(rates.closed_amount as decimal(18, 2)) as closed_amount,
        cast(rates.win_rate_by_amount as double) as win_rate_by_amount,
        cast(rates.company_won_count as bigint) as company_won_count,
        cast(rates.company_closed_count as bigint) as company_closed_count,
        cast(rates.company_win_rate_by_count as double) as company_win_rate_by_count,
        cast(rates.company_won_amount as decimal(18, 2)) as company_won_amount,
        cast(rates.company_closed_amount as decimal(18, 2)) as company_closed_amount,
        cast(rates.company_win_rate_by_amount as double) as company_win_rate_by_amount,
        cast(
            rates.win_rate_by_count - rates.company_win_rate_by_count as double
        ) as win_rate_by_count_divergence,
        cast(
            rates.win_rate_by_amount - rates.company_win_rate_by_amount as double
        ) as win_rate_by_amount_divergence,
        cast(rates.median_cycle_days as double) as median_cycle_days
    from rates
    cross join as_of
    inner join period_ends
        on
            rates.period_type = period_ends.period_type
            and rates.period_start = period_ends.period_start

)

select * from final
