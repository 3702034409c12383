{{ config(store_failures=true) }}

-- Every period of the pipeline waterfall balances: opening + new + pulled in + increased
-- - decreased - won - lost - pushed out = closing; and its closing pipeline is what the
-- daily snapshots hold at the end of the period (open, due by the period's last day).
-- Returns one row per period that does not, naming the gap.

with

waterfall as (

    select * from {{ ref('fct_pipeline_waterfall') }}

),

pipeline_snapshots as (

    select * from {{ ref('fct_pipeline_snapshots_daily') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

periods as (

    select
        period_type,
        period_start_date,
        period_end_date,
        sum(opening_amount) as opening_amount,
        sum(
            opening_amount + new_amount + pulled_in_amount + increased_amount
            - decreased_amount - won_amount - lost_amount - pushed_out_amount
        ) as computed_closing_amount,
        sum(closing_amount) as closing_amount
    from waterfall
    group by 1, 2, 3

),

snapshot_closing as (

    select
        periods.period_type,
        periods.period_start_date,
        coalesce(sum(pipeline_snapshots.amount_corporate), 0) as snapshot_closing_amount
    from periods
    cross join as_of
    left join pipeline_snapshots
        on
            pipeline_snapshots.snapshot_date
            = least(periods.period_end_date, as_of.as_of_date)
            and periods.period_end_date >= pipeline_snapshots.close_date
    group by 1, 2

),

final as (

    select
        periods.*,
        snapshot_closing.snapshot_closing_amount,
        {{ dbt.concat([
            "'waterfall of '",
            "periods.period_type",
            "' '",
            dbt.safe_cast("periods.period_start_date", dbt.type_string()),
            "' does not balance: computed closing '",
            dbt.safe_cast("periods.computed_closing_amount", dbt.type_string()),
            "', closing '",
            dbt.safe_cast("periods.closing_amount", dbt.type_string()),
            "', snapshots '",
            dbt.safe_cast("snapshot_closing.snapshot_closing_amount", dbt.type_string()),
        ]) }} as problem
    from periods
    inner join snapshot_closing
        on
            periods.period_type = snapshot_closing.period_type
            and periods.period_start_date = snapshot_closing.period_start_date
    where
        abs(periods.computed_closing_amount - periods.closing_amount) >= 0.01
        or abs(periods.closing_amount - snapshot_closing.snapshot_closing_amount) >= 0.01

)

select * from final
