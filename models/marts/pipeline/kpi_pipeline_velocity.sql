-- Pipeline velocity per month, segment and opportunity type: open opportunities at the end
-- of the month x average deal size x win rate / average cycle days, the last three over the
-- deals closed in the trailing months of pipeline_kpi_rules (in force on the month's last
-- day). Each factor ships with its numerator and denominator.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

pipeline_snapshots as (

    select * from {{ ref('fct_pipeline_snapshots_daily') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

pipeline_kpi_rules as (

    select * from {{ ref('pipeline_kpi_rules') }}

),

months as (

    -- each month's last day up to the as-of date: its calendar last day, or the as-of
    -- date while the month runs
    select
        calendar_months.month_start,
        case
            when calendar_months.month_last_day < as_of.as_of_date
                then calendar_months.month_last_day
            else as_of.as_of_date
        end as month_end_date,
        calendar_months.month_last_day <= as_of.as_of_date as is_complete
    from (
        select
            month_start_date as month_start,
            max(date_day) as month_last_day
        from dates
        group by 1
    ) as calendar_months
    cross join as_of
    where calendar_months.month_start <= as_of.as_of_date

),

months_with_rules as (

    select
        months.*,
        pipeline_kpi_rules.velocity_trailing_months,
        cast(
            {{ dbt.dateadd(
                'month',
                '1 - pipeline_kpi_rules.velocity_trailing_months',
                'months.month_start',
            ) }} as date
        ) as trailing_window_start
    from months
    inner join pipeline_kpi_rules
        on
            months.month_end_date >= pipeline_kpi_rules.valid_from
            and months.month_end_date < pipeline_kpi_rules.valid_to

),

open_at_month_end as (

    select
        months_with_rules.month_start,
        opportunities.segment,
        opportunities.opportunity_type,
        count(*) as open_count,
        coalesce(sum(pipeline_snapshots.amount_corporate), 0) as open_amount
    from pipeline_snapshots
    inner join months_with_rules
        on pipeline_snapshots.snapshot_date = months_with_rules.month_end_date
    inner join opportunities
        on
            pipeline_snapshots.source_system = opportunities.source_system
            and pipeline_snapshots.opportunity_id = opportunities.opportunity_id
    group by 1, 2, 3

),

closed_by_month as (

    select
        cast({{ dbt.date_trunc('month', 'opportunities.closed_date') }} as date)
            as closed_month,
        opportunities.segment,
        opportunities.opportunity_type,
        sum(case when opportunities.is_won then 1 else 0 end) as won_count,
        coalesce(
            sum(case when opportunities.is_won then opportunities.amount_corporate end), 0
        ) as won_amount,
        coalesce(
            sum(case when opportunities.is_won then opportunities.cycle_days end), 0
        ) as won_cycle_days,
        count(*) as closed_count
    from opportunities
    cross join as_of
    where
        opportunities.is_closed
        and opportunities.closed_date <= as_of.as_of_date
    group by 1, 2, 3

),

closed_in_trailing_window as (

    select
        months_with_rules.month_start,
        closed_by_month.segment,
        closed_by_month.opportunity_type,
        sum(closed_by_month.won_count) as won_count,
        sum(closed_by_month.won_amount) as won_amount,
        sum(closed_by_month.won_cycle_days) as won_cycle_days,
        sum(closed_by_month.closed_count) as closed_count
    from months_with_rules
    inner join closed_by_month
        on
            months_with_rules.trailing_window_start <= closed_by_month.closed_month
            and months_with_rules.month_start >= closed_by_month.closed_month
    group by 1, 2, 3

),

measures as (

    select
        month_start,
        segment,
        opportunity_type,
        open_count,
        open_amount,
        0 as won_count,
        0 as won_amount,
        0 as won_cycle_days,
        0 as closed_count
    from open_at_month_end

    union all

    select
        month_start,
        segment,
        opportunity_type,
        0 as open_count,
        0 as open_amount,
        won_count,
        won_amount,
        won_cycle_days,
        closed_count
    from closed_in_trailing_window

),

velocity_factors as (

    select
        month_start,
        segment,
        opportunity_type,
        sum(open_count) as open_count,
        sum(open_amount) as open_amount,
        sum(won_count) as won_count,
        sum(won_amount) as won_amount,
        sum(won_cycle_days) as won_cycle_days,
        sum(closed_count) as closed_count
    from measures
    group by 1, 2, 3

),

velocity as (

    select
        *,
        case when won_count > 0 then {{ divide('won_amount', 'won_count') }} end as avg_deal_size,
        case when closed_count > 0 then {{ divide('won_count', 'closed_count') }} end as win_rate,
        case
            when won_count > 0 then {{ divide('won_cycle_days', 'won_count') }}
        end as avg_cycle_days
    from velocity_factors

),

final as (

    select
        cast(velocity.month_start as date) as month_start,
        cast(months_with_rules.month_end_date as date) as month_end_date,
        cast(as_of.as_of_date as date) as as_of_date,
        months_with_rules.is_complete,
        cast(velocity.segment as {{ dbt.type_string() }}) as segment,
        cast(velocity.opportunity_type as {{ dbt.type_string() }}) as opportunity_type,
        cast(velocity.open_count as bigint) as open_count,
        cast(velocity.open_amount as decimal(18, 2)) as open_amount,
        cast(velocity.won_amount as decimal(18, 2)) as won_amount,
        cast(velocity.won_count as bigint) as won_count,
        {{ to_money('velocity.avg_deal_size') }} as avg_deal_size,
        cast(velocity.closed_count as bigint) as closed_count,
        cast(velocity.win_rate as double) as win_rate,
        cast(velocity.won_cycle_days as bigint) as won_cycle_days,
        cast(velocity.avg_cycle_days as double) as avg_cycle_days,
        {{ to_money(
            'case when velocity.avg_cycle_days > 0 then velocity.open_count'
            ~ ' * velocity.avg_deal_size * velocity.win_rate / velocity.avg_cycle_days end'
        ) }} as velocity_per_day,
        cast(months_with_rules.velocity_trailing_months as integer)
            as velocity_trailing_months,
        cast(months_with_rules.trailing_window_start as date) as trailing_window_start
    from velocity
    cross join as_of
    inner join months_with_rules
        on velocity.month_start = months_with_rules.month_start

)

select * from final
