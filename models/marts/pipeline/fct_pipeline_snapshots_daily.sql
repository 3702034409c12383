{{
    config(
        materialized='incremental',
        unique_key='snapshot_date',
        on_schema_change='fail',
    )
}}

-- Rebuilt from the opportunities' saved states (int_opportunity_versions): on each day,
-- the state an opportunity was in at the end of that day. An incremental run rebuilds only
-- the days from the latest snapshot_date in the table minus var
-- pipeline_snapshot_lookback_days up to the as-of date (late-arriving history within the
-- lookback is picked up), and from the first day holding an opportunity that has left the
-- published ones (quarantined or deleted since); a full refresh rebuilds every day. A day
-- rebuilt is replaced whole (delete+insert / insert_overwrite by snapshot_date), so a day on
-- which that opportunity was the only open one keeps it until a full refresh.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

opportunity_versions as (

    select * from {{ ref('int_opportunity_versions') }}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

withdrawn as (

    -- the first day already in the table that holds an opportunity no longer published
    -- (quarantined since, int_opportunities_accepted, or deleted in the CRM): an
    -- incremental run rebuilds from there so the opportunity leaves every day it was on
    {% if is_incremental() %}
    select min(loaded.snapshot_date) as first_snapshot_date
    from {{ this }} as loaded
    left join opportunity_versions
        on
            loaded.source_system = opportunity_versions.source_system
            and loaded.opportunity_id = opportunity_versions.opportunity_id
            and opportunity_versions.version_number = 1
    where opportunity_versions.opportunity_id is null
    {% else %}
    select cast(null as date) as first_snapshot_date
    {% endif %}

),

build_window as (

    select
        case
            when withdrawn.first_snapshot_date < {{ pipeline_snapshot_window_start() }}
                then withdrawn.first_snapshot_date
            else {{ pipeline_snapshot_window_start() }}
        end as first_snapshot_date,
        as_of.as_of_date as last_snapshot_date
    from as_of
    cross join withdrawn

),

open_versions as (

    -- a version is the end-of-day state on the days from the day it was saved up to, not
    -- including, the day the next version was saved (a version replaced on the day it was
    -- saved is no day's end state)
    select
        opportunity_versions.*,
        cast(opportunity_versions.valid_from_at as date) as first_day,
        cast(opportunity_versions.valid_to_at as date) as next_version_day
    from opportunity_versions
    cross join build_window
    where
        opportunity_versions.is_open
        and cast(opportunity_versions.valid_from_at as date)
        <= build_window.last_snapshot_date
        and (
            opportunity_versions.valid_to_at is null
            or cast(opportunity_versions.valid_to_at as date)
            > build_window.first_snapshot_date
        )

),

daily_states as (

    select
        dates.date_day as snapshot_date,
        open_versions.*
    from open_versions
    cross join build_window
    inner join dates
        on
            open_versions.first_day <= dates.date_day
            and (
                open_versions.next_version_day is null
                or open_versions.next_version_day > dates.date_day
            )
    where
        dates.date_day >= build_window.first_snapshot_date
        and dates.date_day <= build_window.last_snapshot_date

),

final as (

    select
        daily_states.snapshot_date,
        daily_states.opportunity_id,
        daily_states.source_system,
        daily_states.stage_key,
        daily_states.stage_order,
        daily_states.forecast_category,
        daily_states.close_date,
        daily_states.close_date < daily_states.snapshot_date as is_close_date_past,
        cast(daily_states.probability as double) as probability,
        cast(daily_states.amount as decimal(18, 2)) as amount,
        daily_states.currency_code,
        cast(conversion_rates.conversion_rate as double) as conversion_rate,
        {{ to_money(divide('daily_states.amount', 'conversion_rates.conversion_rate')) }}
            as amount_corporate,
        {{ to_money(
            divide('daily_states.amount', 'conversion_rates.conversion_rate')
            ~ ' * daily_states.probability'
        ) }} as weighted_amount_corporate,
        -- row_number() is an int on Spark, a bigint on DuckDB: the contract's type on both
        cast(daily_states.version_number as bigint) as version_number
    from daily_states
    left join conversion_rates
        on
            daily_states.currency_code = conversion_rates.currency_code
            and daily_states.snapshot_date >= conversion_rates.valid_from
            and daily_states.snapshot_date < conversion_rates.valid_to

)

select * from final
