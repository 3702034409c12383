-- One row per MQL handoff and its cycle: each entry of a person into the handoff stage
-- (MQL) from an earlier lead-funnel stage or from a rejection (a recycled lead that
-- re-qualifies is a second handoff; a regression from SAL back to MQL is not). The cycle
-- runs until the person's next handoff: next_handed_at and next_handoff_entry_sequence
-- bound it for the models that find what happened within it (owners, touches,
-- dispositions).

with

int_lead_stage_entries as (

    select * from {{ ref('int_lead_stage_entries') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

handoff_stage as (

    select * from int_funnel_stages_classified
    where is_handoff_stage

),

handoff_entries as (

    select int_lead_stage_entries.*
    from int_lead_stage_entries
    cross join handoff_stage
    left join int_funnel_stages_classified as previous_stage
        on int_lead_stage_entries.previous_stage_key = previous_stage.stage_key
    where
        int_lead_stage_entries.stage_key = handoff_stage.stage_key
        and (
            int_lead_stage_entries.previous_stage_key is null
            or previous_stage.stage_order < handoff_stage.stage_order
            or previous_stage.is_rejection_stage
        )

),

final as (

    select
        cast({{ dbt.hash("status_change_id") }} as {{ dbt.type_string() }}) as handoff_id,
        person_id,
        source_system,
        crm_object,
        crm_record_id,
        entered_at as handed_at,
        entry_sequence as handoff_entry_sequence,
        crm_field as handoff_crm_field,
        crm_value as handoff_crm_value,
        status_change_id as handoff_status_change_id,
        source_table as handoff_source_table,
        source_row_id as handoff_source_row_id,
        row_number() over (partition by person_id order by entry_sequence) as handoff_number,
        lead(entered_at) over (partition by person_id order by entry_sequence)
            as next_handed_at,
        lead(entry_sequence) over (partition by person_id order by entry_sequence)
            as next_handoff_entry_sequence
    from handoff_entries

)

select * from final
