{{ config(store_failures=true) }}

-- Each period type of the pipeline KPI marts partitions the opportunities: the periods of
-- kpi_pipeline_created add up to the opportunities created up to the as-of date (count,
-- amount, marketing-sourced count and amount), and the periods of kpi_win_rates to the
-- opportunities won and closed up to it (count and amount). Returns each period type and
-- measure that does not add up, and a mart without any period.

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

pipeline_created as (

    select * from {{ ref('kpi_pipeline_created') }}

),

win_rates as (

    select * from {{ ref('kpi_win_rates') }}

),

expected as (

    select
        count(*) as created_count,
        coalesce(sum(opportunities.amount_corporate), 0) as created_amount,
        sum(case when opportunities.is_marketing_sourced then 1 else 0 end) as sourced_count,
        coalesce(
            sum(
                case when opportunities.is_marketing_sourced then opportunities.amount_corporate end
            ),
            0
        ) as sourced_amount,
        sum(
            case
                when opportunities.is_won and opportunities.closed_date <= as_of.as_of_date
                    then 1
                else 0
            end
        ) as won_count,
        sum(
            case
                when opportunities.is_closed and opportunities.closed_date <= as_of.as_of_date
                    then 1
                else 0
            end
        ) as closed_count,
        coalesce(
            sum(
                case
                    when opportunities.is_closed and opportunities.closed_date <= as_of.as_of_date
                        then opportunities.amount_corporate
                end
            ),
            0
        ) as closed_amount
    from opportunities
    cross join as_of
    where opportunities.created_date <= as_of.as_of_date

),

created_totals as (

    select
        period_type,
        sum(created_count) as created_count,
        sum(created_amount) as created_amount,
        sum(sourced_count) as sourced_count,
        sum(sourced_amount) as sourced_amount
    from pipeline_created
    group by 1

),

win_rate_totals as (

    select
        period_type,
        sum(won_count) as won_count,
        sum(closed_count) as closed_count,
        sum(closed_amount) as closed_amount
    from win_rates
    group by 1

),

created_periods as (

    select count(*) as period_count from created_totals

),

win_rate_periods as (

    select count(*) as period_count from win_rate_totals

),

gaps as (

    -- a sum over no value (null) counts as zero, so it does not add up to a total that is not
    select
        'kpi_pipeline_created' as mart,
        created_totals.period_type,
        coalesce(created_totals.created_count, 0) != expected.created_count
        or coalesce(created_totals.created_amount, 0) != expected.created_amount
        or coalesce(created_totals.sourced_count, 0) != expected.sourced_count
        or coalesce(created_totals.sourced_amount, 0) != expected.sourced_amount as is_gap
    from created_totals
    cross join expected

    union all

    select
        'kpi_win_rates' as mart,
        win_rate_totals.period_type,
        coalesce(win_rate_totals.won_count, 0) != expected.won_count
        or coalesce(win_rate_totals.closed_count, 0) != expected.closed_count
        or coalesce(win_rate_totals.closed_amount, 0) != expected.closed_amount as is_gap
    from win_rate_totals
    cross join expected

    union all

    -- a mart without any period while there is something to add up: nothing above would
    -- compare it
    select
        'kpi_pipeline_created' as mart,
        'any' as period_type,
        expected.created_count > 0 and created_periods.period_count = 0 as is_gap
    from expected
    cross join created_periods

    union all

    select
        'kpi_win_rates' as mart,
        'any' as period_type,
        expected.closed_count > 0 and win_rate_periods.period_count = 0 as is_gap
    from expected
    cross join win_rate_periods

),

final as (

    select
        mart,
        period_type,
        {{ dbt.concat([
            "mart", "' periods of type '", "period_type",
            "' do not add up to fct_opportunities'",
        ]) }} as problem
    from gaps
    where is_gap

)

select * from final
