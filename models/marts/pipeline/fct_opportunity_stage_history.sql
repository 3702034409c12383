with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

opportunity_versions as (

    select * from {{ ref('int_opportunity_versions') }}

),

versions_flagged as (

    -- a version starts a stage visit when its stage differs from the previous version's
    select
        *,
        case
            when
                lag(stage_key) over (
                    partition by source_system, opportunity_id order by version_number
                ) = stage_key
                then 0
            else 1
        end as starts_visit
    from opportunity_versions

),

versions_numbered as (

    select
        *,
        sum(starts_visit) over (
            partition by source_system, opportunity_id
            order by version_number
            rows between unbounded preceding and current row
        ) as stage_visit_number
    from versions_flagged

),

visits as (

    select
        source_system,
        opportunity_id,
        stage_visit_number,
        min(stage_key) as stage_key,
        min(stage_order) as stage_order,
        min(crm_stage_value) as crm_stage_value,
        {{ dbt.bool_or('is_open') }} as is_open_stage,
        {{ dbt.bool_or('is_history_inferred') }} as is_history_inferred,
        min(valid_from_at) as entered_at
    from versions_numbered
    group by 1, 2, 3

),

visits_linked as (

    select
        *,
        lead(entered_at) over (
            partition by source_system, opportunity_id order by stage_visit_number
        ) as exited_at,
        lag(stage_key) over (
            partition by source_system, opportunity_id order by stage_visit_number
        ) as previous_stage_key,
        lag(stage_order) over (
            partition by source_system, opportunity_id order by stage_visit_number
        ) as previous_stage_order,
        lead(stage_key) over (
            partition by source_system, opportunity_id order by stage_visit_number
        ) as next_stage_key
    from visits

),

final as (

    select
        {{ dbt.concat([
            "visits_linked.opportunity_id",
            "'-'",
            dbt.safe_cast("visits_linked.stage_visit_number", dbt.type_string()),
        ]) }} as opportunity_stage_visit_id,
        visits_linked.opportunity_id,
        visits_linked.source_system,
        cast(visits_linked.stage_visit_number as integer) as stage_visit_number,
        visits_linked.stage_key,
        visits_linked.stage_order,
        visits_linked.crm_stage_value,
        visits_linked.is_open_stage,
        visits_linked.entered_at,
        visits_linked.exited_at,
        visits_linked.exited_at is null as is_current,
        case
            when visits_linked.exited_at is not null
                then {{ dbt.datediff(
                    'cast(visits_linked.entered_at as date)',
                    'cast(visits_linked.exited_at as date)',
                    'day',
                ) }}
            when visits_linked.is_open_stage
                then {{ dbt.datediff(
                    'cast(visits_linked.entered_at as date)',
                    'as_of.as_of_date',
                    'day',
                ) }}
        end as days_in_stage,
        visits_linked.previous_stage_key,
        visits_linked.next_stage_key,
        coalesce(
            visits_linked.stage_order < visits_linked.previous_stage_order, false
        ) as is_regression,
        visits_linked.is_history_inferred
    from visits_linked
    cross join as_of

)

select * from final
