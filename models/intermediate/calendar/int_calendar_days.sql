-- The calendar, one row per day with its week (ISO Monday), month, quarter and year;
-- published as dim_dates, read here by the business-time models (intermediate models never
-- read marts).
-- Its range: from var calendar_start_date when set, else from January 1st of the earliest
-- year any record of an enabled system is dated in (CRM objects and their stage history,
-- marketing touches, ad spend, expenses, billing, intent), so a company whose data starts
-- in 2016 gets a calendar from 2016 without a setting; up to, not including,
-- calendar_end_date. Unpinned, the day spine is generated from calendar_floor_date (no
-- derived calendar starts earlier: records dated before it are taken for typing errors, and
-- a company with older data sets calendar_start_date) and cut to that range.

{% set calendar_floor_date = var('calendar_floor_date', '1990-01-01') %}
{% set pinned_start = var('calendar_start_date', none) %}
{% set dated_records = [] %}
{% if var('salesforce_enabled', true) %}
{% do dated_records.append((ref('stg_salesforce__leads'), 'created_at')) %}
{% do dated_records.append((ref('stg_salesforce__contacts'), 'created_at')) %}
{% do dated_records.append((ref('stg_salesforce__accounts'), 'created_at')) %}
{% do dated_records.append((ref('stg_salesforce__opportunities'), 'created_at')) %}
{% do dated_records.append((ref('stg_salesforce__opportunity_history'), 'changed_at')) %}
{% do dated_records.append((ref('stg_salesforce__lead_history'), 'changed_at')) %}
{% endif %}
{% if var('hubspot_enabled', true) %}
{% do dated_records.append((ref('stg_hubspot__contacts'), 'created_at')) %}
{% do dated_records.append((ref('stg_hubspot__companies'), 'created_at')) %}
{% do dated_records.append((ref('stg_hubspot__deals'), 'created_at')) %}
{% do dated_records.append((ref('stg_hubspot__deal_stages'), 'entered_at')) %}
{% do dated_records.append((ref('stg_hubspot__contact_property_history'), 'changed_at')) %}
{% endif %}
{% if var('marketing_enabled', true) %}
{% do dated_records.append((ref('stg_marketing__touchpoints'), 'occurred_at')) %}
{% endif %}
{% if var('ads_enabled', true) %}
{% do dated_records.append((ref('stg_ads__ad_spend_daily'), 'spend_date')) %}
{% endif %}
{% if var('finance_enabled', true) %}
{% do dated_records.append((ref('stg_finance__gtm_expenses_monthly'), 'month_start_date')) %}
{% endif %}
{% if var('billing_enabled', true) %}
{% do dated_records.append((ref('stg_billing__subscriptions_monthly'), 'month_start_date')) %}
{% endif %}
{% if var('intent_enabled', true) %}
{% do dated_records.append((ref('stg_intent__intent_weekly'), 'week_start_date')) %}
{% endif %}

with

spine as (

    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ (pinned_start or calendar_floor_date) ~ "' as date)",
        end_date="cast('" ~ var('calendar_end_date', '2031-01-01') ~ "' as date)",
    ) }}

),

{% if not pinned_start %}
earliest_dates as (

    {% for model, date_column in dated_records %}
    select min(cast({{ date_column }} as date)) as earliest_date
    from {{ model }}
    where cast({{ date_column }} as date) >= cast('{{ calendar_floor_date }}' as date)
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if not dated_records %}
    select cast(null as date) as earliest_date
    {% endif %}

),

{% endif %}
calendar_start as (

    {% if pinned_start %}
    select cast('{{ pinned_start }}' as date) as calendar_start_date
    {% else %}
    -- No dated record at all (an empty warehouse): the calendar starts at the floor.
    select
        coalesce(
            cast({{ dbt.date_trunc('year', 'min(earliest_date)') }} as date),
            cast('{{ calendar_floor_date }}' as date)
        ) as calendar_start_date
    from earliest_dates
    {% endif %}

),

days as (

    select spine.date_day
    from spine
    inner join calendar_start
        on cast(spine.date_day as date) >= calendar_start.calendar_start_date

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
