-- Pipeline waterfall per week and month (var pipeline_waterfall_period_types), one row per
-- period and opportunity that was in the period's close window at its opening or ended the
-- period in it (open, won or lost). Compares two states of each opportunity from the daily
-- snapshots: the opening (end of the day before the period) and the end of the period
-- (the closing snapshot, or the last open state before it closed won or lost during the
-- period). Each category is defined in fct_pipeline_waterfall.yml; per row,
-- opening + new + pulled_in + increased - decreased - won - lost - pushed_out = closing.

{%- set period_types = var('pipeline_waterfall_period_types', ['week', 'month']) %}

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

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

snapshot_range as (

    select min(snapshot_date) as first_snapshot_date
    from pipeline_snapshots

),

calendar_periods as (

    {% for period_type in period_types %}
    select
        '{{ period_type }}' as period_type,
        {{ period_type }}_start_date as period_start_date,
        max(date_day) as period_end_date
    from dates
    group by 1, 2
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

periods as (

    select
        calendar_periods.period_type,
        calendar_periods.period_start_date,
        calendar_periods.period_end_date,
        {{ dbt.dateadd('day', -1, 'calendar_periods.period_start_date') }}
            as opening_snapshot_date,
        case
            when calendar_periods.period_end_date < as_of.as_of_date
                then calendar_periods.period_end_date
            else as_of.as_of_date
        end as closing_snapshot_date,
        calendar_periods.period_end_date <= as_of.as_of_date as is_complete
    from calendar_periods
    cross join as_of
    cross join snapshot_range
    where
        calendar_periods.period_start_date <= as_of.as_of_date
        and calendar_periods.period_end_date >= snapshot_range.first_snapshot_date

),

opening_states as (

    select
        periods.period_type,
        periods.period_start_date,
        pipeline_snapshots.source_system,
        pipeline_snapshots.opportunity_id,
        pipeline_snapshots.stage_key,
        pipeline_snapshots.close_date,
        coalesce(pipeline_snapshots.amount_corporate, 0) as amount_corporate,
        pipeline_snapshots.close_date <= periods.period_end_date as is_in_window
    from periods
    inner join pipeline_snapshots
        on periods.opening_snapshot_date = pipeline_snapshots.snapshot_date

),

closing_open_states as (

    select
        periods.period_type,
        periods.period_start_date,
        pipeline_snapshots.source_system,
        pipeline_snapshots.opportunity_id,
        'open' as end_state,
        pipeline_snapshots.stage_key,
        pipeline_snapshots.close_date,
        coalesce(pipeline_snapshots.amount_corporate, 0) as amount_corporate,
        pipeline_snapshots.close_date <= periods.period_end_date as is_in_window
    from periods
    inner join pipeline_snapshots
        on periods.closing_snapshot_date = pipeline_snapshots.snapshot_date

),

closes_in_period as (

    -- the last close (won or lost) of each opportunity in the period
    select
        periods.period_type,
        periods.period_start_date,
        stage_history.source_system,
        stage_history.opportunity_id,
        -- funnel_stages.is_won of the closed stage; any other close counts as lost
        case
            when funnel_stages.is_won then 'won' else 'lost'
        end as end_state,
        stage_history.stage_key,
        cast(stage_history.entered_at as date) as closed_on,
        row_number() over (
            partition by
                periods.period_type,
                periods.period_start_date,
                stage_history.source_system,
                stage_history.opportunity_id
            -- two closes at the same moment: the later visit is the close
            order by stage_history.entered_at desc, stage_history.stage_visit_number desc
        ) as close_recency
    from periods
    inner join stage_history
        on
            cast(stage_history.entered_at as date) >= periods.period_start_date
            and cast(stage_history.entered_at as date) <= periods.closing_snapshot_date
    left join funnel_stages
        on stage_history.stage_key = funnel_stages.stage_key
    where not stage_history.is_open_stage

),

closing_closed_states as (

    -- a close counts with the last open state, the snapshot of the day before it closed (a
    -- deal created and closed on one day was never pipeline); a deal reopened and open at
    -- the end of the period counts as open instead
    select
        closes_in_period.period_type,
        closes_in_period.period_start_date,
        closes_in_period.source_system,
        closes_in_period.opportunity_id,
        closes_in_period.end_state,
        closes_in_period.stage_key,
        last_open_states.close_date,
        coalesce(last_open_states.amount_corporate, 0) as amount_corporate,
        true as is_in_window
    from closes_in_period
    inner join pipeline_snapshots as last_open_states
        on
            closes_in_period.source_system = last_open_states.source_system
            and closes_in_period.opportunity_id = last_open_states.opportunity_id
            and last_open_states.snapshot_date
            = {{ dbt.dateadd('day', -1, 'closes_in_period.closed_on') }}
    left join closing_open_states
        on
            closes_in_period.period_type = closing_open_states.period_type
            and closes_in_period.period_start_date = closing_open_states.period_start_date
            and closes_in_period.source_system = closing_open_states.source_system
            and closes_in_period.opportunity_id = closing_open_states.opportunity_id
    where
        closes_in_period.close_recency = 1
        and closing_open_states.opportunity_id is null

),

end_states as (

    select * from closing_open_states
    union all
    select * from closing_closed_states

),

compared as (

    select
        coalesce(opening_states.period_type, end_states.period_type) as period_type,
        coalesce(
            opening_states.period_start_date, end_states.period_start_date
        ) as period_start_date,
        coalesce(opening_states.source_system, end_states.source_system) as source_system,
        coalesce(
            opening_states.opportunity_id, end_states.opportunity_id
        ) as opportunity_id,
        opening_states.opportunity_id is not null as is_open_at_opening,
        coalesce(opening_states.is_in_window, false) as is_in_opening_window,
        coalesce(end_states.is_in_window, false) as is_in_closing_window,
        end_states.end_state,
        opening_states.stage_key as opening_stage_key,
        end_states.stage_key as closing_stage_key,
        opening_states.close_date as opening_close_date,
        end_states.close_date as closing_close_date,
        coalesce(opening_states.amount_corporate, 0) as opening_state_amount,
        coalesce(end_states.amount_corporate, 0) as end_state_amount
    from opening_states
    full outer join end_states
        on
            opening_states.period_type = end_states.period_type
            and opening_states.period_start_date = end_states.period_start_date
            and opening_states.source_system = end_states.source_system
            and opening_states.opportunity_id = end_states.opportunity_id

),

categorised as (

    select
        compared.*,
        case
            when compared.is_in_opening_window then compared.opening_state_amount else 0
        end as opening_amount,
        case
            when not compared.is_open_at_opening and compared.is_in_closing_window
                then compared.end_state_amount
            else 0
        end as new_amount,
        case
            when
                compared.is_open_at_opening
                and not compared.is_in_opening_window
                and compared.is_in_closing_window
                then compared.end_state_amount
            else 0
        end as pulled_in_amount,
        case
            when
                compared.is_in_opening_window
                and compared.is_in_closing_window
                and compared.end_state_amount > compared.opening_state_amount
                then compared.end_state_amount - compared.opening_state_amount
            else 0
        end as increased_amount,
        case
            when
                compared.is_in_opening_window
                and compared.is_in_closing_window
                and compared.end_state_amount < compared.opening_state_amount
                then compared.opening_state_amount - compared.end_state_amount
            else 0
        end as decreased_amount,
        case
            when compared.end_state = 'won' then compared.end_state_amount else 0
        end as won_amount,
        case
            when compared.end_state = 'lost' then compared.end_state_amount else 0
        end as lost_amount,
        case
            when compared.is_in_opening_window and not compared.is_in_closing_window
                then compared.opening_state_amount
            else 0
        end as pushed_out_amount,
        case
            when compared.end_state = 'open' and compared.is_in_closing_window
                then compared.end_state_amount
            else 0
        end as closing_amount,
        case
            when
                compared.is_in_opening_window
                and compared.end_state = 'open'
                and compared.is_in_closing_window
                then compared.end_state_amount
            else 0
        end as carried_over_amount
    from compared
    where compared.is_in_opening_window or compared.is_in_closing_window

),

final as (

    select
        categorised.period_type,
        categorised.period_start_date,
        periods.period_end_date,
        periods.is_complete,
        categorised.source_system,
        categorised.opportunity_id,
        case
            when categorised.end_state in ('won', 'lost') then categorised.end_state
            when not categorised.is_in_closing_window then 'pushed_out'
            when not categorised.is_open_at_opening then 'new'
            when not categorised.is_in_opening_window then 'pulled_in'
            else 'carried_over'
        end as movement,
        categorised.opening_stage_key,
        categorised.closing_stage_key,
        categorised.opening_close_date,
        categorised.closing_close_date,
        cast(categorised.opening_amount as decimal(18, 2)) as opening_amount,
        cast(categorised.new_amount as decimal(18, 2)) as new_amount,
        cast(categorised.pulled_in_amount as decimal(18, 2)) as pulled_in_amount,
        cast(categorised.increased_amount as decimal(18, 2)) as increased_amount,
        cast(categorised.decreased_amount as decimal(18, 2)) as decreased_amount,
        cast(categorised.won_amount as decimal(18, 2)) as won_amount,
        cast(categorised.lost_amount as decimal(18, 2)) as lost_amount,
        cast(categorised.pushed_out_amount as decimal(18, 2)) as pushed_out_amount,
        cast(categorised.carried_over_amount as decimal(18, 2)) as carried_over_amount,
        cast(categorised.closing_amount as decimal(18, 2)) as closing_amount
    from categorised
    inner join periods
        on
            categorised.period_type = periods.period_type
            and categorised.period_start_date = periods.period_start_date

)

select * from final
