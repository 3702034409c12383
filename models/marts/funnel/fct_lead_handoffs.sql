-- Lead handoffs: one row per MQL handed to sales, with the SLA term in force, the first
-- sales touch in business minutes of the owner's region, the disposition, the rejection
-- reason, which side breached the lead contract, whether the lead met the MQL rule in
-- force when it was handed over, and whether it became an opportunity.

with

int_lead_handoffs as (

    select * from {{ ref('int_lead_handoffs') }}

),

int_lead_handoff_sla_terms as (

    select * from {{ ref('int_lead_handoff_sla_terms') }}

),

int_lead_handoff_business_minutes as (

    select * from {{ ref('int_lead_handoff_business_minutes') }}

),

int_lead_handoff_mql_scores as (

    select * from {{ ref('int_lead_handoff_mql_scores') }}

),

rejection_reasons as (

    select * from {{ ref('rejection_reasons') }}

),

int_as_of_date as (

    select * from {{ ref('int_as_of_date') }}

),

mql_rules as (

    select * from {{ ref('mql_rules') }}

),

icp_industries as (

    select * from {{ ref('icp_industries') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

dim_accounts as (

    select * from {{ ref('dim_accounts') }}

),

mql_rule_checks as (

    -- the MQL rule in force at the handoff: ICP size range, target industry, ICP seniority
    -- and the behavioural score at or above the threshold
    select
        int_lead_handoffs.handoff_id,
        mql_rules.mql_rule_id,
        mql_rules.score_threshold as mql_score_threshold,
        coalesce(
            dim_accounts.employee_count between mql_rules.min_employees
            and mql_rules.max_employees
            and icp_industries.is_target_industry
            and dim_persons.is_icp_seniority
            and int_lead_handoff_mql_scores.mql_score_at_handoff >= mql_rules.score_threshold,
            false
        ) as is_mql_rule_met
    from int_lead_handoffs
    left join int_lead_handoff_mql_scores
        on int_lead_handoffs.handoff_id = int_lead_handoff_mql_scores.handoff_id
    left join mql_rules
        on
            int_lead_handoffs.handed_at >= mql_rules.valid_from
            and int_lead_handoffs.handed_at < mql_rules.valid_to
    left join dim_persons
        on int_lead_handoffs.person_id = dim_persons.person_id
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id
    left join icp_industries
        on dim_accounts.industry = icp_industries.industry

),

joined as (

    select
        int_lead_handoffs.*,
        int_lead_handoff_sla_terms.sla_term_id,
        int_lead_handoff_sla_terms.first_touch_target_business_minutes,
        int_lead_handoff_sla_terms.reassign_after_business_minutes,
        int_lead_handoff_sla_terms.disposition_window_hours,
        int_lead_handoff_business_minutes.business_minutes_to_first_touch,
        int_lead_handoff_business_minutes.business_minutes_elapsed,
        int_lead_handoff_mql_scores.mql_score_at_handoff,
        mql_rule_checks.mql_rule_id,
        mql_rule_checks.mql_score_threshold,
        mql_rule_checks.is_mql_rule_met,
        rejection_reasons.is_marketing_quality_breach as is_marketing_quality_reason,
        int_as_of_date.as_of_date,
        int_as_of_date.as_of_end_at as as_of_at,
        {{ dbt.dateadd(
            'hour',
            'int_lead_handoff_sla_terms.disposition_window_hours',
            'int_lead_handoffs.handed_at',
        ) }} as disposition_due_at
    from int_lead_handoffs
    left join int_lead_handoff_sla_terms
        on int_lead_handoffs.handoff_id = int_lead_handoff_sla_terms.handoff_id
    left join int_lead_handoff_business_minutes
        on int_lead_handoffs.handoff_id = int_lead_handoff_business_minutes.handoff_id
    left join int_lead_handoff_mql_scores
        on int_lead_handoffs.handoff_id = int_lead_handoff_mql_scores.handoff_id
    left join mql_rule_checks
        on int_lead_handoffs.handoff_id = mql_rule_checks.handoff_id
    left join rejection_reasons
        on int_lead_handoffs.rejection_reason_code = rejection_reasons.reason_code
    cross join int_as_of_date

),

measured as (

    select
        *,
        first_touch_at is not null as is_touched,
        {{ dbt.datediff('handed_at', 'dispositioned_at', 'second') }}
            as seconds_to_disposition,
        coalesce(
            first_touch_at is not null
            and business_minutes_to_first_touch <= first_touch_target_business_minutes,
            false
        ) as is_response_sla_met,
        coalesce(business_minutes_elapsed > first_touch_target_business_minutes, false)
            as is_sales_response_breach,
        coalesce(business_minutes_elapsed > reassign_after_business_minutes, false)
            as is_untouched_past_window,
        dispositioned_at is not null as is_dispositioned,
        coalesce(disposition_due_at <= as_of_at, false) as is_disposition_window_closed,
        coalesce(dispositioned_at <= disposition_due_at, false)
            as is_dispositioned_within_window,
        coalesce(is_marketing_quality_reason, false) as is_marketing_quality_breach
    from joined

),

final as (

    select
        handoff_id,
        person_id,
        cast(handoff_number as integer) as handoff_number,
        is_latest_handoff,
        source_system,
        crm_object,
        crm_record_id,
        handed_at,
        handoff_crm_field,
        handoff_crm_value,
        handoff_status_change_id,
        handoff_source_table,
        handoff_source_row_id,
        cast(mql_score_at_handoff as double) as mql_score_at_handoff,
        mql_rule_id,
        cast(mql_score_threshold as double) as mql_score_threshold,
        is_mql_rule_met,

        -- routing
        lead_priority,
        routed_owner_user_id,
        routed_owner_team,
        owner_region,
        routed_at,
        routed_owner_change_id,

        -- SLA term in force at handoff
        sla_term_id,
        cast(first_touch_target_business_minutes as integer)
            as first_touch_target_business_minutes,
        cast(reassign_after_business_minutes as integer) as reassign_after_business_minutes,
        cast(disposition_window_hours as integer) as disposition_window_hours,

        -- first sales touch
        is_touched,
        first_touch_at,
        first_touch_type,
        first_touch_owner_user_id,
        first_touch_source_table,
        first_touch_activity_id,
        cast(business_minutes_to_first_touch as double) as business_minutes_to_first_touch,
        cast(business_minutes_elapsed as double) as business_minutes_elapsed,
        is_response_sla_met,

        -- reassignment
        is_untouched_past_window,
        reassignment_count > 0 as is_reassigned,
        cast(reassignment_count as integer) as reassignment_count,
        reassigned_at,
        reassigned_to_owner_user_id,
        reassignment_owner_change_id,

        -- disposition
        is_dispositioned,
        case
            when is_accepted then 'accepted'
            when is_rejected and is_disposition_terminal then 'rejected'
            when is_rejected then 'recycled'
        end as disposition,
        disposition_stage_key,
        dispositioned_at,
        disposition_status_change_id,
        coalesce(is_accepted, false) as is_accepted,
        coalesce(is_rejected, false) as is_rejected,
        {{ divide('seconds_to_disposition', '3600') }} as hours_to_disposition,
        disposition_due_at,
        is_disposition_window_closed,
        is_dispositioned_within_window,
        rejection_reason_code,

        -- who breached the lead contract
        is_marketing_quality_breach,
        is_sales_response_breach,
        is_disposition_window_closed and not is_dispositioned_within_window
            as is_sales_disposition_breach,
        case
            when
                is_marketing_quality_breach
                and (
                    is_sales_response_breach
                    or (is_disposition_window_closed and not is_dispositioned_within_window)
                )
                then 'both'
            when is_marketing_quality_breach then 'marketing'
            when
                is_sales_response_breach
                or (is_disposition_window_closed and not is_dispositioned_within_window)
                then 'sales'
            else 'none'
        end as breached_side,

        -- outcome
        qualified_at is not null as is_converted_to_opportunity,
        qualified_at,
        qualification_status_change_id,
        opportunity_id,
        as_of_date
    from measured

)

select * from final
