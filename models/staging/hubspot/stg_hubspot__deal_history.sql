{%- set history = source('hubspot', 'deal_history') -%}
{%- set deals = source('hubspot', 'deal') -%}

with

source as (

    {% if not execute or history.is_cte or load_relation(history) is not none -%}
    -- every row is a version: ingestion keeps the history of the deal's amount, currency,
    -- close date, stage, owner and type (meta.history of raw deal, dlt scd2); a deleted
    -- deal's last version is closed there, so no row of it is a deletion
    {{ fivetran_active_rows(history, every_version=true) }}
    {%- else -%}
    -- no history table (a schema a Fivetran connector maintains: SROS ingestion never wrote
    -- it): each live deal's current row is its one version
    select
        *,
        coalesce(_fivetran_synced, property_createdate) as _sros_valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as _sros_valid_to
    from ({{ fivetran_active_rows(deals) }}) as current_deals
    where
        not coalesce(is_deleted, false)
        and not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null
    {%- endif %}

),

renamed as (

    select
        -- ids
        deal_id,
        deal_pipeline_stage_id as deal_stage_id,
        owner_id,
        'hubspot' as source_system,

        -- descriptors
        property_dealtype as deal_type,

        -- money: amount is in currency_code
        property_amount as amount,
        upper(trim(property_deal_currency_code)) as currency_code,

        -- booleans
        _sros_valid_to is null as is_current,

        -- dates and timestamps (UTC); HubSpot stores the close date as a timestamp;
        -- ingestion stores the validity with a time zone, dbt sessions run in UTC
        cast(property_closedate as date) as close_date,
        property_createdate as created_at,
        cast(_sros_valid_from as {{ dbt.type_timestamp() }}) as valid_from_at,
        cast(_sros_valid_to as {{ dbt.type_timestamp() }}) as valid_to_at

    from source

)

select * from renamed
