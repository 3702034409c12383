-- The lead lifecycle as BI reads it: one row per person, stage and entry into it. The
-- sequencing (entries, skips, regressions) is built in int_lead_stage_entries.

with

int_lead_stage_entries as (

    select * from {{ ref('int_lead_stage_entries') }}

),

final as (

    select
        lifecycle_stage_id,
        person_id,
        stage_key,
        stage_order,
        stage_group,
        stage_entry_number,
        is_first_entry,
        entry_sequence,
        entered_at,
        exited_at,
        is_current_stage,
        previous_stage_key,
        next_stage_key,
        previous_funnel_stage_key,
        is_regression,
        has_skipped_stages,
        skipped_stage_count,
        skipped_stage_keys,
        source_system,
        crm_object,
        crm_record_id,
        crm_field,
        crm_value,
        change_kind,
        changed_by_user_id,
        status_change_id,
        source_table,
        source_row_id
    from int_lead_stage_entries

)

select * from final
