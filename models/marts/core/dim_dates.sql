-- The calendar, one row per day; also the MetricFlow time spine (date_day). Built in
-- int_calendar_days (range from vars calendar_start_date / calendar_end_date).

with

int_calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

final as (

    select
        date_day,
        week_start_date,
        month_start_date,
        quarter_start_date,
        year_start_date,
        iso_weekday,
        is_weekend
    from int_calendar_days

)

select * from final
