{{
    config(
        post_hook="{{ remove_emptied_days(
            'occurred_date',
            source('marketing', 'touchpoint'),
            'occurred_at',
            '_sros_deleted_at is null'
        ) }}",
    )
}}

-- Incremental by day (materialization and strategy per engine in dbt_project.yml): a run
-- rebuilds whole the days holding a touch that is new, gone (deleted), moved to another day
-- or delivered again in a landing file since the table was built (macro changed_days); a
-- full refresh rebuilds every day. A day whose every touch is gone has no new rows to
-- replace it: the post-hook removes it (macro remove_emptied_days).

with

source as (

    select * from {{ source('marketing', 'touchpoint') }}

),

kept as (

    select * from source
    where _sros_deleted_at is null

),

{% if is_incremental() %}
changed as (

    {{ changed_days('kept', this, 'touchpoint_id', 'occurred_at', '_sros_source_file') }}

),

rebuilt as (

    select kept.*
    from kept
    inner join changed
        on cast(kept.occurred_at as date) = changed.changed_date

),
{% else %}
rebuilt as (

    select * from kept

),
{% endif %}

-- One row per touch as it is: ingestion merges the raw table on touchpoint_id, and the unique
-- test checks it. No `distinct`: at 10M leads its hash over every column of 77M touches ran
-- out of DuckDB's 6GB limit (README, Benchmark, "10M leads").
renamed as (

    select
        -- ids
        touchpoint_id,
        anonymous_id,
        campaign_id,

        -- person (PII: stays in staging)
        lower(trim(email)) as email,

        -- touch (touch_type is the key of the touch_types seed)
        touch_type,
        channel,
        business_unit,
        page_url,

        -- utm parameters
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,

        -- timestamps (UTC)
        occurred_at,
        cast(occurred_at as date) as occurred_date,

        -- the landing file the row came from (incremental runs rebuild its day when the
        -- touch is delivered again)
        _sros_source_file

    from rebuilt

)

select * from renamed
