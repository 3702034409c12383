-- Calls, emails and meetings logged on a person record, both CRMs: the activities of
-- int_sales_activities_unioned (Salesforce tasks and events whose who_id is the lead or
-- contact, HubSpot engagements linked to the contact) whose type the
-- sales_touch_activity_types seed counts as a touch. A touch is a sales touch when its owner
-- is not on the team that hands leads over (marketing, the owner team of the first funnel
-- stage).

with

int_sales_activities_unioned as (

    select * from {{ ref('int_sales_activities_unioned') }}

),

int_users_versioned as (

    select * from {{ ref('int_users_versioned') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

touch_activities as (

    -- only the activity types the seed counts as a touch, on a live person record
    select * from int_sales_activities_unioned
    where
        is_touch_activity
        and person_id is not null
        and occurred_at is not null

),

handing_team as (

    select distinct handing_team
    from int_funnel_stages_classified

),

final as (

    select
        touch_activities.sales_activity_id as touch_id,
        touch_activities.person_id,
        touch_activities.source_system,
        touch_activities.crm_object,
        touch_activities.crm_record_id,
        touch_activities.source_table,
        touch_activities.activity_id,
        touch_activities.activity_type as touch_type,
        touch_activities.owner_user_id,
        int_users_versioned.team as owner_team,
        int_users_versioned.region as owner_region,
        coalesce(int_users_versioned.team, '') != handing_team.handing_team as is_sales_touch,
        touch_activities.occurred_at as touched_at
    from touch_activities
    cross join handing_team
    left join int_users_versioned
        on
            touch_activities.source_system = int_users_versioned.source_system
            and touch_activities.owner_user_id = int_users_versioned.user_id
            and touch_activities.occurred_at >= int_users_versioned.valid_from
            and touch_activities.occurred_at < int_users_versioned.valid_to

)

select * from final
