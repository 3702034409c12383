-- Every recorded value of a funnel field of a person record, from both CRMs: the status a
-- Salesforce lead was created with and each later Status change (lead_history), and each
-- HubSpot lifecyclestage / hs_lead_status value (contact_property_history, which has a row
-- at creation). Which fields count is read from crm_stage_mappings; each value is mapped to
-- its stage with a left join, so an unmapped value stays here with a null stage_key (the
-- not_null test and assert_crm_stage_values_are_mapped name it) instead of disappearing.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

crm_stage_mappings as (

    select * from {{ ref('crm_stage_mappings') }}

),

int_person_identities as (

    select * from {{ ref('int_person_identities') }}

),

{% if salesforce %}
stg_salesforce__leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

stg_salesforce__lead_history as (

    select * from {{ ref('stg_salesforce__lead_history') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__contact_property_history as (

    select * from {{ ref('stg_hubspot__contact_property_history') }}

),
{% endif %}

funnel_fields as (

    select distinct
        source_system,
        crm_object,
        crm_field
    from crm_stage_mappings

),

{% if salesforce %}
salesforce_first_changes as (

    select
        lead_id,
        lower(field_name) as crm_field,
        old_value,
        row_number() over (
            partition by lead_id, field_name
            order by changed_at, lead_history_id
        ) as change_number
    from stg_salesforce__lead_history

),
{% endif %}

changes as (

    {% if salesforce %}
    select
        stg_salesforce__lead_history.source_system,
        'lead' as crm_object,
        stg_salesforce__lead_history.lead_id as crm_record_id,
        lower(stg_salesforce__lead_history.field_name) as crm_field,
        stg_salesforce__lead_history.new_value as crm_value,
        stg_salesforce__lead_history.old_value as previous_crm_value,
        stg_salesforce__lead_history.changed_at,
        stg_salesforce__lead_history.changed_by_user_id,
        'changed' as change_kind,
        'salesforce.lead_history' as source_table,
        stg_salesforce__lead_history.lead_history_id as source_row_id
    from stg_salesforce__lead_history

    union all

    -- the status a lead was created with: the old value of its first status change, or its
    -- current status when it never changed
    select
        stg_salesforce__leads.source_system,
        'lead' as crm_object,
        stg_salesforce__leads.lead_id as crm_record_id,
        funnel_fields.crm_field,
        coalesce(salesforce_first_changes.old_value, stg_salesforce__leads.lead_status)
            as crm_value,
        cast(null as {{ dbt.type_string() }}) as previous_crm_value,
        stg_salesforce__leads.created_at as changed_at,
        cast(null as {{ dbt.type_string() }}) as changed_by_user_id,
        'created' as change_kind,
        'salesforce.lead' as source_table,
        stg_salesforce__leads.lead_id as source_row_id
    from stg_salesforce__leads
    inner join funnel_fields
        on
            stg_salesforce__leads.source_system = funnel_fields.source_system
            and funnel_fields.crm_object = 'lead'
    left join salesforce_first_changes
        on
            stg_salesforce__leads.lead_id = salesforce_first_changes.lead_id
            and funnel_fields.crm_field = salesforce_first_changes.crm_field
            and salesforce_first_changes.change_number = 1
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        source_system,
        'contact' as crm_object,
        contact_id as crm_record_id,
        property_name as crm_field,
        property_value as crm_value,
        lag(property_value) over (
            partition by contact_id, property_name
            order by changed_at, property_value
        ) as previous_crm_value,
        changed_at,
        cast(null as {{ dbt.type_string() }}) as changed_by_user_id,
        'changed' as change_kind,
        'hubspot.contact_property_history' as source_table,
        cast({{ dbt.hash(dbt.concat([
            "contact_id", "'|'", "property_name", "'|'",
            "coalesce(property_value, '')", "'|'",
            "cast(changed_at as " ~ dbt.type_string() ~ ")",
        ])) }} as {{ dbt.type_string() }}) as source_row_id
    from stg_hubspot__contact_property_history
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_object,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as crm_field,
        cast(null as {{ dbt.type_string() }}) as crm_value,
        cast(null as {{ dbt.type_string() }}) as previous_crm_value,
        cast(null as {{ dbt.type_timestamp() }}) as changed_at,
        cast(null as {{ dbt.type_string() }}) as changed_by_user_id,
        cast(null as {{ dbt.type_string() }}) as change_kind,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as source_row_id
    where 1 = 0
    {% endif %}

),

funnel_changes as (

    -- keep the funnel fields only (Status, lifecyclestage, hs_lead_status), not Owner etc.
    select changes.*
    from changes
    inner join funnel_fields
        on
            changes.source_system = funnel_fields.source_system
            and changes.crm_object = funnel_fields.crm_object
            and changes.crm_field = funnel_fields.crm_field

),

final as (

    select
        {{ dbt.concat(["funnel_changes.source_table", "':'", "funnel_changes.source_row_id"]) }}
            as status_change_id,
        int_person_identities.person_id,
        funnel_changes.source_system,
        funnel_changes.crm_object,
        funnel_changes.crm_record_id,
        funnel_changes.crm_field,
        funnel_changes.crm_value,
        funnel_changes.previous_crm_value,
        crm_stage_mappings.stage_key,
        funnel_changes.change_kind,
        funnel_changes.changed_at,
        funnel_changes.changed_by_user_id,
        funnel_changes.source_table,
        funnel_changes.source_row_id
    from funnel_changes
    -- history of records removed in staging (deleted, merged away) has no person: dropped
    inner join int_person_identities
        on
            funnel_changes.source_system = int_person_identities.source_system
            and funnel_changes.crm_object = int_person_identities.crm_object
            and funnel_changes.crm_record_id = int_person_identities.crm_record_id
    left join crm_stage_mappings
        on
            funnel_changes.source_system = crm_stage_mappings.source_system
            and funnel_changes.crm_object = crm_stage_mappings.crm_object
            and funnel_changes.crm_field = crm_stage_mappings.crm_field
            and funnel_changes.crm_value = crm_stage_mappings.crm_value

)

select * from final
