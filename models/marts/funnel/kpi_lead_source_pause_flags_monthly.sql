-- The source pause rule (alarm_rules, rule_key source_pause): per (source_system,
-- lead_source) and month of disposition, whether the rejection rate is strictly above the
-- rule's threshold with at least its minimum of dispositioned handoffs, the length of the
-- run of such consecutive calendar months ending in this month, and the pause flag when the
-- run reaches the rule's number of consecutive months.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

alarm_rules as (

    select * from {{ ref('alarm_rules') }}

),

source_months as (

    select
        cast({{ dbt.date_trunc('month', 'fct_lead_handoffs.dispositioned_at') }} as date)
            as month_start,
        fct_lead_handoffs.source_system,
        dim_persons.lead_source,
        count(*) as dispositioned_count,
        sum(case when fct_lead_handoffs.is_rejected then 1 else 0 end) as rejected_count,
        max(fct_lead_handoffs.as_of_date) as as_of_date
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id
    where fct_lead_handoffs.is_dispositioned
    group by 1, 2, 3

),

judged as (

    -- the rule in force on the first day of the month
    select
        source_months.*,
        alarm_rules.alarm_rule_id,
        alarm_rules.threshold,
        alarm_rules.min_count,
        alarm_rules.consecutive_periods,
        cast(source_months.rejected_count as double)
        / nullif(source_months.dispositioned_count, 0) as rejection_rate,
        coalesce(
            source_months.dispositioned_count >= alarm_rules.min_count
            and cast(source_months.rejected_count as double)
            / nullif(source_months.dispositioned_count, 0) > alarm_rules.threshold,
            false
        ) as is_above_threshold
    from source_months
    left join alarm_rules
        on
            alarm_rules.rule_key = 'source_pause'
            and source_months.month_start >= alarm_rules.valid_from
            and source_months.month_start < alarm_rules.valid_to

),

with_previous as (

    select
        *,
        lag(month_start) over (
            partition by source_system, lead_source order by month_start
        ) as previous_month_start,
        lag(is_above_threshold) over (
            partition by source_system, lead_source order by month_start
        ) as is_previous_above_threshold
    from judged

),

run_starts as (

    -- a run continues only from an above-threshold row of the previous calendar month
    select
        *,
        case
            when
                is_above_threshold
                and is_previous_above_threshold
                and previous_month_start = {{ dbt.dateadd('month', -1, 'month_start') }}
                then 0
            else 1
        end as is_run_start
    from with_previous

),

runs as (

    select
        *,
        sum(is_run_start) over (
            partition by source_system, lead_source
            order by month_start
            rows between unbounded preceding and current row
        ) as run_id
    from run_starts

),

run_lengths as (

    select
        *,
        case
            when is_above_threshold
                then row_number() over (
                    partition by source_system, lead_source, run_id order by month_start
                )
            else 0
        end as consecutive_months_above
    from runs

),

final as (

    select
        month_start,
        cast(source_system as {{ dbt.type_string() }}) as source_system,
        cast(lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(dispositioned_count as integer) as dispositioned_count,
        cast(rejected_count as integer) as rejected_count,
        cast(rejection_rate as double) as rejection_rate,
        cast(alarm_rule_id as {{ dbt.type_string() }}) as alarm_rule_id,
        cast(threshold as double) as threshold,
        cast(min_count as integer) as min_count,
        cast(consecutive_periods as integer) as consecutive_periods,
        is_above_threshold,
        cast(consecutive_months_above as integer) as consecutive_months_above,
        coalesce(consecutive_months_above >= consecutive_periods, false) as is_pause_flagged,
        as_of_date
    from run_lengths

)

select * from final
