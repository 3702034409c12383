-- The lead lifecycle as BI reads it: one row per person, stage and entry into it. The
-- sequencing (entries, skips, regressions) is built in int_lead_stage_entries; which MQL
-- entries are handoffs, in int_lead_handoff_cycles.

with

int_lead_stage_entries as (

    select * from {{ ref('int_lead_stage_entries') }}

),

handoff_entries as (

    select handoff_status_change_id from {{ ref('int_lead_handoff_cycles') }}

),

final as (

    select
        int_lead_stage_entries.lifecycle_stage_id,
        int_lead_stage_entries.person_id,
        int_lead_stage_entries.stage_key,
        int_lead_stage_entries.stage_order,
        int_lead_stage_entries.stage_group,
        int_lead_stage_entries.stage_entry_number,
        int_lead_stage_entries.is_first_entry,
        int_lead_stage_entries.entry_sequence,
        int_lead_stage_entries.entered_at,
        int_lead_stage_entries.exited_at,
        int_lead_stage_entries.is_current_stage,
        int_lead_stage_entries.previous_stage_key,
        int_lead_stage_entries.next_stage_key,
        int_lead_stage_entries.previous_funnel_stage_key,
        int_lead_stage_entries.is_regression,
        handoff_entries.handoff_status_change_id is not null as is_handoff_entry,
        int_lead_stage_entries.has_skipped_stages,
        int_lead_stage_entries.skipped_stage_count,
        int_lead_stage_entries.skipped_stage_keys,
        int_lead_stage_entries.source_system,
        int_lead_stage_entries.crm_object,
        int_lead_stage_entries.crm_record_id,
        int_lead_stage_entries.crm_field,
        int_lead_stage_entries.crm_value,
        int_lead_stage_entries.change_kind,
        int_lead_stage_entries.changed_by_user_id,
        int_lead_stage_entries.status_change_id,
        int_lead_stage_entries.source_table,
        int_lead_stage_entries.source_row_id
    from int_lead_stage_entries
    left join handoff_entries
        on int_lead_stage_entries.status_change_id = handoff_entries.handoff_status_change_id

)

select * from final
