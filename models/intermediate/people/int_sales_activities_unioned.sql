-- Every activity logged in either CRM, in one shape: Salesforce tasks and events, HubSpot
-- engagements, one row per activity and person record it is logged on (Salesforce who_id;
-- the contacts a HubSpot engagement is linked to), with the person it resolves to
-- (int_person_identities). Whether its type counts as a touch is read from the
-- sales_touch_activity_types seed (matched case-insensitively: HubSpot staging lowercases the
-- engagement type). int_sales_touches_unioned and fct_sales_activities both read it, so the
-- union is written once.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

sales_touch_activity_types as (

    select * from {{ ref('sales_touch_activity_types') }}

),

int_person_identities as (

    select * from {{ ref('int_person_identities') }}

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

stg_hubspot__engagement_deals as (

    select * from {{ ref('stg_hubspot__engagement_deals') }}

),

engagement_deals as (

    -- the deal an engagement is linked to (the lowest deal id when several)
    select
        engagement_id,
        min(deal_id) as deal_id,
        max(synced_at) as synced_at
    from stg_hubspot__engagement_deals
    group by 1

),
{% endif %}

activities as (

    {% if salesforce %}
    select
        source_system,
        'salesforce.task' as source_table,
        'task' as activity_object,
        task_id as activity_id,
        task_subtype as crm_activity_type,
        person_id as crm_record_id,
        related_record_id,
        account_id as crm_account_id,
        owner_user_id,
        coalesce(completed_at, created_at) as occurred_at,
        synced_at
    from stg_salesforce__tasks

    union all

    select
        source_system,
        'salesforce.event' as source_table,
        'event' as activity_object,
        event_id as activity_id,
        event_type as crm_activity_type,
        person_id as crm_record_id,
        related_record_id,
        account_id as crm_account_id,
        owner_user_id,
        started_at as occurred_at,
        synced_at
    from stg_salesforce__events
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    -- an engagement's latest sync is the latest of its own row and its contact and deal links
    select
        stg_hubspot__engagements.source_system,
        'hubspot.engagement' as source_table,
        'engagement' as activity_object,
        stg_hubspot__engagements.engagement_id as activity_id,
        stg_hubspot__engagements.engagement_type as crm_activity_type,
        stg_hubspot__engagement_contacts.contact_id as crm_record_id,
        engagement_deals.deal_id as related_record_id,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        stg_hubspot__engagements.owner_id as owner_user_id,
        stg_hubspot__engagements.occurred_at,
        greatest(
            stg_hubspot__engagements.synced_at,
            coalesce(
                stg_hubspot__engagement_contacts.synced_at, stg_hubspot__engagements.synced_at
            ),
            coalesce(engagement_deals.synced_at, stg_hubspot__engagements.synced_at)
        ) as synced_at
    from stg_hubspot__engagements
    left join stg_hubspot__engagement_contacts
        on stg_hubspot__engagements.engagement_id = stg_hubspot__engagement_contacts.engagement_id
    left join engagement_deals
        on stg_hubspot__engagements.engagement_id = engagement_deals.engagement_id
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as activity_object,
        cast(null as {{ dbt.type_string() }}) as activity_id,
        cast(null as {{ dbt.type_string() }}) as crm_activity_type,
        cast(null as {{ dbt.type_string() }}) as crm_record_id,
        cast(null as {{ dbt.type_string() }}) as related_record_id,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        cast(null as {{ dbt.type_string() }}) as owner_user_id,
        cast(null as {{ dbt.type_timestamp() }}) as occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as synced_at
    where 1 = 0
    {% endif %}

),

final as (

    select
        {{ dbt.concat([
            "activities.source_table", "':'", "activities.activity_id",
            "':'", "coalesce(activities.crm_record_id, '')",
        ]) }} as sales_activity_id,
        activities.source_system,
        activities.source_table,
        activities.activity_object,
        activities.activity_id,
        activities.crm_activity_type,
        lower(activities.crm_activity_type) as activity_type,
        sales_touch_activity_types.is_touch_activity,
        int_person_identities.person_id,
        int_person_identities.crm_object,
        activities.crm_record_id,
        activities.related_record_id,
        activities.crm_account_id,
        activities.owner_user_id,
        activities.occurred_at,
        activities.synced_at
    from activities
    left join sales_touch_activity_types
        on
            activities.source_system = sales_touch_activity_types.source_system
            and activities.activity_object = sales_touch_activity_types.activity_object
            and lower(activities.crm_activity_type)
            = lower(sales_touch_activity_types.activity_type)
    left join int_person_identities
        on
            activities.source_system = int_person_identities.source_system
            and activities.crm_record_id = int_person_identities.crm_record_id

)

select * from final
