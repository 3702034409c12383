-- The leading indicators of misalignment, per ISO week, each with its value, its change
-- over the previous week and whether it moved the wrong way (alarm_rules, one rule per
-- indicator: trailing window, minimum count, the change that counts): (1) the lead
-- rejection rate over the trailing weeks; (2) mid-funnel stage aging: the share of open
-- opportunities stuck past their stage median at the week's end; (3) win-rate divergence:
-- the spread between the highest and the lowest segment win rate over the trailing weeks
-- of closes. The alarm (leading_indicator_alarm): at least min_count indicators moved the
-- wrong way in each of consecutive_periods consecutive weeks.

with

kpi_lead_rejection_alarms_weekly as (

    select * from {{ ref('kpi_lead_rejection_alarms_weekly') }}

),

kpi_stage_aging as (

    select * from {{ ref('kpi_stage_aging') }}

),

kpi_win_rates as (

    select * from {{ ref('kpi_win_rates') }}

),

dim_dates as (

    select * from {{ ref('dim_dates') }}

),

alarm_rules as (

    select * from {{ ref('alarm_rules') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from kpi_lead_rejection_alarms_weekly

),

bounds as (

    select min(week_start) as first_week_start
    from kpi_lead_rejection_alarms_weekly

),

weeks as (

    select distinct dim_dates.week_start_date as week_start
    from dim_dates
    cross join as_of
    cross join bounds
    where
        dim_dates.date_day >= bounds.first_week_start
        and dim_dates.date_day <= as_of.as_of_date

),

week_rules as (

    -- each week with the version of every indicator rule in force on its Monday
    select
        weeks.week_start,
        alarm_rules.rule_key,
        alarm_rules.alarm_rule_id,
        alarm_rules.threshold,
        alarm_rules.min_count,
        alarm_rules.consecutive_periods,
        alarm_rules.trailing_periods
    from weeks
    inner join alarm_rules
        on
            weeks.week_start >= alarm_rules.valid_from
            and weeks.week_start < alarm_rules.valid_to
    where alarm_rules.rule_key in (
        'leading_rejection_rate',
        'leading_stage_aging',
        'leading_win_rate_divergence',
        'leading_indicator_alarm'
    )

),

window_weeks as (

    -- (week, rule, a week in the rule's trailing window ending with it)
    select
        week_rules.week_start,
        week_rules.rule_key,
        weeks.week_start as counted_week_start
    from week_rules
    inner join weeks
        on
            week_rules.week_start >= weeks.week_start
            and {{ dbt.dateadd(
                'day', '-7 * week_rules.trailing_periods', 'week_rules.week_start'
            ) }} < weeks.week_start

),

rejections as (

    select
        window_weeks.week_start,
        sum(kpi_lead_rejection_alarms_weekly.rejected_count) as rejected_count,
        sum(kpi_lead_rejection_alarms_weekly.dispositioned_count) as dispositioned_count
    from window_weeks
    inner join kpi_lead_rejection_alarms_weekly
        on window_weeks.counted_week_start = kpi_lead_rejection_alarms_weekly.week_start
    where window_weeks.rule_key = 'leading_rejection_rate'
    group by 1

),

stage_aging as (

    select
        week_start,
        count(*) as open_count,
        sum(case when is_stuck then 1 else 0 end) as stuck_count
    from kpi_stage_aging
    group by 1

),

segment_win_rates as (

    select
        window_weeks.week_start,
        kpi_win_rates.segment,
        sum(kpi_win_rates.won_count) as won_count,
        sum(kpi_win_rates.closed_count) as closed_count
    from window_weeks
    inner join kpi_win_rates
        on
            window_weeks.counted_week_start = kpi_win_rates.period_start
            and kpi_win_rates.period_type = 'week'
    where
        window_weeks.rule_key = 'leading_win_rate_divergence'
        -- win rate is a new-business measure: renewals, won far more often, would make a
        -- spread between segments that only says which one renews more
        and kpi_win_rates.opportunity_type = 'new_business'
    group by 1, 2

),

divergence as (

    select
        segment_win_rates.week_start,
        count(*) as segment_count,
        -- a spread takes two segments: one segment with enough closes has none
        case
            when count(*) >= 2
                then
                    max(
                        cast(segment_win_rates.won_count as double)
                        / segment_win_rates.closed_count
                    )
                    - min(
                        cast(segment_win_rates.won_count as double)
                        / segment_win_rates.closed_count
                    )
        end as win_rate_spread
    from segment_win_rates
    inner join week_rules
        on
            segment_win_rates.week_start = week_rules.week_start
            and week_rules.rule_key = 'leading_win_rate_divergence'
    where segment_win_rates.closed_count >= week_rules.min_count
    group by 1

),

indicators as (

    select
        weeks.week_start,
        coalesce(rejections.rejected_count, 0) as rejected_count,
        coalesce(rejections.dispositioned_count, 0) as dispositioned_count,
        case
            when rejections.dispositioned_count >= rejection_rule.min_count
                then cast(rejections.rejected_count as double) / rejections.dispositioned_count
        end as rejection_rate,
        coalesce(stage_aging.open_count, 0) as open_opportunity_count,
        coalesce(stage_aging.stuck_count, 0) as stuck_opportunity_count,
        case
            when stage_aging.open_count >= aging_rule.min_count
                then cast(stage_aging.stuck_count as double) / stage_aging.open_count
        end as stuck_share,
        coalesce(divergence.segment_count, 0) as segment_count,
        divergence.win_rate_spread,
        rejection_rule.threshold as rejection_rate_threshold,
        aging_rule.threshold as stuck_share_threshold,
        divergence_rule.threshold as win_rate_spread_threshold,
        alarm_rule.alarm_rule_id,
        alarm_rule.min_count as alarm_min_indicators,
        alarm_rule.consecutive_periods as alarm_consecutive_weeks
    from weeks
    left join week_rules as rejection_rule
        on
            weeks.week_start = rejection_rule.week_start
            and rejection_rule.rule_key = 'leading_rejection_rate'
    left join week_rules as aging_rule
        on
            weeks.week_start = aging_rule.week_start
            and aging_rule.rule_key = 'leading_stage_aging'
    left join week_rules as divergence_rule
        on
            weeks.week_start = divergence_rule.week_start
            and divergence_rule.rule_key = 'leading_win_rate_divergence'
    left join week_rules as alarm_rule
        on
            weeks.week_start = alarm_rule.week_start
            and alarm_rule.rule_key = 'leading_indicator_alarm'
    left join rejections
        on weeks.week_start = rejections.week_start
    left join stage_aging
        on weeks.week_start = stage_aging.week_start
    left join divergence
        on weeks.week_start = divergence.week_start

),

changes as (

    select
        *,
        rejection_rate
        - lag(rejection_rate) over (order by week_start) as rejection_rate_change,
        stuck_share - lag(stuck_share) over (order by week_start) as stuck_share_change,
        win_rate_spread
        - lag(win_rate_spread) over (order by week_start) as win_rate_spread_change
    from indicators

),

directions as (

    -- an indicator without a value this week or last has no direction (null, not wrong)
    select
        *,
        rejection_rate_change > rejection_rate_threshold as is_rejection_rate_wrong_way,
        stuck_share_change > stuck_share_threshold as is_stage_aging_wrong_way,
        win_rate_spread_change > win_rate_spread_threshold as is_win_rate_divergence_wrong_way
    from changes

),

counted as (

    select
        *,
        case when coalesce(is_rejection_rate_wrong_way, false) then 1 else 0 end
        + case when coalesce(is_stage_aging_wrong_way, false) then 1 else 0 end
        + case when coalesce(is_win_rate_divergence_wrong_way, false) then 1 else 0 end
            as wrong_way_count
    from directions

),

runs as (

    -- a week below the alarm's count starts a new run; the run's length counts the weeks
    -- at or above it since
    select
        *,
        sum(case when wrong_way_count >= alarm_min_indicators then 0 else 1 end) over (
            order by week_start rows between unbounded preceding and current row
        ) as run_id
    from counted

),

sequenced as (

    select
        runs.week_start,
        as_of.as_of_date,
        {{ dbt.dateadd('day', 6, 'runs.week_start') }} <= as_of.as_of_date as is_complete,
        cast(runs.rejected_count as integer) as rejected_count,
        cast(runs.dispositioned_count as integer) as dispositioned_count,
        cast(runs.rejection_rate as double) as rejection_rate,
        cast(runs.rejection_rate_change as double) as rejection_rate_change,
        runs.is_rejection_rate_wrong_way,
        cast(runs.stuck_opportunity_count as integer) as stuck_opportunity_count,
        cast(runs.open_opportunity_count as integer) as open_opportunity_count,
        cast(runs.stuck_share as double) as stuck_share,
        cast(runs.stuck_share_change as double) as stuck_share_change,
        runs.is_stage_aging_wrong_way,
        cast(runs.segment_count as integer) as segment_count,
        cast(runs.win_rate_spread as double) as win_rate_spread,
        cast(runs.win_rate_spread_change as double) as win_rate_spread_change,
        runs.is_win_rate_divergence_wrong_way,
        cast(runs.wrong_way_count as integer) as wrong_way_count,
        cast(
            case
                when runs.wrong_way_count >= runs.alarm_min_indicators
                    then count(*) over (
                        partition by runs.run_id
                        order by runs.week_start
                        rows between unbounded preceding and current row
                    ) - case when runs.run_id > 0 then 1 else 0 end
                else 0
            end as integer
        ) as consecutive_wrong_way_weeks,
        runs.alarm_rule_id,
        cast(runs.alarm_min_indicators as integer) as alarm_min_indicators,
        cast(runs.alarm_consecutive_weeks as integer) as alarm_consecutive_weeks
    from runs
    cross join as_of

),

final as (

    select
        *,
        consecutive_wrong_way_weeks >= alarm_consecutive_weeks as is_alarm
    from sequenced

)

select * from final
