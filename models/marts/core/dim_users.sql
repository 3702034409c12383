-- CRM users (Salesforce users, HubSpot owners) with team, region and manager, one row per
-- version of their place in the organisation (int_users_versioned): join on the user and
-- valid_from <= date < valid_to to get the hierarchy as it was at that date. Every user is
-- here, with or without deals. No names or emails.

with

int_users_versioned as (

    select * from {{ ref('int_users_versioned') }}

),

with_manager as (

    -- the manager's own version in force when this version starts
    select
        int_users_versioned.*,
        managers.team as manager_team,
        managers.manager_user_id as skip_level_manager_user_id,
        row_number() over (
            partition by int_users_versioned.user_version_id
            order by managers.valid_from desc
        ) as manager_version_number
    from int_users_versioned
    left join int_users_versioned as managers
        on
            int_users_versioned.source_system = managers.source_system
            and int_users_versioned.manager_user_id = managers.user_id
            and int_users_versioned.valid_from >= managers.valid_from
            and int_users_versioned.valid_from < managers.valid_to

),

final as (

    select
        user_version_id,
        user_id,
        source_system,
        cast(
            {{ dbt.concat(["'user-'", "source_system", "'-'", "user_id"]) }}
            as {{ dbt.type_string() }}
        ) as user_label,
        title,
        role_name,
        user_role_id,
        crm_team_name,
        team,
        region,
        manager_user_id,
        manager_team,
        skip_level_manager_user_id,
        is_active,
        created_at,
        valid_from,
        valid_to,
        is_current
    from with_manager
    where manager_version_number = 1

)

select * from final
