{{ config(store_failures=true, severity='warn') }}

-- The lead contract: every rejection carries a reason code. The CRMs keep the reason of a
-- record's latest rejection only, so this checks the handoffs whose rejection is still the
-- record's current state (latest handoff, no later stage). Returns one row per rejection
-- without a code, naming the record. Warns: a missing code is a process breach to chase in
-- the CRM, not a reason to stop publishing.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

final as (

    select
        fct_lead_handoffs.handoff_id,
        fct_lead_handoffs.source_system,
        fct_lead_handoffs.crm_record_id,
        fct_lead_handoffs.disposition,
        fct_lead_handoffs.dispositioned_at,
        {{ dbt.concat([
            "'rejection without a reason code: '",
            "fct_lead_handoffs.source_system",
            "' record '",
            "fct_lead_handoffs.crm_record_id",
        ]) }} as problem
    from fct_lead_handoffs
    inner join fct_lead_lifecycle
        on fct_lead_handoffs.disposition_status_change_id = fct_lead_lifecycle.status_change_id
    where
        fct_lead_handoffs.is_rejected
        and fct_lead_handoffs.is_latest_handoff
        and fct_lead_lifecycle.is_current_stage
        and fct_lead_handoffs.rejection_reason_code is null

)

select * from final
