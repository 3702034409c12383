-- Every CRM person record of both CRMs in one shape: Salesforce leads and contacts, HubSpot
-- contacts (merged and deleted records are already removed in staging). Identity
-- resolution (int_person_identities) and the person dimension (dim_persons) both read it,
-- so the union is written once.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

{% if salesforce %}
stg_salesforce__leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

stg_salesforce__contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),
{% endif %}

final as (

    {% if salesforce %}
    select
        source_system,
        'lead' as crm_object,
        lead_id as crm_record_id,
        email,
        converted_contact_id as converted_crm_record_id,
        coalesce(converted_account_id, matched_account_id) as account_id,
        title,
        cast(null as {{ dbt.type_string() }}) as buying_role,
        lead_source,
        country_code,
        created_at
    from stg_salesforce__leads

    union all

    select
        source_system,
        'contact' as crm_object,
        contact_id as crm_record_id,
        email,
        cast(null as {{ dbt.type_string() }}) as converted_crm_record_id,
        account_id,
        title,
        buying_role,
        lead_source,
        country_code,
        created_at
    from stg_salesforce__contacts
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        source_system,
        'contact' as crm_object,
        contact_id as crm_record_id,
        email,
        cast(null as {{ dbt.type_string() }}) as converted_crm_record_id,
        company_id as account_id,
        title,
        buying_role,
        lead_source,
        country_code,
        created_at
    from stg_hubspot__contacts
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_object,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as email,
        cast(null as {{ dbt.type_string() }}) as converted_crm_record_id,
        cast(null as {{ dbt.type_string() }}) as account_id,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ dbt.type_string() }}) as buying_role,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ dbt.type_timestamp() }}) as created_at
    where 1 = 0
    {% endif %}

)

select * from final
