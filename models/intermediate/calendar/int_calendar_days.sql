-- The calendar, one row per day with its week (ISO Monday), month, quarter and year;
-- published as dim_dates, read here by the business-time models (intermediate models never
-- read marts). Its range comes from vars so it covers any company's history and plans.
-- A table: the SLA clock and dim_dates both read it.

{{ config(materialized='table') }}

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
