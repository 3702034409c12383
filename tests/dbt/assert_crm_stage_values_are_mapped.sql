{{ config(
    store_failures=true,
    severity=var('unmapped_value_severity', 'error'),
    tags=['unmapped_values'],
    meta={'seed': 'crm_stage_mappings'},
) }}

-- Every CRM value that places a record in the funnel (Salesforce lead status and opportunity
-- stage, HubSpot lifecycle stage, lead status and deal stage), current or historical, has
-- a row in the mapping seed crm_stage_mappings. Returns one row per unmapped value,
-- naming it; fix by adding the value to the seed (or correcting the CRM), never by
-- filtering here.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

mappings as (

    select * from {{ ref('crm_stage_mappings') }}

),

{% if salesforce %}
salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

salesforce_lead_history as (

    select * from {{ ref('stg_salesforce__lead_history') }}

),

salesforce_opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

salesforce_opportunity_history as (

    select * from {{ ref('stg_salesforce__opportunity_history') }}

),
{% endif %}

{% if hubspot %}
hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

hubspot_contact_property_history as (

    select * from {{ ref('stg_hubspot__contact_property_history') }}

),

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

hubspot_deal_stages as (

    select * from {{ ref('stg_hubspot__deal_stages') }}

),
{% endif %}

observed_values as (

    {% if salesforce %}
    select
        'salesforce' as source_system,
        'lead' as crm_object,
        'status' as crm_field,
        lead_status as crm_value,
        'stg_salesforce__leads.lead_status' as seen_in
    from salesforce_leads

    union all

    select
        'salesforce' as source_system,
        'lead' as crm_object,
        'status' as crm_field,
        new_value as crm_value,
        'stg_salesforce__lead_history.new_value' as seen_in
    from salesforce_lead_history
    where field_name = 'Status'

    union all

    select
        'salesforce' as source_system,
        'opportunity' as crm_object,
        'stage_name' as crm_field,
        stage_name as crm_value,
        'stg_salesforce__opportunities.stage_name' as seen_in
    from salesforce_opportunities

    union all

    select
        'salesforce' as source_system,
        'opportunity' as crm_object,
        'stage_name' as crm_field,
        stage_name as crm_value,
        'stg_salesforce__opportunity_history.stage_name' as seen_in
    from salesforce_opportunity_history
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        'hubspot' as source_system,
        'contact' as crm_object,
        'lifecyclestage' as crm_field,
        lifecycle_stage as crm_value,
        'stg_hubspot__contacts.lifecycle_stage' as seen_in
    from hubspot_contacts

    union all

    select
        'hubspot' as source_system,
        'contact' as crm_object,
        'hs_lead_status' as crm_field,
        lead_status as crm_value,
        'stg_hubspot__contacts.lead_status' as seen_in
    from hubspot_contacts

    union all

    select
        'hubspot' as source_system,
        'contact' as crm_object,
        property_name as crm_field,
        property_value as crm_value,
        'stg_hubspot__contact_property_history.property_value' as seen_in
    from hubspot_contact_property_history
    where property_name in ('lifecyclestage', 'hs_lead_status')

    union all

    select
        'hubspot' as source_system,
        'deal' as crm_object,
        'dealstage' as crm_field,
        deal_stage_id as crm_value,
        'stg_hubspot__deals.deal_stage_id' as seen_in
    from hubspot_deals

    union all

    select
        'hubspot' as source_system,
        'deal' as crm_object,
        'dealstage' as crm_field,
        deal_stage_id as crm_value,
        'stg_hubspot__deal_stages.deal_stage_id' as seen_in
    from hubspot_deal_stages
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_object,
        cast(null as {{ dbt.type_string() }}) as crm_field,
        cast(null as {{ dbt.type_string() }}) as crm_value,
        cast(null as {{ dbt.type_string() }}) as seen_in
    where 1 = 0
    {% endif %}

),

unmapped as (

    select
        observed_values.source_system,
        observed_values.crm_object,
        observed_values.crm_field,
        observed_values.crm_value,
        observed_values.seen_in,
        count(*) as rows_seen
    from observed_values
    left join mappings
        on
            observed_values.source_system = mappings.source_system
            and observed_values.crm_object = mappings.crm_object
            and observed_values.crm_field = mappings.crm_field
            and observed_values.crm_value = mappings.crm_value
    where
        observed_values.crm_value is not null
        and mappings.stage_key is null
    group by 1, 2, 3, 4, 5

),

final as (

    select
        *,
        {{ dbt.concat([
            "'unmapped CRM value '",
            "source_system",
            "' '",
            "crm_object",
            "'.'",
            "crm_field",
            "' = \"'",
            "crm_value",
            "'\" (seen in '",
            "seen_in",
            "'): add it to '",
            "'" ~ mapping_seed_file('crm_stage_mappings') ~ "'",
            "' (`sros mappings` writes the row to fill in)'",
        ]) }} as problem
    from unmapped

)

select * from final
