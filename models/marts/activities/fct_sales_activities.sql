{{
    config(
        post_hook="{{ remove_emptied_days(
            'occurred_date',
            ref('int_sales_activities_unioned'),
            'occurred_at',
            'occurred_at < (select as_of_end_at from ' ~ ref('int_as_of_date') ~ ')'
        ) }}",
    )
}}

-- Sales activities (int_sales_activities_unioned) up to the end of the as-of date, with the
-- opportunity the CRM links them to and their account.
--
-- Incremental by day (materialization and strategy per engine in dbt_project.yml): a run
-- rebuilds whole the days holding an activity that is new, gone (deleted, unlinked, moved
-- past the as-of date), moved to another day, synced again (macro changed_days) or changed
-- in any column since the table was built (its person, opportunity or account resolved
-- differently, its type mapped differently in the seed). A full refresh rebuilds every day.
-- A day whose every activity is gone has no new rows to replace it: the post-hook removes
-- it (macro remove_emptied_days).

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

activities as (

    -- up to the end of the as-of date
    select int_sales_activities_unioned.*
    from int_sales_activities_unioned
    cross join int_as_of_date
    where int_sales_activities_unioned.occurred_at < int_as_of_date.as_of_end_at

),

linked as (

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

),

{% if is_incremental() %}
changed as (

    {{ changed_days('linked', this, 'sales_activity_id', 'occurred_at', 'synced_at') }}

),

resolved_again as (

    -- activities already built of which any other column differs now (synced_at may be
    -- null, so a change does not always come with a new sync time)
    select loaded.occurred_date
    from {{ this }} as loaded
    inner join linked
        on loaded.sales_activity_id = linked.sales_activity_id
    where
        loaded.activity_id <> linked.activity_id
        or loaded.source_system <> linked.source_system
        or loaded.source_table <> linked.source_table
        or loaded.crm_activity_type is distinct from linked.crm_activity_type
        or loaded.activity_type is distinct from linked.activity_type
        or loaded.is_touch_activity is distinct from linked.is_touch_activity
        or loaded.owner_user_id is distinct from linked.owner_user_id
        or loaded.person_id is distinct from linked.person_id
        or loaded.crm_object is distinct from linked.crm_object
        or loaded.crm_record_id is distinct from linked.crm_record_id
        or loaded.opportunity_id is distinct from linked.opportunity_id
        or loaded.account_id is distinct from linked.account_id
        or loaded.synced_at is distinct from linked.synced_at

),

days_to_rebuild as (

    select changed_date as occurred_date from changed
    union
    select occurred_date from resolved_again

),

final as (

    select linked.*
    from linked
    inner join days_to_rebuild
        on linked.occurred_date = days_to_rebuild.occurred_date

)
{% else %}
final as (

    select * from linked

)
{% endif %}

select * from final
