-- The date the warehouse reports "as of". A KPI never reads the machine clock: pass
-- --vars '{as_of_date: "2026-09-30"}' to pin it; otherwise it is the day of the latest CRM
-- sync in the data, so rebuilding the same data gives the same numbers.
-- A one-row table, not a view: marts, tests and the expectation suites read it many times,
-- and as a view each read would rescan the deduplicated CRM staging models.

{{ config(materialized='table') }}

{% set pinned = var('as_of_date', none) %}
{% set as_of_expression = "cast('" ~ pinned ~ "' as date)" if pinned
    else "cast(synced_at as date)" %}
{% set synced_models = [] %}
{% if var('salesforce_enabled', true) %}
{% do synced_models.append(ref('stg_salesforce__leads')) %}
{% endif %}
{% if var('hubspot_enabled', true) %}
{% do synced_models.append(ref('stg_hubspot__contacts')) %}
{% endif %}

with

crm_syncs as (

    {% for synced_model in synced_models %}
    select max(synced_at) as synced_at from {{ synced_model }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

latest_sync as (

    select max(synced_at) as synced_at from crm_syncs

),

final as (

    select {{ as_of_expression }} as as_of_date
    from latest_sync

)

select * from final
