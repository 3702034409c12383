-- The calendar, one row per day; also the MetricFlow time spine (date_day).
-- Its range comes from vars so it covers any company's history and plans.

with

days as (

    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ var('calendar_start_date', '2020-01-01') ~ "' as date)",
        end_date="cast('" ~ var('calendar_end_date', '2031-01-01') ~ "' as date)",
    ) }}

),

final as (

    select
        cast(date_day as date) as date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start_date,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start_date,
        cast({{ dbt.date_trunc('year', 'date_day') }} as date) as year_start_date,
        cast({{ date_part_iso_weekday('date_day') }} as integer) as iso_weekday,
        {{ date_part_iso_weekday('date_day') }} >= 6 as is_weekend
    from days

)

select * from final
