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
-- rebuilds whole the days whose touches differ from the table's: a touch new, gone
-- (deleted), moved to another day, delivered again in another landing file or changed in
-- place (its file rewritten under the same name). Each row carries _sros_row_hash, a hash
-- of the touch as delivered, and the days are compared by their count of touches and the
-- bit_xor of those hashes (macro differing_days), so int_person_touchpoints can compare its
-- rows with these the same way. A full refresh rebuilds every day. A day whose every touch
-- is gone has no new rows to replace it: the post-hook removes it (macro
-- remove_emptied_days).

-- What a touch is as delivered: its columns in the landing file, and the file.
{%- set delivered_columns = [
    'touchpoint_id', 'anonymous_id', 'campaign_id', 'email', 'touch_type', 'channel',
    'business_unit', 'page_url', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content',
    'utm_term', 'occurred_at', '_sros_source_file',
] %}
-- The touches staging keeps: those not deleted (the post-hook and the yml's row-count test
-- give remove_emptied_days and row_count_matches_input the same condition).
{%- set is_kept = '_sros_deleted_at is null' %}

with

source as (

    select * from {{ source('marketing', 'touchpoint') }}

),

kept as (

    select * from source
    where {{ is_kept }}

),

{% if is_incremental() %}
delivered as (

    -- every live touch's date and row hash (read from the source again, not from kept:
    -- a CTE read twice is materialised whole)
    select
        cast(occurred_at as date) as occurred_date,
        {{ row_hash(delivered_columns) }} as _sros_row_hash
    from {{ source('marketing', 'touchpoint') }}
    where {{ is_kept }}

),

changed as (

    {{ differing_days('delivered', 'occurred_date', ['_sros_row_hash']) }}

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

        -- the landing file the row came from, and the touch as delivered (what
        -- incremental runs compare): a name in the FROM clause's columns is the source's
        -- value, not an alias above (email as it arrived)
        _sros_source_file,
        {{ row_hash(delivered_columns) }} as _sros_row_hash

    from rebuilt

)

select * from renamed
