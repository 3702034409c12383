-- Calls, emails and meetings logged on a person record, both CRMs: Salesforce tasks and
-- events whose who_id is the lead or contact, HubSpot engagements linked to the contact.
-- Which activity types count as a touch is read from the sales_touch_activity_types seed
-- (matched case-insensitively: HubSpot staging lowercases the engagement type). A touch is
-- a sales touch when its owner is not on the team that hands leads over (marketing, the
-- owner team of the first funnel stage).

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

sales_touch_activity_types as (

    select * from {{ ref('sales_touch_activity_types') }}

),

int_person_identities as (

    select * from {{ ref('int_person_identities') }}

),

int_users_versioned as (

    select * from {{ ref('int_users_versioned') }}

),

int_funnel_stages_classified as (

    select * from {{ ref('int_funnel_stages_classified') }}

),

{% if salesforce %}
stg_salesforce__tasks as (

    select * from {{ ref('stg_salesforce__tasks') }}

),

stg_salesforce__events as (

    select * from {{ ref('stg_salesforce__events') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__engagements as (

    select * from {{ ref('stg_hubspot__engagements') }}

),

stg_hubspot__engagement_contacts as (

    select * from {{ ref('stg_hubspot__engagement_contacts') }}

),
{% endif %}

activities as (

    {% if salesforce %}
    select
        source_system,
        person_id as crm_record_id,
        'salesforce.task' as source_table,
        'task' as activity_object,
        task_id as activity_id,
        task_subtype as activity_type,
        owner_user_id,
        coalesce(completed_at, created_at) as touched_at
    from stg_salesforce__tasks

    union all

    select
        source_system,
        person_id as crm_record_id,
        'salesforce.event' as source_table,
        'event' as activity_object,
        event_id as activity_id,
        event_type as activity_type,
        owner_user_id,
        started_at as touched_at
    from stg_salesforce__events
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        stg_hubspot__engagements.source_system,
        stg_hubspot__engagement_contacts.contact_id as crm_record_id,
        'hubspot.engagement' as source_table,
        'engagement' as activity_object,
        stg_hubspot__engagements.engagement_id as activity_id,
        stg_hubspot__engagements.engagement_type as activity_type,
        stg_hubspot__engagements.owner_id as owner_user_id,
        stg_hubspot__engagements.occurred_at as touched_at
    from stg_hubspot__engagements
    inner join stg_hubspot__engagement_contacts
        on stg_hubspot__engagements.engagement_id = stg_hubspot__engagement_contacts.engagement_id
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as activity_object,
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_string() }}) as activity_type,
        cast(null as {{ dbt.type_string() }}) as owner_user_id,
        cast(null as {{ dbt.type_timestamp() }}) as touched_at
    where 1 = 0
    {% endif %}

),

touch_activities as (

    -- only the activity types the seed counts as a sales touch
    select
        activities.source_system,
        activities.crm_record_id,
        activities.source_table,
        activities.activity_id,
        lower(activities.activity_type) as touch_type,
        activities.owner_user_id,
        activities.touched_at
    from activities
    inner join sales_touch_activity_types
        on
            activities.source_system = sales_touch_activity_types.source_system
            and activities.activity_object
            = sales_touch_activity_types.activity_object
            and lower(activities.activity_type)
            = lower(sales_touch_activity_types.activity_type)
    where
        sales_touch_activity_types.is_touch_activity
        and activities.touched_at is not null

),

handing_team as (

    select distinct handing_team
    from int_funnel_stages_classified

),

final as (

    select
        {{ dbt.concat([
            "touch_activities.source_table", "':'", "touch_activities.activity_id",
            "':'", "touch_activities.crm_record_id",
        ]) }} as touch_id,
        int_person_identities.person_id,
        touch_activities.source_system,
        int_person_identities.crm_object,
        touch_activities.crm_record_id,
        touch_activities.source_table,
        touch_activities.activity_id,
        touch_activities.touch_type,
        touch_activities.owner_user_id,
        int_users_versioned.team as owner_team,
        int_users_versioned.region as owner_region,
        coalesce(int_users_versioned.team, '') != handing_team.handing_team as is_sales_touch,
        touch_activities.touched_at
    from touch_activities
    inner join int_person_identities
        on
            touch_activities.source_system = int_person_identities.source_system
            and touch_activities.crm_record_id = int_person_identities.crm_record_id
    cross join handing_team
    left join int_users_versioned
        on
            touch_activities.source_system = int_users_versioned.source_system
            and touch_activities.owner_user_id = int_users_versioned.user_id
            and touch_activities.touched_at >= int_users_versioned.valid_from
            and touch_activities.touched_at < int_users_versioned.valid_to

)

select * from final
