-- The first sales touch of each MQL handoff: the first call, email or meeting logged on
-- the handed-over CRM record by a sales user (int_sales_touches_unioned) at or after the
-- handoff and before the person's next handoff. One row per touched handoff.

with

int_lead_handoff_cycles as (

    select * from {{ ref('int_lead_handoff_cycles') }}

),

int_sales_touches_unioned as (

    select * from {{ ref('int_sales_touches_unioned') }}

),

touches_in_cycle as (

    select
        int_lead_handoff_cycles.handoff_id,
        int_sales_touches_unioned.touch_id,
        int_sales_touches_unioned.source_table,
        int_sales_touches_unioned.activity_id,
        int_sales_touches_unioned.touch_type,
        int_sales_touches_unioned.owner_user_id,
        int_sales_touches_unioned.touched_at,
        row_number() over (
            partition by int_lead_handoff_cycles.handoff_id
            order by int_sales_touches_unioned.touched_at, int_sales_touches_unioned.touch_id
        ) as touch_number
    from int_lead_handoff_cycles
    inner join int_sales_touches_unioned
        on
            int_lead_handoff_cycles.source_system = int_sales_touches_unioned.source_system
            and int_lead_handoff_cycles.crm_record_id = int_sales_touches_unioned.crm_record_id
            and int_lead_handoff_cycles.handed_at <= int_sales_touches_unioned.touched_at
            and (
                int_lead_handoff_cycles.next_handed_at is null
                or int_lead_handoff_cycles.next_handed_at > int_sales_touches_unioned.touched_at
            )
    where int_sales_touches_unioned.is_sales_touch

),

final as (

    select
        handoff_id,
        touched_at as first_touch_at,
        touch_type as first_touch_type,
        owner_user_id as first_touch_owner_user_id,
        source_table as first_touch_source_table,
        activity_id as first_touch_activity_id
    from touches_in_cycle
    where touch_number = 1

)

select * from final
