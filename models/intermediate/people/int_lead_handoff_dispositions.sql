-- What sales did with each MQL handoff, from the person's stages entered after it and
-- before their next handoff: the disposition (the first acceptance or rejection stage
-- entered) and the qualification (the first qualification stage entered), and for HubSpot
-- the first deal the handed-over contact originated within the cycle (HubSpot keeps no
-- converted-deal field on the contact). One row per handoff.

{%- set hubspot = var('hubspot_enabled', true) %}

with

int_lead_handoff_cycles as (

    select * from {{ ref('int_lead_handoff_cycles') }}

),

int_lead_stage_entries as (

    select * from {{ ref('int_lead_stage_entries') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

{% if hubspot %}
stg_hubspot__deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),
{% endif %}

cycle_stages as (

    select
        int_lead_handoff_cycles.handoff_id,
        int_lead_stage_entries.stage_key,
        int_lead_stage_entries.entered_at,
        int_lead_stage_entries.is_current_stage,
        int_lead_stage_entries.status_change_id,
        int_lead_stage_entries.entry_sequence,
        coalesce(int_funnel_stages_classified.is_acceptance_stage, false)
            as is_acceptance_stage,
        coalesce(int_funnel_stages_classified.is_rejection_stage, false) as is_rejection_stage,
        coalesce(int_funnel_stages_classified.is_qualification_stage, false)
            as is_qualification_stage,
        int_funnel_stages_classified.is_terminal
    from int_lead_handoff_cycles
    inner join int_lead_stage_entries
        on
            int_lead_handoff_cycles.person_id = int_lead_stage_entries.person_id
            and int_lead_handoff_cycles.handoff_entry_sequence
            < int_lead_stage_entries.entry_sequence
            and (
                int_lead_handoff_cycles.next_handoff_entry_sequence is null
                or int_lead_handoff_cycles.next_handoff_entry_sequence
                > int_lead_stage_entries.entry_sequence
            )
    left join int_funnel_stages_classified
        on int_lead_stage_entries.stage_key = int_funnel_stages_classified.stage_key

),

dispositions as (

    select
        *,
        row_number() over (partition by handoff_id order by entry_sequence) as disposition_number
    from cycle_stages
    where is_acceptance_stage or is_rejection_stage

),

qualifications as (

    select
        *,
        row_number() over (partition by handoff_id order by entry_sequence)
            as qualification_number
    from cycle_stages
    where is_qualification_stage

),

{% if hubspot %}
hubspot_deals_in_cycle as (

    select
        int_lead_handoff_cycles.handoff_id,
        stg_hubspot__deals.deal_id,
        row_number() over (
            partition by int_lead_handoff_cycles.handoff_id
            order by stg_hubspot__deals.created_at, stg_hubspot__deals.deal_id
        ) as deal_number
    from int_lead_handoff_cycles
    inner join stg_hubspot__deals
        on
            int_lead_handoff_cycles.source_system = stg_hubspot__deals.source_system
            and int_lead_handoff_cycles.crm_record_id = stg_hubspot__deals.originating_contact_id
            and int_lead_handoff_cycles.handed_at <= stg_hubspot__deals.created_at
            and (
                int_lead_handoff_cycles.next_handed_at is null
                or int_lead_handoff_cycles.next_handed_at > stg_hubspot__deals.created_at
            )

),
{% endif %}

final as (

    select
        int_lead_handoff_cycles.handoff_id,
        dispositions.stage_key as disposition_stage_key,
        dispositions.entered_at as dispositioned_at,
        dispositions.is_acceptance_stage as is_accepted,
        dispositions.is_rejection_stage as is_rejected,
        dispositions.is_terminal as is_disposition_terminal,
        dispositions.is_current_stage as is_disposition_current_stage,
        dispositions.status_change_id as disposition_status_change_id,
        qualifications.handoff_id is not null as is_qualified,
        qualifications.entered_at as qualified_at,
        qualifications.status_change_id as qualification_status_change_id,
        {% if hubspot -%}
        hubspot_deals_in_cycle.deal_id as hubspot_deal_id
        {%- else -%}
        cast(null as {{ dbt.type_string() }}) as hubspot_deal_id
        {%- endif %}
    from int_lead_handoff_cycles
    left join dispositions
        on
            int_lead_handoff_cycles.handoff_id = dispositions.handoff_id
            and dispositions.disposition_number = 1
    left join qualifications
        on
            int_lead_handoff_cycles.handoff_id = qualifications.handoff_id
            and qualifications.qualification_number = 1
    {% if hubspot -%}
    left join hubspot_deals_in_cycle
        on
            int_lead_handoff_cycles.handoff_id = hubspot_deals_in_cycle.handoff_id
            and hubspot_deals_in_cycle.deal_number = 1
    {%- endif %}

)

select * from final
