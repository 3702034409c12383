-- The date the warehouse reports "as of". A KPI never reads the machine clock: pass
-- --vars '{as_of_date: "2026-09-30"}' to pin it; otherwise it is the day of the latest CRM
-- sync of any CRM object table in the data (leads, contacts, accounts, opportunities; HubSpot
-- contacts, companies, deals), so rebuilding the same data gives the same numbers, and a CRM
-- export with only some of those tables still has an as-of date.
-- A one-row table, not a view: marts, tests and the expectation suites read it many times,
-- and as a view each read would rescan the deduplicated CRM staging models.

{{ config(materialized='table') }}

{% set pinned = var('as_of_date', none) %}
{% set as_of_expression = "cast('" ~ pinned ~ "' as date)" if pinned
    else "cast(synced_at as date)" %}
{% set synced_models = [] %}
{% if var('salesforce_enabled', true) %}
{% do synced_models.append(ref('stg_salesforce__leads')) %}
{% do synced_models.append(ref('stg_salesforce__contacts')) %}
{% do synced_models.append(ref('stg_salesforce__accounts')) %}
{% do synced_models.append(ref('stg_salesforce__opportunities')) %}
{% endif %}
{% if var('hubspot_enabled', true) %}
{% do synced_models.append(ref('stg_hubspot__contacts')) %}
{% do synced_models.append(ref('stg_hubspot__companies')) %}
{% do synced_models.append(ref('stg_hubspot__deals')) %}
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

as_of_day as (

    select {{ as_of_expression }} as as_of_date
    from latest_sync

),

final as (

    -- as_of_end_at: the first instant after the as-of day (UTC); "up to the end of the
    -- as-of date" is `< as_of_end_at` everywhere, so the boundary is written once.
    select
        as_of_date,
        {{ dbt.dateadd('day', 1, 'cast(as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}
            as as_of_end_at
    from as_of_day

)

select * from final
