-- The rising rejection alarm (alarm_rules, rule_key rejection_rate_rise): the company-wide
-- rejection rate per ISO week of disposition, whether it rose strictly (by more than the
-- rule's threshold) over the previous calendar week, the run of consecutive rising weeks
-- ending in this week, and the alarm when the run reaches the rule's number of weeks.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

alarm_rules as (

    select * from {{ ref('alarm_rules') }}

),

weeks as (

    select
        cast({{ dbt.date_trunc('week', 'dispositioned_at') }} as date) as week_start,
        count(*) as dispositioned_count,
        sum(case when is_rejected then 1 else 0 end) as rejected_count,
        max(as_of_date) as as_of_date
    from fct_lead_handoffs
    where is_dispositioned
    group by 1

),

judged as (

    -- the rule in force on the Monday of the week
    select
        weeks.*,
        alarm_rules.alarm_rule_id,
        alarm_rules.threshold,
        alarm_rules.min_count,
        alarm_rules.consecutive_periods,
        case
            when weeks.dispositioned_count >= alarm_rules.min_count
                then cast(weeks.rejected_count as double) / weeks.dispositioned_count
        end as judged_rejection_rate
    from weeks
    left join alarm_rules
        on
            alarm_rules.rule_key = 'rejection_rate_rise'
            and weeks.week_start >= alarm_rules.valid_from
            and weeks.week_start < alarm_rules.valid_to

),

with_previous as (

    select
        *,
        lag(week_start) over (order by week_start) as previous_week_start,
        lag(judged_rejection_rate) over (order by week_start) as previous_rejection_rate
    from judged

),

rises as (

    -- a rise needs a rate in this week and in the previous calendar week
    select
        *,
        case
            when previous_week_start = {{ dbt.dateadd('day', -7, 'week_start') }}
                then previous_rejection_rate
        end as previous_week_rejection_rate,
        coalesce(
            previous_week_start = {{ dbt.dateadd('day', -7, 'week_start') }}
            and judged_rejection_rate - previous_rejection_rate > threshold,
            false
        ) as is_rise
    from with_previous

),

run_starts as (

    select
        *,
        case
            when is_rise and lag(is_rise) over (order by week_start) then 0
            else 1
        end as is_run_start
    from rises

),

runs as (

    select
        *,
        sum(is_run_start) over (
            order by week_start rows between unbounded preceding and current row
        ) as run_id
    from run_starts

),

run_lengths as (

    select
        *,
        case
            when is_rise then row_number() over (partition by run_id order by week_start)
            else 0
        end as consecutive_rise_count
    from runs

),

final as (

    select
        week_start,
        cast(dispositioned_count as integer) as dispositioned_count,
        cast(rejected_count as integer) as rejected_count,
        cast(rejected_count as double) / nullif(dispositioned_count, 0) as rejection_rate,
        cast(previous_week_rejection_rate as double) as previous_week_rejection_rate,
        cast(alarm_rule_id as {{ dbt.type_string() }}) as alarm_rule_id,
        cast(threshold as double) as threshold,
        cast(min_count as integer) as min_count,
        cast(consecutive_periods as integer) as consecutive_periods,
        is_rise,
        cast(consecutive_rise_count as integer) as consecutive_rise_count,
        coalesce(consecutive_rise_count >= consecutive_periods, false)
            as is_rejection_rise_alarm,
        as_of_date
    from run_lengths

)

select * from final
