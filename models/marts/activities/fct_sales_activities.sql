{{
    config(
        unique_key='sales_activity_id',
        incremental_strategy='delete+insert',
        post_hook="
            {% if is_incremental() %}
            delete from {{ this }}
            where sales_activity_id not in (
                select activities.sales_activity_id
                from {{ ref('int_sales_activities_unioned') }} as activities
                cross join {{ ref('int_as_of_date') }} as as_of
                where activities.occurred_at < as_of.as_of_end_at
            )
            {% endif %}
        ",
    )
}}

-- Sales activities (int_sales_activities_unioned) up to the end of the as-of date, with the
-- opportunity the CRM links them to and their account. Incremental (the yml says what a
-- run over Fivetran data must pick up): a run replaces, by sales_activity_id, the activities
-- that occurred or were synced within var sales_activity_lookback_days of the latest ones
-- already in the table, and the activities whose opportunity has left the published ones
-- (quarantined or deleted since); the post-hook above then deletes the rows whose activity
-- is gone from the CRMs or has moved past the as-of date.

{%- set lookback_days = var('sales_activity_lookback_days', 7) %}

with

int_sales_activities_unioned as (

    select * from {{ ref('int_sales_activities_unioned') }}

),

int_opportunities_accepted as (

    select * from {{ ref('int_opportunities_accepted') }}

),

int_person_records_unioned as (

    select * from {{ ref('int_person_records_unioned') }}

),

int_as_of_date as (

    select * from {{ ref('int_as_of_date') }}

),

loaded as (

    -- the latest activity and the latest sync already in the table (none on a full build)
    {% if is_incremental() %}
    select
        max(occurred_at) as last_occurred_at,
        max(synced_at) as last_synced_at
    from {{ this }}
    {% else %}
    select
        cast(null as {{ dbt.type_timestamp() }}) as last_occurred_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_synced_at
    {% endif %}

),

relinked as (

    -- activities already loaded whose opportunity is no longer published (quarantined
    -- since, int_opportunities_accepted, or deleted): re-selected so they lose the link
    {% if is_incremental() %}
    select loaded_activities.sales_activity_id
    from {{ this }} as loaded_activities
    left join int_opportunities_accepted
        on
            loaded_activities.source_system = int_opportunities_accepted.source_system
            and loaded_activities.opportunity_id = int_opportunities_accepted.opportunity_id
    where
        loaded_activities.opportunity_id is not null
        and int_opportunities_accepted.opportunity_id is null
    {% else %}
    select cast(null as {{ dbt.type_string() }}) as sales_activity_id
    from int_as_of_date
    where false
    {% endif %}

),

activities as (

    -- up to the end of the as-of date; on an incremental run only what occurred, or was
    -- synced, within the lookback of the latest rows already loaded, and the relinked
    select int_sales_activities_unioned.*
    from int_sales_activities_unioned
    cross join int_as_of_date
    cross join loaded
    left join relinked
        on int_sales_activities_unioned.sales_activity_id = relinked.sales_activity_id
    where
        int_sales_activities_unioned.occurred_at < int_as_of_date.as_of_end_at
        and (
            loaded.last_occurred_at is null
            or int_sales_activities_unioned.occurred_at
            >= {{ dbt.dateadd('day', -1 * lookback_days, 'loaded.last_occurred_at') }}
            or int_sales_activities_unioned.synced_at
            >= {{ dbt.dateadd('day', -1 * lookback_days, 'loaded.last_synced_at') }}
            or relinked.sales_activity_id is not null
        )

),

final as (

    select
        activities.sales_activity_id,
        activities.activity_id,
        activities.source_system,
        activities.source_table,
        activities.crm_activity_type,
        activities.activity_type,
        activities.is_touch_activity,
        activities.occurred_at,
        cast(activities.occurred_at as date) as occurred_date,
        activities.owner_user_id,
        activities.person_id,
        activities.crm_object,
        activities.crm_record_id,
        int_opportunities_accepted.opportunity_id,
        coalesce(
            activities.crm_account_id,
            int_opportunities_accepted.account_id,
            int_person_records_unioned.account_id
        ) as account_id,
        activities.synced_at
    from activities
    left join int_opportunities_accepted
        on
            activities.source_system = int_opportunities_accepted.source_system
            and activities.related_record_id = int_opportunities_accepted.opportunity_id
    left join int_person_records_unioned
        on
            activities.source_system = int_person_records_unioned.source_system
            and activities.crm_object = int_person_records_unioned.crm_object
            and activities.crm_record_id = int_person_records_unioned.crm_record_id

)

select * from final
