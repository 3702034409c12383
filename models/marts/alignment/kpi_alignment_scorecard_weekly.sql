-- The alignment scorecard: the four numbers both teams are paid on, per ISO week, for the
-- company and per channel, each beside its prior week and its trailing average (ratio of
-- sums over the weekly_review_rules window, 4 weeks by default; medians over the window's
-- handoffs). 1) marketing-sourced pipeline as a share of pipeline created; 2) lead-to-
-- opportunity conversion: new-business opportunities created from leads / leads created, in
-- the week; 3) sales response to MQLs: median and p90 business minutes to first touch, share
-- within the SLA target, over every handoff the sla_terms seed covers (inbound and outbound
-- alike: the outbound channel's rows show its share); 4) SLA compliance of each side:
-- handoffs without a sales breach (response or disposition) and without a marketing
-- (lead-quality) breach.

with

fct_opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

dim_funnel_stages as (

    select * from {{ ref('dim_funnel_stages') }}

),

dim_dates as (

    select * from {{ ref('dim_dates') }}

),

weekly_review_rules as (

    select * from {{ ref('weekly_review_rules') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from fct_lead_handoffs

),

first_funnel_stage as (

    select min(stage_order) as stage_order
    from dim_funnel_stages
    where is_lead_funnel_stage

),

scopes as (

    -- every fact row counts once for the company and once for its channel
    select 'company' as scope
    union all
    select 'channel' as scope

),

opportunities as (

    select
        cast({{ dbt.date_trunc('week', 'fct_opportunities.created_date') }} as date)
            as week_start,
        fct_opportunities.source_channel as channel,
        fct_opportunities.amount_corporate,
        fct_opportunities.is_marketing_sourced,
        -- a lead's conversion: a new-business opportunity with an originating person (a
        -- HubSpot renewal has its contact as originating person, and is no lead's conversion)
        fct_opportunities.originating_person_id is not null
        and fct_opportunities.opportunity_type = 'new_business' as is_from_lead
    from fct_opportunities
    cross join as_of
    where fct_opportunities.created_date <= as_of.as_of_date

),

leads as (

    select
        cast({{ dbt.date_trunc('week', 'fct_lead_lifecycle.entered_at') }} as date)
            as week_start,
        dim_persons.channel
    from fct_lead_lifecycle
    inner join first_funnel_stage
        on fct_lead_lifecycle.stage_order = first_funnel_stage.stage_order
    left join dim_persons
        on fct_lead_lifecycle.person_id = dim_persons.person_id
    cross join as_of
    where
        fct_lead_lifecycle.is_first_entry
        and cast(fct_lead_lifecycle.entered_at as date) <= as_of.as_of_date

),

handoffs as (

    select
        cast({{ dbt.date_trunc('week', 'fct_lead_handoffs.handed_at') }} as date) as week_start,
        dim_persons.channel,
        fct_lead_handoffs.is_touched,
        fct_lead_handoffs.is_response_sla_met,
        fct_lead_handoffs.business_minutes_to_first_touch,
        coalesce(
            not fct_lead_handoffs.is_sales_response_breach
            and not fct_lead_handoffs.is_sales_disposition_breach,
            false
        ) as is_sales_compliant,
        coalesce(not fct_lead_handoffs.is_marketing_quality_breach, false)
            as is_marketing_compliant
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id

),

first_activity as (

    select min(week_start) as week_start
    from leads

),

weeks as (

    -- every week from the first activity to the as-of week, with the rule in force at its
    -- start, so the prior week and the trailing window are calendar weeks, not rows
    select distinct
        dim_dates.week_start_date as week_start,
        weekly_review_rules.trailing_weeks
    from dim_dates
    cross join as_of
    inner join weekly_review_rules
        on
            dim_dates.week_start_date >= weekly_review_rules.valid_from
            and dim_dates.week_start_date < weekly_review_rules.valid_to
    cross join first_activity
    where
        dim_dates.date_day >= first_activity.week_start
        and dim_dates.date_day <= as_of.as_of_date

),

channels as (

    select distinct channel from opportunities
    union
    select distinct channel from leads
    union
    select distinct channel from handoffs

),

grid as (

    select
        week_start,
        trailing_weeks,
        'company' as scope,
        'all' as channel
    from weeks

    union all

    select
        weeks.week_start,
        weeks.trailing_weeks,
        'channel' as scope,
        channels.channel
    from weeks
    cross join channels

),

opportunity_counts as (

    select
        opportunities.week_start,
        scopes.scope,
        case when scopes.scope = 'company' then 'all' else opportunities.channel end as channel,
        sum(opportunities.amount_corporate) as pipeline_created_amount,
        sum(
            case when opportunities.is_marketing_sourced then opportunities.amount_corporate end
        ) as sourced_pipeline_amount,
        sum(case when opportunities.is_from_lead then 1 else 0 end) as opportunity_count
    from opportunities
    cross join scopes
    group by 1, 2, 3

),

lead_counts as (

    select
        leads.week_start,
        scopes.scope,
        case when scopes.scope = 'company' then 'all' else leads.channel end as channel,
        count(*) as lead_count
    from leads
    cross join scopes
    group by 1, 2, 3

),

handoff_counts as (

    select
        handoffs.week_start,
        scopes.scope,
        case when scopes.scope = 'company' then 'all' else handoffs.channel end as channel,
        count(*) as handoff_count,
        sum(case when handoffs.is_response_sla_met then 1 else 0 end) as response_sla_met_count,
        sum(case when handoffs.is_sales_compliant then 1 else 0 end) as sales_compliant_count,
        sum(case when handoffs.is_marketing_compliant then 1 else 0 end)
            as marketing_compliant_count,
        {{ percentile_cont('handoffs.business_minutes_to_first_touch', 0.5) }}
            as median_response_business_minutes,
        {{ percentile_cont('handoffs.business_minutes_to_first_touch', 0.9) }}
            as p90_response_business_minutes
    from handoffs
    cross join scopes
    group by 1, 2, 3

),

trailing_week_pairs as (

    -- (week, an earlier week in its trailing window): the window's handoffs for its medians
    select
        weeks.week_start,
        counted_weeks.week_start as counted_week_start
    from weeks
    inner join weeks as counted_weeks
        on
            weeks.week_start >= counted_weeks.week_start
            and {{ dbt.dateadd(
                'day', '-7 * weeks.trailing_weeks', 'weeks.week_start'
            ) }} < counted_weeks.week_start

),

trailing_response_times as (

    select
        trailing_week_pairs.week_start,
        scopes.scope,
        case when scopes.scope = 'company' then 'all' else handoffs.channel end as channel,
        {{ percentile_cont('handoffs.business_minutes_to_first_touch', 0.5) }}
            as median_response_business_minutes_trailing,
        {{ percentile_cont('handoffs.business_minutes_to_first_touch', 0.9) }}
            as p90_response_business_minutes_trailing
    from trailing_week_pairs
    inner join handoffs
        on trailing_week_pairs.counted_week_start = handoffs.week_start
    cross join scopes
    group by 1, 2, 3

),

weekly as (

    select
        grid.week_start,
        grid.scope,
        grid.channel,
        grid.trailing_weeks,
        coalesce(opportunity_counts.pipeline_created_amount, 0) as pipeline_created_amount,
        coalesce(opportunity_counts.sourced_pipeline_amount, 0) as sourced_pipeline_amount,
        coalesce(lead_counts.lead_count, 0) as lead_count,
        coalesce(opportunity_counts.opportunity_count, 0) as opportunity_count,
        coalesce(handoff_counts.handoff_count, 0) as handoff_count,
        coalesce(handoff_counts.response_sla_met_count, 0) as response_sla_met_count,
        coalesce(handoff_counts.sales_compliant_count, 0) as sales_compliant_count,
        coalesce(handoff_counts.marketing_compliant_count, 0) as marketing_compliant_count,
        handoff_counts.median_response_business_minutes,
        handoff_counts.p90_response_business_minutes,
        trailing_response_times.median_response_business_minutes_trailing,
        trailing_response_times.p90_response_business_minutes_trailing
    from grid
    left join opportunity_counts
        on
            grid.week_start = opportunity_counts.week_start
            and grid.scope = opportunity_counts.scope
            and coalesce(grid.channel, '') = coalesce(opportunity_counts.channel, '')
    left join lead_counts
        on
            grid.week_start = lead_counts.week_start
            and grid.scope = lead_counts.scope
            and coalesce(grid.channel, '') = coalesce(lead_counts.channel, '')
    left join handoff_counts
        on
            grid.week_start = handoff_counts.week_start
            and grid.scope = handoff_counts.scope
            and coalesce(grid.channel, '') = coalesce(handoff_counts.channel, '')
    left join trailing_response_times
        on
            grid.week_start = trailing_response_times.week_start
            and grid.scope = trailing_response_times.scope
            and coalesce(grid.channel, '') = coalesce(trailing_response_times.channel, '')

),

{%- set measures = [
    'pipeline_created_amount', 'sourced_pipeline_amount', 'lead_count',
    'opportunity_count', 'handoff_count', 'response_sla_met_count',
    'sales_compliant_count', 'marketing_compliant_count',
] %}

trailing_totals as (

    -- each measure summed over the trailing window (the grid is dense: every week is a row)
    select
        trailing_week_pairs.week_start,
        counted.scope,
        counted.channel,
        {%- for measure in measures[:-1] %}
        sum(counted.{{ measure }}) as {{ measure }}_trailing,
        {%- endfor %}
        sum(counted.{{ measures[-1] }}) as {{ measures[-1] }}_trailing
    from trailing_week_pairs
    inner join weekly as counted
        on trailing_week_pairs.counted_week_start = counted.week_start
    group by 1, 2, 3

),

windowed as (

    select
        weekly.*,
        {% for measure in measures %}
        lag(weekly.{{ measure }}) over (
            partition by weekly.scope, weekly.channel order by weekly.week_start
        ) as {{ measure }}_prior_week,
        trailing_totals.{{ measure }}_trailing,
        {% endfor %}
        lag(weekly.median_response_business_minutes) over (
            partition by weekly.scope, weekly.channel order by weekly.week_start
        ) as median_response_business_minutes_prior_week,
        lag(weekly.p90_response_business_minutes) over (
            partition by weekly.scope, weekly.channel order by weekly.week_start
        ) as p90_response_business_minutes_prior_week
    from weekly
    left join trailing_totals
        on
            weekly.week_start = trailing_totals.week_start
            and weekly.scope = trailing_totals.scope
            and coalesce(weekly.channel, '') = coalesce(trailing_totals.channel, '')

),

final as (

    select
        windowed.week_start,
        cast(windowed.scope as {{ dbt.type_string() }}) as scope,
        cast(windowed.channel as {{ dbt.type_string() }}) as channel,
        as_of.as_of_date,
        {{ dbt.dateadd('day', 6, 'windowed.week_start') }} <= as_of.as_of_date as is_complete,
        cast(windowed.trailing_weeks as integer) as trailing_weeks,

        -- 1. marketing-sourced pipeline as a share of pipeline created
        cast(windowed.pipeline_created_amount as decimal(18, 2)) as pipeline_created_amount,
        cast(windowed.sourced_pipeline_amount as decimal(18, 2)) as sourced_pipeline_amount,
        cast(windowed.sourced_pipeline_amount as double)
        / nullif(windowed.pipeline_created_amount, 0) as sourced_pipeline_share,
        cast(windowed.sourced_pipeline_amount_prior_week as double)
        / nullif(windowed.pipeline_created_amount_prior_week, 0)
            as sourced_pipeline_share_prior_week,
        cast(windowed.sourced_pipeline_amount_trailing as double)
        / nullif(windowed.pipeline_created_amount_trailing, 0)
            as sourced_pipeline_share_trailing,

        -- 2. lead-to-opportunity conversion
        cast(windowed.lead_count as integer) as lead_count,
        cast(windowed.opportunity_count as integer) as opportunity_count,
        cast(windowed.opportunity_count as double)
        / nullif(windowed.lead_count, 0) as lead_to_opportunity_rate,
        cast(windowed.opportunity_count_prior_week as double)
        / nullif(windowed.lead_count_prior_week, 0) as lead_to_opportunity_rate_prior_week,
        cast(windowed.opportunity_count_trailing as double)
        / nullif(windowed.lead_count_trailing, 0) as lead_to_opportunity_rate_trailing,

        -- 3. sales response to MQLs
        cast(windowed.handoff_count as integer) as handoff_count,
        cast(windowed.response_sla_met_count as integer) as response_sla_met_count,
        cast(windowed.response_sla_met_count as double)
        / nullif(windowed.handoff_count, 0) as response_sla_met_rate,
        cast(windowed.response_sla_met_count_prior_week as double)
        / nullif(windowed.handoff_count_prior_week, 0) as response_sla_met_rate_prior_week,
        cast(windowed.response_sla_met_count_trailing as double)
        / nullif(windowed.handoff_count_trailing, 0) as response_sla_met_rate_trailing,
        cast(windowed.median_response_business_minutes as double)
            as median_response_business_minutes,
        cast(windowed.median_response_business_minutes_prior_week as double)
            as median_response_business_minutes_prior_week,
        cast(windowed.median_response_business_minutes_trailing as double)
            as median_response_business_minutes_trailing,
        cast(windowed.p90_response_business_minutes as double)
            as p90_response_business_minutes,
        cast(windowed.p90_response_business_minutes_prior_week as double)
            as p90_response_business_minutes_prior_week,
        cast(windowed.p90_response_business_minutes_trailing as double)
            as p90_response_business_minutes_trailing,

        -- 4. SLA compliance of each side
        cast(windowed.sales_compliant_count as integer) as sales_compliant_count,
        cast(windowed.sales_compliant_count as double)
        / nullif(windowed.handoff_count, 0) as sales_sla_compliance_rate,
        cast(windowed.sales_compliant_count_prior_week as double)
        / nullif(windowed.handoff_count_prior_week, 0) as sales_sla_compliance_rate_prior_week,
        cast(windowed.sales_compliant_count_trailing as double)
        / nullif(windowed.handoff_count_trailing, 0) as sales_sla_compliance_rate_trailing,
        cast(windowed.marketing_compliant_count as integer) as marketing_compliant_count,
        cast(windowed.marketing_compliant_count as double)
        / nullif(windowed.handoff_count, 0) as marketing_sla_compliance_rate,
        cast(windowed.marketing_compliant_count_prior_week as double)
        / nullif(windowed.handoff_count_prior_week, 0)
            as marketing_sla_compliance_rate_prior_week,
        cast(windowed.marketing_compliant_count_trailing as double)
        / nullif(windowed.handoff_count_trailing, 0)
            as marketing_sla_compliance_rate_trailing
    from windowed
    cross join as_of

)

select * from final
