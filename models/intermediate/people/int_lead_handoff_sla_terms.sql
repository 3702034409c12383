-- The SLA term in force when each lead was handed over, for its priority: sla_terms is
-- effective-dated [valid_from, valid_to) (dates, read as midnight UTC).

with

int_lead_handoffs as (

    select * from {{ ref('int_lead_handoffs') }}

),

sla_terms as (

    select * from {{ ref('sla_terms') }}

),

final as (

    select
        int_lead_handoffs.handoff_id,
        int_lead_handoffs.lead_priority,
        int_lead_handoffs.handed_at,
        sla_terms.sla_term_id,
        sla_terms.first_touch_target_business_minutes,
        sla_terms.reassign_after_business_minutes,
        sla_terms.disposition_window_hours
    from int_lead_handoffs
    left join sla_terms
        on
            int_lead_handoffs.lead_priority = sla_terms.lead_priority
            and int_lead_handoffs.handed_at
            >= cast(sla_terms.valid_from as {{ dbt.type_timestamp() }})
            and int_lead_handoffs.handed_at
            < cast(sla_terms.valid_to as {{ dbt.type_timestamp() }})

)

select * from final
