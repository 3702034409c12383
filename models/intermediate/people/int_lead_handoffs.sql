-- One row per MQL handoff: each entry of a person into the handoff stage (MQL) from an
-- earlier lead-funnel stage or from a rejection (a recycled lead that re-qualifies is a
-- second handoff). A handoff's cycle runs until the person's next handoff. Within it, on
-- the CRM record that was handed over: the routed owner (first owner change at or after
-- the handoff; else the owner in force then), reassignment (a later owner change), the
-- first sales touch, the disposition (first acceptance or rejection stage entered) and the
-- qualification to an opportunity. Rejection reason and lead priority are fields of the
-- record that the CRMs keep only for the latest handoff (no field history).

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

int_lead_owner_changes_unioned as (

    select * from {{ ref('int_lead_owner_changes_unioned') }}

),

int_sales_touches_unioned as (

    select * from {{ ref('int_sales_touches_unioned') }}

),

int_users_versioned as (

    select * from {{ ref('int_users_versioned') }}

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

stg_hubspot__deals as (

    select * from {{ ref('stg_hubspot__deals') }}

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

lifecycle as (

    select
        fct_lead_lifecycle.*,
        coalesce(int_funnel_stages_classified.is_handoff_stage, false) as is_handoff_stage,
        coalesce(int_funnel_stages_classified.is_acceptance_stage, false) as is_acceptance_stage,
        coalesce(int_funnel_stages_classified.is_rejection_stage, false) as is_rejection_stage,
        coalesce(int_funnel_stages_classified.is_qualification_stage, false)
            as is_qualification_stage,
        int_funnel_stages_classified.is_terminal
    from fct_lead_lifecycle
    left join int_funnel_stages_classified
        on fct_lead_lifecycle.stage_key = int_funnel_stages_classified.stage_key

),

handoff_stage as (

    select * from int_funnel_stages_classified
    where is_handoff_stage

),

handoff_entries as (

    -- entries into MQL from before it (lead) or from a rejection; a regression from SAL
    -- back to MQL is not a new handoff
    select lifecycle.*
    from lifecycle
    cross join handoff_stage
    left join int_funnel_stages_classified as previous_stage
        on lifecycle.previous_stage_key = previous_stage.stage_key
    where
        lifecycle.is_handoff_stage
        and (
            lifecycle.previous_stage_key is null
            or previous_stage.stage_order < handoff_stage.stage_order
            or previous_stage.is_rejection_stage
        )

),

handoffs as (

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

),

owner_changes_in_cycle as (

    select
        handoffs.handoff_id,
        int_lead_owner_changes_unioned.owner_change_id,
        int_lead_owner_changes_unioned.owner_user_id,
        int_lead_owner_changes_unioned.changed_at,
        row_number() over (
            partition by handoffs.handoff_id
            order by
                int_lead_owner_changes_unioned.changed_at,
                int_lead_owner_changes_unioned.owner_change_id
        ) as change_number
    from handoffs
    inner join int_lead_owner_changes_unioned
        on
            handoffs.source_system = int_lead_owner_changes_unioned.source_system
            and handoffs.crm_record_id = int_lead_owner_changes_unioned.crm_record_id
            and handoffs.handed_at <= int_lead_owner_changes_unioned.changed_at
            and (
                handoffs.next_handed_at is null
                or handoffs.next_handed_at > int_lead_owner_changes_unioned.changed_at
            )

),

owner_before_handoff as (

    select
        handoffs.handoff_id,
        int_lead_owner_changes_unioned.owner_change_id,
        int_lead_owner_changes_unioned.owner_user_id,
        int_lead_owner_changes_unioned.changed_at,
        row_number() over (
            partition by handoffs.handoff_id
            order by
                int_lead_owner_changes_unioned.changed_at desc,
                int_lead_owner_changes_unioned.owner_change_id desc
        ) as change_number
    from handoffs
    inner join int_lead_owner_changes_unioned
        on
            handoffs.source_system = int_lead_owner_changes_unioned.source_system
            and handoffs.crm_record_id = int_lead_owner_changes_unioned.crm_record_id
            and handoffs.handed_at > int_lead_owner_changes_unioned.changed_at

),

reassignments as (

    select
        handoff_id,
        count(*) as reassignment_count,
        min(changed_at) as first_reassigned_at
    from owner_changes_in_cycle
    where change_number > 1
    group by 1

),

first_reassignments as (

    select * from owner_changes_in_cycle
    where change_number = 2

),

touches_in_cycle as (

    select
        handoffs.handoff_id,
        int_sales_touches_unioned.touch_id,
        int_sales_touches_unioned.source_table,
        int_sales_touches_unioned.activity_id,
        int_sales_touches_unioned.touch_type,
        int_sales_touches_unioned.owner_user_id,
        int_sales_touches_unioned.touched_at,
        row_number() over (
            partition by handoffs.handoff_id
            order by int_sales_touches_unioned.touched_at, int_sales_touches_unioned.touch_id
        ) as touch_number
    from handoffs
    inner join int_sales_touches_unioned
        on
            handoffs.source_system = int_sales_touches_unioned.source_system
            and handoffs.crm_record_id = int_sales_touches_unioned.crm_record_id
            and handoffs.handed_at <= int_sales_touches_unioned.touched_at
            and (
                handoffs.next_handed_at is null
                or handoffs.next_handed_at > int_sales_touches_unioned.touched_at
            )
    where int_sales_touches_unioned.is_sales_touch

),

cycle_stages as (

    -- the person's stages entered after the handoff and before the next one
    select
        handoffs.handoff_id,
        lifecycle.stage_key,
        lifecycle.entered_at,
        lifecycle.is_current_stage,
        lifecycle.is_acceptance_stage,
        lifecycle.is_rejection_stage,
        lifecycle.is_qualification_stage,
        lifecycle.is_terminal,
        lifecycle.status_change_id,
        lifecycle.entry_sequence
    from handoffs
    inner join lifecycle
        on
            handoffs.person_id = lifecycle.person_id
            and handoffs.handoff_entry_sequence < lifecycle.entry_sequence
            and (
                handoffs.next_handoff_entry_sequence is null
                or handoffs.next_handoff_entry_sequence > lifecycle.entry_sequence
            )

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
        handoffs.handoff_id,
        stg_hubspot__deals.deal_id,
        row_number() over (
            partition by handoffs.handoff_id
            order by stg_hubspot__deals.created_at, stg_hubspot__deals.deal_id
        ) as deal_number
    from handoffs
    inner join stg_hubspot__deals
        on
            handoffs.source_system = stg_hubspot__deals.source_system
            and handoffs.crm_record_id = stg_hubspot__deals.originating_contact_id
            and handoffs.handed_at <= stg_hubspot__deals.created_at
            and (
                handoffs.next_handed_at is null
                or handoffs.next_handed_at > stg_hubspot__deals.created_at
            )

),
{% endif %}

joined as (

    select
        handoffs.*,
        handoffs.next_handed_at is null as is_latest_handoff,
        record_fields.lead_priority,
        coalesce(routed.owner_user_id, owner_before_handoff.owner_user_id) as routed_owner_user_id,
        coalesce(routed.changed_at, handoffs.handed_at) as routed_at,
        coalesce(routed.owner_change_id, owner_before_handoff.owner_change_id)
            as routed_owner_change_id,
        coalesce(reassignments.reassignment_count, 0) as reassignment_count,
        reassignments.first_reassigned_at as reassigned_at,
        first_reassignments.owner_user_id as reassigned_to_owner_user_id,
        first_reassignments.owner_change_id as reassignment_owner_change_id,
        first_touches.touched_at as first_touch_at,
        first_touches.touch_type as first_touch_type,
        first_touches.owner_user_id as first_touch_owner_user_id,
        first_touches.source_table as first_touch_source_table,
        first_touches.activity_id as first_touch_activity_id,
        dispositions.stage_key as disposition_stage_key,
        dispositions.entered_at as dispositioned_at,
        dispositions.is_acceptance_stage as is_accepted,
        dispositions.is_rejection_stage as is_rejected,
        dispositions.is_terminal as is_disposition_terminal,
        dispositions.status_change_id as disposition_status_change_id,
        case
            when
                dispositions.is_rejection_stage
                and dispositions.is_current_stage
                and handoffs.next_handed_at is null
                then record_fields.rejection_reason_code
        end as rejection_reason_code,
        qualifications.entered_at as qualified_at,
        qualifications.status_change_id as qualification_status_change_id,
        {% if hubspot %}
        coalesce(
            case when qualifications.handoff_id is not null then record_fields.opportunity_id end,
            hubspot_deals_in_cycle.deal_id
        )
        {% else %}
            case when qualifications.handoff_id is not null then record_fields.opportunity_id end
        {% endif %} as opportunity_id
    from handoffs
    left join record_fields
        on
            handoffs.source_system = record_fields.source_system
            and handoffs.crm_record_id = record_fields.crm_record_id
    left join owner_changes_in_cycle as routed
        on
            handoffs.handoff_id = routed.handoff_id
            and routed.change_number = 1
    left join owner_before_handoff
        on
            handoffs.handoff_id = owner_before_handoff.handoff_id
            and owner_before_handoff.change_number = 1
    left join reassignments
        on handoffs.handoff_id = reassignments.handoff_id
    left join first_reassignments
        on handoffs.handoff_id = first_reassignments.handoff_id
    left join touches_in_cycle as first_touches
        on
            handoffs.handoff_id = first_touches.handoff_id
            and first_touches.touch_number = 1
    left join dispositions
        on
            handoffs.handoff_id = dispositions.handoff_id
            and dispositions.disposition_number = 1
    left join qualifications
        on
            handoffs.handoff_id = qualifications.handoff_id
            and qualifications.qualification_number = 1
    {% if hubspot %}
    left join hubspot_deals_in_cycle
        on
            handoffs.handoff_id = hubspot_deals_in_cycle.handoff_id
            and hubspot_deals_in_cycle.deal_number = 1
    {% endif %}

),

final as (

    select
        joined.*,
        int_users_versioned.team as routed_owner_team,
        int_users_versioned.region as owner_region
    from joined
    left join int_users_versioned
        on
            joined.source_system = int_users_versioned.source_system
            and joined.routed_owner_user_id = int_users_versioned.user_id
            and joined.routed_at >= int_users_versioned.valid_from
            and joined.routed_at < int_users_versioned.valid_to

)

select * from final
