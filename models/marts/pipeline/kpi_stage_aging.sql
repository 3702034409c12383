-- Stage aging per week: every opportunity open at the end of the week's last day (the
-- as-of date for the running week), its days in its current stage at that moment, the
-- stage's trailing median days-in-stage and whether it is stuck (pipeline_kpi_rules in
-- force on that day). The medians are computed once per (week, stage) from the completed
-- stage visits and joined on (week, stage).

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

dates as (

    select * from {{ ref('dim_dates') }}

),

pipeline_snapshots as (

    select * from {{ ref('fct_pipeline_snapshots_daily') }}

),

stage_history as (

    select * from {{ ref('fct_opportunity_stage_history') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

pipeline_kpi_rules as (

    select * from {{ ref('pipeline_kpi_rules') }}

),

weeks as (

    -- each week's last day up to the as-of date: its Sunday, or the as-of date while the
    -- week runs
    select
        calendar_weeks.week_start,
        case
            when calendar_weeks.week_last_day < as_of.as_of_date
                then calendar_weeks.week_last_day
            else as_of.as_of_date
        end as week_end_date,
        calendar_weeks.week_last_day <= as_of.as_of_date as is_complete
    from (
        select
            week_start_date as week_start,
            max(date_day) as week_last_day
        from dates
        group by 1
    ) as calendar_weeks
    cross join as_of
    where calendar_weeks.week_start <= as_of.as_of_date

),

weeks_with_rules as (

    select
        weeks.week_start,
        weeks.week_end_date,
        weeks.is_complete,
        cast(
            {{ dbt.dateadd('day', 1, 'weeks.week_end_date') }} as timestamp
        ) as week_end_moment,
        cast(
            {{ dbt.dateadd(
                'day',
                '-1 * pipeline_kpi_rules.stage_median_trailing_days',
                'weeks.week_end_date',
            ) }} as date
        ) as median_window_opens_after,
        pipeline_kpi_rules.stage_median_trailing_days,
        pipeline_kpi_rules.stuck_days_past_median
    from weeks
    inner join pipeline_kpi_rules
        on
            weeks.week_end_date >= pipeline_kpi_rules.valid_from
            and weeks.week_end_date < pipeline_kpi_rules.valid_to

),

completed_visits as (

    select
        stage_key,
        cast(exited_at as date) as exited_date,
        days_in_stage
    from stage_history
    -- an inferred visit's duration is a guess (no stage history in the CRM): not measured
    where is_open_stage and exited_at is not null and not is_history_inferred

),

open_at_week_end as (

    select
        weeks_with_rules.*,
        pipeline_snapshots.source_system,
        pipeline_snapshots.opportunity_id,
        pipeline_snapshots.stage_key,
        pipeline_snapshots.stage_order,
        pipeline_snapshots.amount_corporate
    from pipeline_snapshots
    inner join weeks_with_rules
        on pipeline_snapshots.snapshot_date = weeks_with_rules.week_end_date

),

weeks_with_open_pipeline as (

    select distinct
        week_start,
        week_end_date,
        median_window_opens_after
    from open_at_week_end

),

stage_medians as (

    -- per week with open pipeline and stage: the completed visits that exited within the
    -- trailing window up to the week's last day (a small table, joined on week and stage)
    select
        weeks_with_open_pipeline.week_start,
        completed_visits.stage_key,
        {{ percentile_cont('completed_visits.days_in_stage', 0.5) }} as stage_median_days,
        count(*) as stage_median_visit_count
    from weeks_with_open_pipeline
    inner join completed_visits
        on
            weeks_with_open_pipeline.median_window_opens_after < completed_visits.exited_date
            and weeks_with_open_pipeline.week_end_date >= completed_visits.exited_date
    group by 1, 2

),

stage_visits as (

    -- a visit still open runs to the end of the as-of date (one comparison instead of an
    -- "exited_at is null or ..." that would turn the join below into a nested loop)
    select
        stage_history.source_system,
        stage_history.opportunity_id,
        stage_history.entered_at,
        coalesce(
            stage_history.exited_at,
            cast({{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as timestamp)
        ) as exited_or_open_until
    from stage_history
    cross join as_of

),

current_visits as (

    -- the stage visit in force at the end of the week's last day
    select
        open_at_week_end.*,
        stage_visits.entered_at as stage_entered_at,
        {{ dbt.datediff(
            'cast(stage_visits.entered_at as date)',
            'open_at_week_end.week_end_date',
            'day',
        ) }} as days_in_stage
    from open_at_week_end
    left join stage_visits
        on
            open_at_week_end.source_system = stage_visits.source_system
            and open_at_week_end.opportunity_id = stage_visits.opportunity_id
            and open_at_week_end.week_end_moment > stage_visits.entered_at
            and open_at_week_end.week_end_moment <= stage_visits.exited_or_open_until

),

final as (

    select
        cast(current_visits.week_start as date) as week_start,
        cast(current_visits.week_end_date as date) as week_end_date,
        cast(as_of.as_of_date as date) as as_of_date,
        current_visits.is_complete,
        cast(current_visits.source_system as {{ dbt.type_string() }}) as source_system,
        cast(current_visits.opportunity_id as {{ dbt.type_string() }}) as opportunity_id,
        cast(opportunities.opportunity_type as {{ dbt.type_string() }}) as opportunity_type,
        cast(opportunities.segment as {{ dbt.type_string() }}) as segment,
        cast(opportunities.region as {{ dbt.type_string() }}) as region,
        cast(opportunities.owner_user_id as {{ dbt.type_string() }}) as owner_user_id,
        cast(current_visits.stage_key as {{ dbt.type_string() }}) as stage_key,
        cast(current_visits.stage_order as integer) as stage_order,
        cast(current_visits.stage_entered_at as timestamp) as stage_entered_at,
        cast(current_visits.days_in_stage as integer) as days_in_stage,
        cast(stage_medians.stage_median_days as double) as stage_median_days,
        cast(
            coalesce(stage_medians.stage_median_visit_count, 0) as bigint
        ) as stage_median_visit_count,
        cast(
            current_visits.days_in_stage - stage_medians.stage_median_days as double
        ) as days_past_median,
        coalesce(
            current_visits.days_in_stage - stage_medians.stage_median_days
            >= current_visits.stuck_days_past_median,
            false
        ) as is_stuck,
        cast(current_visits.stage_median_trailing_days as integer)
            as stage_median_trailing_days,
        cast(current_visits.stuck_days_past_median as integer) as stuck_days_past_median,
        cast(current_visits.amount_corporate as decimal(18, 2)) as amount_corporate
    from current_visits
    cross join as_of
    left join stage_medians
        on
            current_visits.week_start = stage_medians.week_start
            and current_visits.stage_key = stage_medians.stage_key
    left join opportunities
        on
            current_visits.source_system = opportunities.source_system
            and current_visits.opportunity_id = opportunities.opportunity_id

)

select * from final
