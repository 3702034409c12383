-- The weekly revenue review, agenda in its fixed order, for every review week: on the Monday
-- of review week W the meeting reads the week before it (reviewed week W - 7 days).
-- 1. pipeline created in the reviewed week by channel and segment (kpi_pipeline_created);
-- 2. the rejection rate of the reviewed week and its top reasons (kpi_lead_rejections_weekly,
--    kpi_lead_rejection_reasons; how many: weekly_review_rules.top_reason_count);
-- 3. deals stuck past their stage median for two weeks or more at the reviewed week's end
--    (kpi_stage_aging.is_stuck);
-- 4. the latest campaign / messaging test started by the reviewed week's end, test against
--    control (kpi_campaign_experiments).
-- Long format (one row per review week, agenda item, line and metric): the report reads top
-- to bottom by agenda_order, line_number, metric_order.

with

kpi_pipeline_created as (

    select * from {{ ref('kpi_pipeline_created') }}

),

kpi_lead_rejections_weekly as (

    select * from {{ ref('kpi_lead_rejections_weekly') }}

),

kpi_lead_rejection_reasons as (

    select * from {{ ref('kpi_lead_rejection_reasons') }}

),

kpi_stage_aging as (

    select * from {{ ref('kpi_stage_aging') }}

),

kpi_campaign_experiments as (

    {% if var('salesforce_enabled', true) and var('marketing_enabled', true) %}
    select * from {{ ref('kpi_campaign_experiments') }}
    {% else %}
    -- campaign experiments need Salesforce campaigns and marketing touches: none here
    select
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        cast(null as date) as start_date,
        {% for metric in [
            'test_persons_touched', 'test_conversion_rate', 'control_persons_touched',
            'control_conversion_rate', 'conversion_rate_lift', 'z_score',
        ] %}
        cast(null as {{ dbt.type_float() }}) as {{ metric }}{{ "," if not loop.last }}
        {% endfor %}
    where 1 = 0
    {% endif %}

),

dim_dates as (

    select * from {{ ref('dim_dates') }}

),

