-- The SLA clock: one row per sales region and business day with the day's opening and
-- closing instants in UTC. Opening hours are local (business_hours, per ISO weekday); days
-- without a row and the region's holidays (region_holidays) are closed. Converting each
-- day's local open/close to UTC separately makes the calendar exact across DST changes.

with

int_calendar_days as (

    select * from {{ ref('int_calendar_days') }}

),

business_hours as (

    select * from {{ ref('business_hours') }}

),

region_holidays as (

    select * from {{ ref('region_holidays') }}

),

open_days as (

    select
        business_hours.region,
        business_hours.time_zone,
        int_calendar_days.date_day as business_date,
        {{ local_timestamp_from_date_and_time(
            'int_calendar_days.date_day', 'business_hours.opens_at'
        ) }} as opens_at_local,
        {{ local_timestamp_from_date_and_time(
            'int_calendar_days.date_day', 'business_hours.closes_at'
        ) }} as closes_at_local
    from int_calendar_days
    inner join business_hours
        on int_calendar_days.iso_weekday = business_hours.iso_weekday
    left join region_holidays
        on
            business_hours.region = region_holidays.region
            and int_calendar_days.date_day = region_holidays.holiday_date
    where region_holidays.holiday_date is null

),

final as (

    select
        {{ dbt.concat(["region", "':'", "cast(business_date as " ~ dbt.type_string() ~ ")"]) }}
            as business_interval_id,
        region,
        time_zone,
        business_date,
        opens_at_local,
        closes_at_local,
        {{ local_to_utc('opens_at_local', 'time_zone') }} as opens_at,
        {{ local_to_utc('closes_at_local', 'time_zone') }} as closes_at
    from open_days

)

select * from final
