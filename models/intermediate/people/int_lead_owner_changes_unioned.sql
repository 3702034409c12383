-- Every recorded owner of a person record, both CRMs: Salesforce lead_history Owner
-- changes and HubSpot hubspot_owner_id values (contact_property_history). Routing at MQL
-- and reassignment of untouched leads are read from these rows.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

int_person_identities as (

    select * from {{ ref('int_person_identities') }}

),

{% if salesforce %}
stg_salesforce__lead_history as (

    select * from {{ ref('stg_salesforce__lead_history') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__contact_property_history as (

    select * from {{ ref('stg_hubspot__contact_property_history') }}

),
{% endif %}

changes as (

    {% if salesforce %}
    select
        source_system,
        'lead' as crm_object,
        lead_id as crm_record_id,
        new_value as owner_user_id,
        old_value as previous_owner_user_id,
        changed_at,
        'salesforce.lead_history' as source_table,
        lead_history_id as source_row_id
    from stg_salesforce__lead_history
    where field_name = 'Owner'
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        source_system,
        'contact' as crm_object,
        contact_id as crm_record_id,
        property_value as owner_user_id,
        lag(property_value) over (
            partition by contact_id order by changed_at, property_value
        ) as previous_owner_user_id,
        changed_at,
        'hubspot.contact_property_history' as source_table,
        cast({{ dbt.hash(dbt.concat([
            "contact_id", "'|'", "property_name", "'|'",
            "coalesce(property_value, '')", "'|'",
            "cast(changed_at as " ~ dbt.type_string() ~ ")",
        ])) }} as {{ dbt.type_string() }}) as source_row_id
    from stg_hubspot__contact_property_history
    where property_name = 'hubspot_owner_id'
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_object,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as owner_user_id,
        cast(null as {{ dbt.type_string() }}) as previous_owner_user_id,
        cast(null as {{ dbt.type_timestamp() }}) as changed_at,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as source_row_id
    where 1 = 0
    {% endif %}

),

final as (

    select
        {{ dbt.concat(["changes.source_table", "':'", "changes.source_row_id"]) }}
            as owner_change_id,
        int_person_identities.person_id,
        changes.source_system,
        changes.crm_object,
        changes.crm_record_id,
        changes.owner_user_id,
        changes.previous_owner_user_id,
        changes.changed_at,
        changes.source_table,
        changes.source_row_id
    from changes
    inner join int_person_identities
        on
            changes.source_system = int_person_identities.source_system
            and changes.crm_object = int_person_identities.crm_object
            and changes.crm_record_id = int_person_identities.crm_record_id

)

select * from final
