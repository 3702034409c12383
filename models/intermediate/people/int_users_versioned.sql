-- The CRM users who own records (Salesforce users, HubSpot owners), one row per version of
-- their place in the organisation. Salesforce versions come from the history captured at
-- ingestion (stg_salesforce__user_history, dlt scd2 on the user's manager, role,
-- department, region, title and active flag): its first version is valid from the user's
-- creation (with a single load, the current manager applies since the user was created),
-- later versions from the load that brought the change. A user's creation time is not part
-- of their place in the organisation: it comes from the current user row, so a corrected
-- created_date takes effect at the next build (the history keeps the value of the version's
-- first row). A deleted user's last version stays valid (records they owned still need a
-- team and region).
-- HubSpot owners have one version (no manager hierarchy).
-- Team and region come from the seeds (salesforce_departments, hubspot_teams).

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

{% if salesforce %}
stg_salesforce__user_history as (

    select * from {{ ref('stg_salesforce__user_history') }}

),

stg_salesforce__users as (

    select * from {{ ref('stg_salesforce__users') }}

),

stg_salesforce__user_roles as (

    select * from {{ ref('stg_salesforce__user_roles') }}

),

salesforce_departments as (

    select * from {{ ref('salesforce_departments') }}

),
{% endif %}

{% if hubspot %}
stg_hubspot__owners as (

    select * from {{ ref('stg_hubspot__owners') }}

),

stg_hubspot__owner_teams as (

    select * from {{ ref('stg_hubspot__owner_teams') }}

),

stg_hubspot__teams as (

    select * from {{ ref('stg_hubspot__teams') }}

),

hubspot_teams as (

    select * from {{ ref('hubspot_teams') }}

),
{% endif %}

versions as (

    {% if salesforce %}
    select
        stg_salesforce__user_history.source_system,
        stg_salesforce__user_history.user_id,
        stg_salesforce__user_history.manager_user_id,
        stg_salesforce__user_history.user_role_id,
        stg_salesforce__user_roles.role_name,
        stg_salesforce__user_history.title,
        stg_salesforce__user_history.department as crm_team_name,
        salesforce_departments.team_function as team,
        stg_salesforce__user_history.region,
        stg_salesforce__user_history.is_active,
        coalesce(
            stg_salesforce__users.created_at, stg_salesforce__user_history.created_at
        ) as created_at,
        case
            when
                row_number() over (
                    partition by stg_salesforce__user_history.user_id
                    order by stg_salesforce__user_history.valid_from_at
                ) = 1
                then
                    coalesce(
                        stg_salesforce__users.created_at,
                        stg_salesforce__user_history.created_at
                    )
            else stg_salesforce__user_history.valid_from_at
        end as valid_from
    from stg_salesforce__user_history
    left join stg_salesforce__users
        on stg_salesforce__user_history.user_id = stg_salesforce__users.user_id
    left join stg_salesforce__user_roles
        on stg_salesforce__user_history.user_role_id = stg_salesforce__user_roles.user_role_id
    left join salesforce_departments
        on stg_salesforce__user_history.department = salesforce_departments.department
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        stg_hubspot__owners.source_system,
        stg_hubspot__owners.owner_id as user_id,
        cast(null as {{ dbt.type_string() }}) as manager_user_id,
        cast(null as {{ dbt.type_string() }}) as user_role_id,
        cast(null as {{ dbt.type_string() }}) as role_name,
        cast(null as {{ dbt.type_string() }}) as title,
        stg_hubspot__teams.team_name as crm_team_name,
        hubspot_teams.team_function as team,
        hubspot_teams.region,
        stg_hubspot__owners.is_active,
        stg_hubspot__owners.created_at,
        stg_hubspot__owners.created_at as valid_from
    from stg_hubspot__owners
    left join stg_hubspot__owner_teams
        on
            stg_hubspot__owners.owner_id = stg_hubspot__owner_teams.owner_id
            and stg_hubspot__owner_teams.is_primary_team
    left join stg_hubspot__teams
        on stg_hubspot__owner_teams.team_id = stg_hubspot__teams.team_id
    left join hubspot_teams
        on stg_hubspot__teams.team_name = hubspot_teams.team_name
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as user_id,
        cast(null as {{ dbt.type_string() }}) as manager_user_id,
        cast(null as {{ dbt.type_string() }}) as user_role_id,
        cast(null as {{ dbt.type_string() }}) as role_name,
        cast(null as {{ dbt.type_string() }}) as title,
        cast(null as {{ dbt.type_string() }}) as crm_team_name,
        cast(null as {{ dbt.type_string() }}) as team,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_boolean() }}) as is_active,
        cast(null as {{ dbt.type_timestamp() }}) as created_at,
        cast(null as {{ dbt.type_timestamp() }}) as valid_from
    where 1 = 0
    {% endif %}

),

final as (

    select
        cast({{ dbt.hash(dbt.concat([
            "source_system", "':'", "user_id", "':'",
            "cast(valid_from as " ~ dbt.type_string() ~ ")",
        ])) }} as {{ dbt.type_string() }}) as user_version_id,
        source_system,
        user_id,
        manager_user_id,
        user_role_id,
        role_name,
        title,
        crm_team_name,
        team,
        region,
        is_active,
        created_at,
        valid_from,
        coalesce(
            lead(valid_from) over (partition by source_system, user_id order by valid_from),
            cast('9999-12-31 00:00:00' as {{ dbt.type_timestamp() }})
        ) as valid_to,
        lead(valid_from) over (
            partition by source_system, user_id order by valid_from
        ) is null as is_current
    from versions

)

select * from final
