-- The quarterly alignment audit: a reproducible sample of MQL handoffs per quarter, each
-- traced end to end against the documented lead process, one pass/fail column per step.
-- The sample: per quarter of handed_at, the persons with the smallest md5 of
-- person_id|quarter_start (the same on every engine and every run), as many as the
-- alignment_audit_rules row in force at the quarter's start says (20 by default); each
-- sampled person's first handoff of the quarter is traced.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

fct_opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

dim_funnel_stages as (

    select * from {{ ref('dim_funnel_stages') }}

),

alignment_audit_rules as (

    select * from {{ ref('alignment_audit_rules') }}

),

handoffs_in_quarter as (

    select
        *,
        cast({{ dbt.date_trunc('quarter', 'handed_at') }} as date) as quarter_start,
        lead(handed_at) over (
            partition by person_id order by handoff_number
        ) as next_handed_at
    from fct_lead_handoffs

),

first_handoff_per_person_and_quarter as (

    select
        *,
        cast({{ dbt.hash(dbt.concat([
            'person_id', "'|'", 'cast(quarter_start as ' ~ dbt.type_string() ~ ')',
        ])) }} as {{ dbt.type_string() }}) as sample_key,
        row_number() over (
            partition by person_id, quarter_start order by handed_at, handoff_id
        ) as handoff_in_quarter
    from handoffs_in_quarter

),

ranked as (

    select
        first_handoff_per_person_and_quarter.*,
        alignment_audit_rules.sample_size_per_quarter,
        row_number() over (
            partition by first_handoff_per_person_and_quarter.quarter_start
            order by first_handoff_per_person_and_quarter.sample_key
        ) as sample_rank
    from first_handoff_per_person_and_quarter
    inner join alignment_audit_rules
        on
            first_handoff_per_person_and_quarter.quarter_start
            >= alignment_audit_rules.valid_from
            and first_handoff_per_person_and_quarter.quarter_start
            < alignment_audit_rules.valid_to
    where first_handoff_per_person_and_quarter.handoff_in_quarter = 1

),

sampled as (

    select * from ranked
    where sample_rank <= sample_size_per_quarter

),

exits_after_acceptance as (

    -- an accepted lead that later left sales: recycled to nurture or disqualified, within
    -- its handoff's cycle
    select distinct sampled.handoff_id
    from sampled
    inner join fct_lead_lifecycle
        on sampled.person_id = fct_lead_lifecycle.person_id
    inner join dim_funnel_stages
        on fct_lead_lifecycle.stage_key = dim_funnel_stages.stage_key
    where
        sampled.is_accepted
        and dim_funnel_stages.is_rejection_stage
        and fct_lead_lifecycle.entered_at > sampled.dispositioned_at
        and (
            sampled.next_handed_at is null
            or fct_lead_lifecycle.entered_at < sampled.next_handed_at
        )

),

current_stages as (

    select
        fct_lead_lifecycle.person_id,
        dim_funnel_stages.is_acceptance_stage as is_still_accepted
    from fct_lead_lifecycle
    inner join dim_funnel_stages
        on fct_lead_lifecycle.stage_key = dim_funnel_stages.stage_key
    where fct_lead_lifecycle.is_current_stage

),

traced as (

    select
        sampled.quarter_start,
        cast(sampled.sample_rank as integer) as sample_rank,
        sampled.sample_key,
        sampled.handoff_id,
        sampled.person_id,
        sampled.source_system,
        sampled.handed_at,
        dim_persons.lead_source,
        dim_persons.channel,
        dim_persons.channel_team,
        sampled.routed_owner_user_id,
        sampled.disposition,
        sampled.rejection_reason_code,
        sampled.opportunity_id,
        fct_opportunities.source_team as opportunity_source_team,
        fct_opportunities.is_marketing_sourced,

        -- 1. met the MQL rule in force when handed over
        sampled.is_mql_rule_met as is_mql_rule_step_passed,
        -- 2. routed to a sales owner
        sampled.routed_owner_user_id is not null as is_routing_step_passed,
        -- 3. first touch within the SLA target (untouched fails)
        sampled.is_response_sla_met as is_response_step_passed,
        -- 4. dispositioned within the window; null while the window is still open
        case
            when sampled.is_disposition_window_closed
                then sampled.is_dispositioned_within_window
        end as is_disposition_step_passed,
        -- 5. a rejection carries a reason code; null when not rejected, or when the
        --    rejection is not the record's latest (the CRM keeps the latest reason only)
        case
            when sampled.is_rejected and sampled.is_latest_handoff
                then sampled.rejection_reason_code is not null
        end as is_reason_code_step_passed,
        -- 6. an accepted lead reached an opportunity or was recycled; null when not
        --    accepted, or while it is still an accepted lead being worked
        case
            when not sampled.is_accepted then null
            when sampled.is_converted_to_opportunity then true
            when exits_after_acceptance.handoff_id is not null then true
            when sampled.is_latest_handoff and current_stages.is_still_accepted then null
            else false
        end as is_outcome_step_passed,
        -- 7. the opportunity's sourced team (its lead source in lead_source_channels)
        --    agrees with its originating lead's (the person's lead source, same seed)
        case
            when fct_opportunities.opportunity_id is not null
                then coalesce(
                    fct_opportunities.source_team = dim_persons.channel_team, false
                )
        end as is_sourced_step_passed
    from sampled
    left join dim_persons
        on sampled.person_id = dim_persons.person_id
    left join fct_opportunities
        on
            sampled.source_system = fct_opportunities.source_system
            and sampled.opportunity_id = fct_opportunities.opportunity_id
    left join exits_after_acceptance
        on sampled.handoff_id = exits_after_acceptance.handoff_id
    left join current_stages
        on sampled.person_id = current_stages.person_id

),

counted as (

    select
        *,
        cast(
            case when is_mql_rule_step_passed is not null then 1 else 0 end
            + case when is_routing_step_passed is not null then 1 else 0 end
            + case when is_response_step_passed is not null then 1 else 0 end
            + case when is_disposition_step_passed is not null then 1 else 0 end
            + case when is_reason_code_step_passed is not null then 1 else 0 end
            + case when is_outcome_step_passed is not null then 1 else 0 end
            + case when is_sourced_step_passed is not null then 1 else 0 end
            as integer
        ) as steps_checked,
        cast(
            case when is_mql_rule_step_passed then 1 else 0 end
            + case when is_routing_step_passed then 1 else 0 end
            + case when is_response_step_passed then 1 else 0 end
            + case when is_disposition_step_passed then 1 else 0 end
            + case when is_reason_code_step_passed then 1 else 0 end
            + case when is_outcome_step_passed then 1 else 0 end
            + case when is_sourced_step_passed then 1 else 0 end
            as integer
        ) as steps_passed
    from traced

),

final as (

    select
        *,
        steps_passed = steps_checked as is_every_step_passed
    from counted

)

select * from final