weekly_review_rules as (

    select * from {{ ref('weekly_review_rules') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from kpi_stage_aging

),

first_week as (

    select min(period_start) as week_start
    from kpi_pipeline_created

),

review_weeks as (

    -- every week whose reviewed week (the week before) started by the as-of date
    select distinct
        {{ dbt.dateadd('day', 7, 'dim_dates.week_start_date') }} as review_week_start,
        dim_dates.week_start_date as reviewed_week_start,
        {{ dbt.dateadd('day', 6, 'dim_dates.week_start_date') }} as reviewed_week_end_date,
        weekly_review_rules.top_reason_count
    from dim_dates
    cross join as_of
    cross join first_week
    inner join weekly_review_rules
        on
            dim_dates.week_start_date >= weekly_review_rules.valid_from
            and dim_dates.week_start_date < weekly_review_rules.valid_to
    where
        dim_dates.date_day >= first_week.week_start
        and dim_dates.date_day <= as_of.as_of_date

),

pipeline_lines as (

    select
        review_weeks.review_week_start,
        kpi_pipeline_created.source_channel as channel,
        kpi_pipeline_created.segment,
        sum(kpi_pipeline_created.created_count) as created_count,
        sum(kpi_pipeline_created.created_amount) as created_amount,
        sum(kpi_pipeline_created.sourced_amount) as sourced_amount
    from review_weeks
    inner join kpi_pipeline_created
        on
            review_weeks.reviewed_week_start = kpi_pipeline_created.period_start
            and kpi_pipeline_created.period_type = 'week'
    group by 1, 2, 3

),

pipeline_rows as (

    select
        review_week_start,
        1 as agenda_order,
        'pipeline_created' as agenda_item,
        row_number() over (
            partition by review_week_start
            -- nulls placed explicitly: DuckDB sorts them last ascending, Spark first
            order by created_amount desc, channel asc nulls last, segment asc nulls last
        ) as line_number,
        channel,
        segment,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        cast(created_count as double) as created_count,
        cast(created_amount as double) as created_amount,
        cast(sourced_amount as double) as sourced_amount
    from pipeline_lines

),

rejection_totals as (

    select
        review_weeks.review_week_start,
        sum(kpi_lead_rejections_weekly.dispositioned_count) as dispositioned_count,
        sum(kpi_lead_rejections_weekly.rejected_count) as rejected_count
    from review_weeks
    inner join kpi_lead_rejections_weekly
        on review_weeks.reviewed_week_start = kpi_lead_rejections_weekly.week_start
    group by 1

),

reason_counts as (

    select
        review_weeks.review_week_start,
        review_weeks.top_reason_count,
        kpi_lead_rejection_reasons.reason_code,
        sum(kpi_lead_rejection_reasons.rejected_count) as rejected_count
    from review_weeks
    inner join kpi_lead_rejection_reasons
        on
            review_weeks.reviewed_week_start = kpi_lead_rejection_reasons.period_start
            and kpi_lead_rejection_reasons.period_type = 'week'
    where kpi_lead_rejection_reasons.reason_code is not null
    group by 1, 2, 3

),

top_reasons as (

    select * from (
        select
            *,
            row_number() over (
                partition by review_week_start order by rejected_count desc, reason_code asc
            ) as reason_rank
        from reason_counts
    ) as ranked
    where reason_rank <= top_reason_count

),

stuck_deals as (

    select
        review_weeks.review_week_start,
        kpi_stage_aging.opportunity_id,
        kpi_stage_aging.stage_key,
        kpi_stage_aging.segment,
        kpi_stage_aging.days_in_stage,
        kpi_stage_aging.days_past_median,
        kpi_stage_aging.amount_corporate
    from review_weeks
    inner join kpi_stage_aging
        on review_weeks.reviewed_week_start = kpi_stage_aging.week_start
    where kpi_stage_aging.is_stuck

),

latest_experiments as (

    select * from (
        select
            review_weeks.review_week_start,
            kpi_campaign_experiments.*,
            row_number() over (
                partition by review_weeks.review_week_start
                order by
                    kpi_campaign_experiments.start_date desc,
                    kpi_campaign_experiments.experiment_id desc
            ) as recency
        from review_weeks
        inner join kpi_campaign_experiments
            on review_weeks.reviewed_week_end_date >= kpi_campaign_experiments.start_date
    ) as ranked
    where recency = 1

),

agenda as (

    -- 1. pipeline created by channel and segment
    {% for metric in ['created_count', 'created_amount', 'sourced_amount'] %}
    select
        review_week_start,
        agenda_order,
        agenda_item,
        line_number,
        channel,
        segment,
        reason_code,
        opportunity_id,
        stage_key,
        experiment_id,
        {{ loop.index }} as metric_order,
        '{{ metric }}' as metric_name,
        {{ metric }} as metric_value
    from pipeline_rows
    union all
    {% endfor %}

    -- 2. rejection rate and top reasons
    {% for metric, expression in [
        ('dispositioned_count', 'dispositioned_count'),
        ('rejected_count', 'rejected_count'),
        ('rejection_rate', 'cast(rejected_count as double) / nullif(dispositioned_count, 0)'),
    ] %}
    select
        review_week_start,
        2 as agenda_order,
        'rejections' as agenda_item,
        0 as line_number,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        {{ loop.index }} as metric_order,
        '{{ metric }}' as metric_name,
        cast({{ expression }} as double) as metric_value
    from rejection_totals
    union all
    {% endfor %}

    select
        top_reasons.review_week_start,
        2 as agenda_order,
        'rejections' as agenda_item,
        top_reasons.reason_rank as line_number,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as segment,
        top_reasons.reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        1 as metric_order,
        'reason_rejected_count' as metric_name,
        cast(top_reasons.rejected_count as double) as metric_value
    from top_reasons
    union all

    -- 3. deals stuck past the stage median for two weeks
    {% for metric in ['days_in_stage', 'days_past_median', 'amount_corporate'] %}
    select
        review_week_start,
        3 as agenda_order,
        'stuck_deals' as agenda_item,
        row_number() over (
            partition by review_week_start order by days_past_median desc, opportunity_id asc
        ) as line_number,
        cast(null as {{ dbt.type_string() }}) as channel,
        segment,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        opportunity_id,
        stage_key,
        cast(null as {{ dbt.type_string() }}) as experiment_id,
        {{ loop.index }} as metric_order,
        '{{ metric }}' as metric_name,
        cast({{ metric }} as double) as metric_value
    from stuck_deals
    union all
    {% endfor %}

    -- 4. the latest campaign test against its control
    {% for metric in [
        'test_persons_touched', 'test_conversion_rate', 'control_persons_touched',
        'control_conversion_rate', 'conversion_rate_lift', 'z_score',
    ] %}
    select
        review_week_start,
        4 as agenda_order,
        'campaign_test' as agenda_item,
        1 as line_number,
        cast(null as {{ dbt.type_string() }}) as channel,
        cast(null as {{ dbt.type_string() }}) as segment,
        cast(null as {{ dbt.type_string() }}) as reason_code,
        cast(null as {{ dbt.type_string() }}) as opportunity_id,
        cast(null as {{ dbt.type_string() }}) as stage_key,
        experiment_id,
        {{ loop.index }} as metric_order,
        '{{ metric }}' as metric_name,
        cast({{ metric }} as double) as metric_value
    from latest_experiments
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

final as (

    select
        cast(agenda.review_week_start as date) as review_week_start,
        cast(review_weeks.reviewed_week_start as date) as reviewed_week_start,
        {{ dbt.dateadd('day', 6, 'review_weeks.reviewed_week_start') }} <= as_of.as_of_date
            as is_reviewed_week_complete,
        as_of.as_of_date,
        cast(agenda.agenda_order as integer) as agenda_order,
        cast(agenda.agenda_item as {{ dbt.type_string() }}) as agenda_item,
        cast(agenda.line_number as integer) as line_number,
        agenda.channel,
        agenda.segment,
        agenda.reason_code,
        agenda.opportunity_id,
        agenda.stage_key,
        agenda.experiment_id,
        cast(agenda.metric_order as integer) as metric_order,
        cast(agenda.metric_name as {{ dbt.type_string() }}) as metric_name,
        cast(agenda.metric_value as double) as metric_value
    from agenda
    inner join review_weeks
        on agenda.review_week_start = review_weeks.review_week_start
    cross join as_of

)

select * from final
