-- Routing of each MQL handoff, from the owner changes of the handed-over CRM record: the
-- routed owner is the first owner change at or after the handoff within its cycle, else
-- the owner in force at the handoff; a later owner change in the cycle is a reassignment.
-- The routed owner's team and region are those of the user version in force at routing.

with

int_lead_handoff_cycles as (

    select * from {{ ref('int_lead_handoff_cycles') }}

),

int_lead_owner_changes_unioned as (

    select * from {{ ref('int_lead_owner_changes_unioned') }}

),

int_users_versioned as (

    select * from {{ ref('int_users_versioned') }}

),

owner_changes_in_cycle as (

    select
        int_lead_handoff_cycles.handoff_id,
        int_lead_owner_changes_unioned.owner_change_id,
        int_lead_owner_changes_unioned.owner_user_id,
        int_lead_owner_changes_unioned.changed_at,
        row_number() over (
            partition by int_lead_handoff_cycles.handoff_id
            order by
                int_lead_owner_changes_unioned.changed_at,
                int_lead_owner_changes_unioned.owner_change_id
        ) as change_number
    from int_lead_handoff_cycles
    inner join int_lead_owner_changes_unioned
        on
            int_lead_handoff_cycles.source_system = int_lead_owner_changes_unioned.source_system
            and int_lead_handoff_cycles.crm_record_id
            = int_lead_owner_changes_unioned.crm_record_id
            and int_lead_handoff_cycles.handed_at <= int_lead_owner_changes_unioned.changed_at
            and (
                int_lead_handoff_cycles.next_handed_at is null
                or int_lead_handoff_cycles.next_handed_at
                > int_lead_owner_changes_unioned.changed_at
            )

),

owner_before_handoff as (

    select
        int_lead_handoff_cycles.handoff_id,
        int_lead_owner_changes_unioned.owner_change_id,
        int_lead_owner_changes_unioned.owner_user_id,
        row_number() over (
            partition by int_lead_handoff_cycles.handoff_id
            order by
                int_lead_owner_changes_unioned.changed_at desc,
                int_lead_owner_changes_unioned.owner_change_id desc
        ) as change_number
    from int_lead_handoff_cycles
    inner join int_lead_owner_changes_unioned
        on
            int_lead_handoff_cycles.source_system = int_lead_owner_changes_unioned.source_system
            and int_lead_handoff_cycles.crm_record_id
            = int_lead_owner_changes_unioned.crm_record_id
            and int_lead_handoff_cycles.handed_at > int_lead_owner_changes_unioned.changed_at

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

routed as (

    select
        int_lead_handoff_cycles.handoff_id,
        int_lead_handoff_cycles.source_system,
        coalesce(routed_change.owner_user_id, owner_before_handoff.owner_user_id)
            as routed_owner_user_id,
        coalesce(routed_change.changed_at, int_lead_handoff_cycles.handed_at) as routed_at,
        coalesce(routed_change.owner_change_id, owner_before_handoff.owner_change_id)
            as routed_owner_change_id,
        coalesce(reassignments.reassignment_count, 0) as reassignment_count,
        reassignments.first_reassigned_at as reassigned_at,
        first_reassignment.owner_user_id as reassigned_to_owner_user_id,
        first_reassignment.owner_change_id as reassignment_owner_change_id
    from int_lead_handoff_cycles
    left join owner_changes_in_cycle as routed_change
        on
            int_lead_handoff_cycles.handoff_id = routed_change.handoff_id
            and routed_change.change_number = 1
    left join owner_before_handoff
        on
            int_lead_handoff_cycles.handoff_id = owner_before_handoff.handoff_id
            and owner_before_handoff.change_number = 1
    left join reassignments
        on int_lead_handoff_cycles.handoff_id = reassignments.handoff_id
    left join owner_changes_in_cycle as first_reassignment
        on
            int_lead_handoff_cycles.handoff_id = first_reassignment.handoff_id
            and first_reassignment.change_number = 2

),

final as (

    select
        routed.handoff_id,
        routed.routed_owner_user_id,
        routed.routed_at,
        routed.routed_owner_change_id,
        routed.reassignment_count,
        routed.reassigned_at,
        routed.reassigned_to_owner_user_id,
        routed.reassignment_owner_change_id,
        int_users_versioned.team as routed_owner_team,
        int_users_versioned.region as owner_region
    from routed
    left join int_users_versioned
        on
            routed.source_system = int_users_versioned.source_system
            and routed.routed_owner_user_id = int_users_versioned.user_id
            and routed.routed_at >= int_users_versioned.valid_from
            and routed.routed_at < int_users_versioned.valid_to

)

select * from final
