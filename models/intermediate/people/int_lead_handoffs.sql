-- One row per MQL handoff with the facts of its cycle, which runs until the person's next
-- handoff (int_lead_handoff_cycles): routing and reassignment (int_lead_handoff_owners),
-- the first sales touch (int_lead_handoff_first_touches), the disposition and qualification
-- (int_lead_handoff_dispositions), and the current fields of the handed-over record. Lead
-- priority, rejection reason and converted opportunity are fields the CRMs keep only for
-- the record's latest state (no field history): the reason is known for the latest
-- rejection only, the converted opportunity for the cycle that qualified.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

int_lead_handoff_cycles as (

    select * from {{ ref('int_lead_handoff_cycles') }}

),

int_lead_handoff_owners as (

    select * from {{ ref('int_lead_handoff_owners') }}

),

int_lead_handoff_first_touches as (

    select * from {{ ref('int_lead_handoff_first_touches') }}

),

int_lead_handoff_dispositions as (

    select * from {{ ref('int_lead_handoff_dispositions') }}

),

{% if salesforce %}
stg_salesforce__leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),
{% endif %}

record_fields as (

    -- lead priority, rejection reason and converted opportunity: current values per record
    {% if salesforce %}
    select
        source_system,
        lead_id as crm_record_id,
        lead_priority,
        rejection_reason_code,
        converted_opportunity_id as opportunity_id
    from stg_salesforce__leads
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        source_system,
        contact_id as crm_record_id,
        lead_priority,
        rejection_reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id
    from stg_hubspot__contacts
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as lead_priority,
        cast(null as {{ dbt.type_string() }}) as rejection_reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id
    where 1 = 0
    {% endif %}

),

final as (

    select
        int_lead_handoff_cycles.*,
        int_lead_handoff_cycles.next_handed_at is null as is_latest_handoff,
        record_fields.lead_priority,
        int_lead_handoff_owners.routed_owner_user_id,
        int_lead_handoff_owners.routed_at,
        int_lead_handoff_owners.routed_owner_change_id,
        int_lead_handoff_owners.reassignment_count,
        int_lead_handoff_owners.reassigned_at,
        int_lead_handoff_owners.reassigned_to_owner_user_id,
        int_lead_handoff_owners.reassignment_owner_change_id,
        int_lead_handoff_owners.routed_owner_team,
        int_lead_handoff_owners.owner_region,
        int_lead_handoff_first_touches.first_touch_at,
        int_lead_handoff_first_touches.first_touch_type,
        int_lead_handoff_first_touches.first_touch_owner_user_id,
        int_lead_handoff_first_touches.first_touch_source_table,
        int_lead_handoff_first_touches.first_touch_activity_id,
        int_lead_handoff_dispositions.disposition_stage_key,
        int_lead_handoff_dispositions.dispositioned_at,
        int_lead_handoff_dispositions.is_accepted,
        int_lead_handoff_dispositions.is_rejected,
        int_lead_handoff_dispositions.is_disposition_terminal,
        int_lead_handoff_dispositions.disposition_status_change_id,
        case
            when
                int_lead_handoff_dispositions.is_rejected
                and int_lead_handoff_dispositions.is_disposition_current_stage
                and int_lead_handoff_cycles.next_handed_at is null
                then record_fields.rejection_reason_code
        end as rejection_reason_code,
        int_lead_handoff_dispositions.qualified_at,
        int_lead_handoff_dispositions.qualification_status_change_id,
        coalesce(
            case
                when int_lead_handoff_dispositions.is_qualified
                    then record_fields.opportunity_id
            end,
            int_lead_handoff_dispositions.hubspot_deal_id
        ) as opportunity_id
    from int_lead_handoff_cycles
    left join record_fields
        on
            int_lead_handoff_cycles.source_system = record_fields.source_system
            and int_lead_handoff_cycles.crm_record_id = record_fields.crm_record_id
    left join int_lead_handoff_owners
        on int_lead_handoff_cycles.handoff_id = int_lead_handoff_owners.handoff_id
    left join int_lead_handoff_first_touches
        on int_lead_handoff_cycles.handoff_id = int_lead_handoff_first_touches.handoff_id
    left join int_lead_handoff_dispositions
        on int_lead_handoff_cycles.handoff_id = int_lead_handoff_dispositions.handoff_id

)

select * from final
