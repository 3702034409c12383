-- The date the warehouse reports "as of". A KPI never reads the machine clock: pass
-- --vars '{as_of_date: "2026-09-30"}' to pin it; otherwise it is the day of the latest CRM
-- sync of any CRM object table in the data (leads, contacts, accounts, opportunities; HubSpot
-- contacts, companies, deals), so rebuilding the same data gives the same numbers, and a CRM
-- export with only some of those tables still has an as-of date. An export made without a
-- sync column (_fivetran_synced empty, e.g. a Data Loader export) is as of its latest record
-- change: the latest last-modified (else created) time of those tables.

{% set pinned = var('as_of_date', none) %}
{% set as_of_expression = "cast('" ~ pinned ~ "' as date)" if pinned
    else "cast(synced_at as date)" %}
{% set crm_objects = [] %}
{% if var('salesforce_enabled', true) %}
{% do crm_objects.append((ref('stg_salesforce__leads'), 'last_modified_at')) %}
{% do crm_objects.append((ref('stg_salesforce__contacts'), 'last_modified_at')) %}
{% do crm_objects.append((ref('stg_salesforce__accounts'), 'last_modified_at')) %}
{% do crm_objects.append((ref('stg_salesforce__opportunities'), 'last_modified_at')) %}
{% endif %}
{% if var('hubspot_enabled', true) %}
{% do crm_objects.append((ref('stg_hubspot__contacts'), 'last_modified_at')) %}
{% do crm_objects.append((ref('stg_hubspot__companies'), 'created_at')) %}
{% do crm_objects.append((ref('stg_hubspot__deals'), 'created_at')) %}
{% endif %}

with

crm_syncs as (

    {% for crm_object, modified_at in crm_objects %}
    select
        max(synced_at) as synced_at,
        max(coalesce({{ modified_at }}, created_at)) as modified_at
    from {{ crm_object }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if not crm_objects %}
    select
        cast(null as {{ dbt.type_timestamp() }}) as synced_at,
        cast(null as {{ dbt.type_timestamp() }}) as modified_at
    {% endif %}

),

latest_sync as (

    select coalesce(max(synced_at), max(modified_at)) as synced_at from crm_syncs

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
