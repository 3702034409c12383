{{ config(enabled=var('salesforce_enabled', true) and var('marketing_enabled', true)) }}

-- One row per campaign experiment, test and control side by side. A person is in an arm when
-- a touchpoint of theirs carries the arm's campaign; they convert when an MQL handoff of
-- theirs falls at or after their first touch of the arm and at most the seed's
-- conversion_window_days later (the campaign_experiment_rules row in force on the
-- experiment's start date). Touches of visitors never identified belong to nobody and are
-- left out.

with

dim_campaigns as (

    select * from {{ ref('dim_campaigns') }}

),

person_touchpoints as (

    select * from {{ ref('fct_marketing_touchpoints') }}
    where person_id is not null

),

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

campaign_experiment_rules as (

    select * from {{ ref('campaign_experiment_rules') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from fct_lead_handoffs

),

experiments as (

    select
        experiment_id,
        min(start_date) as start_date,
        max(end_date) as end_date
    from dim_campaigns
    where experiment_id is not null
    group by 1

),

experiments_with_rules as (

    select
        experiments.experiment_id,
        experiments.start_date,
        experiments.end_date,
        campaign_experiment_rules.campaign_experiment_rule_id,
        campaign_experiment_rules.conversion_window_days,
        campaign_experiment_rules.test_arm_value,
        campaign_experiment_rules.control_arm_value
    from experiments
    inner join campaign_experiment_rules
        on
            experiments.start_date >= campaign_experiment_rules.valid_from
            and experiments.start_date < campaign_experiment_rules.valid_to

),

experiment_arms as (

    select
        experiments_with_rules.experiment_id,
        dim_campaigns.campaign_id,
        case
            when dim_campaigns.experiment_arm = experiments_with_rules.test_arm_value
                then 'test'
            when dim_campaigns.experiment_arm = experiments_with_rules.control_arm_value
                then 'control'
        end as arm_side,
        experiments_with_rules.conversion_window_days
    from dim_campaigns
    inner join experiments_with_rules
        on dim_campaigns.experiment_id = experiments_with_rules.experiment_id

),

arm_first_touches as (

    select
        experiment_arms.experiment_id,
        experiment_arms.arm_side,
        experiment_arms.conversion_window_days,
        person_touchpoints.person_id,
        min(person_touchpoints.occurred_at) as first_touched_at
    from experiment_arms
    inner join person_touchpoints
        on experiment_arms.campaign_id = person_touchpoints.campaign_id
    group by 1, 2, 3, 4

),

arm_persons_converted as (

    select
        arm_first_touches.experiment_id,
        arm_first_touches.arm_side,
        arm_first_touches.person_id,
        max(
            case
                when
                    fct_lead_handoffs.handed_at >= arm_first_touches.first_touched_at
                    and {{ dbt.datediff(
                        'arm_first_touches.first_touched_at',
                        'fct_lead_handoffs.handed_at',
                        'second',
                    ) }} <= arm_first_touches.conversion_window_days * 86400
                    then 1
                else 0
            end
        ) as is_converted
    from arm_first_touches
    left join fct_lead_handoffs
        on arm_first_touches.person_id = fct_lead_handoffs.person_id
    group by 1, 2, 3

),

arm_totals as (

    select
        experiment_id,
        count(*) as persons_touched,
        sum(is_converted) as persons_converted,
        sum(case when arm_side = 'test' then 1 else 0 end) as test_persons_touched,
        sum(case when arm_side = 'test' then is_converted else 0 end)
            as test_persons_converted,
        sum(case when arm_side = 'control' then 1 else 0 end) as control_persons_touched,
        sum(case when arm_side = 'control' then is_converted else 0 end)
            as control_persons_converted
    from arm_persons_converted
    group by 1

),

arm_campaigns as (

    select
        experiment_id,
        max(case when arm_side = 'test' then campaign_id end) as test_campaign_id,
        max(case when arm_side = 'control' then campaign_id end) as control_campaign_id
    from experiment_arms
    group by 1

),

rates as (

    select
        experiments_with_rules.experiment_id,
        arm_campaigns.test_campaign_id,
        arm_campaigns.control_campaign_id,
        experiments_with_rules.start_date,
        experiments_with_rules.end_date,
        experiments_with_rules.campaign_experiment_rule_id,
        experiments_with_rules.conversion_window_days,
        as_of.as_of_date,
        coalesce(arm_totals.test_persons_touched, 0) as test_persons_touched,
        coalesce(arm_totals.test_persons_converted, 0) as test_persons_converted,
        coalesce(arm_totals.control_persons_touched, 0) as control_persons_touched,
        coalesce(arm_totals.control_persons_converted, 0) as control_persons_converted,
        case
            when arm_totals.test_persons_touched > 0
                then
                    cast(arm_totals.test_persons_converted as double)
                    / arm_totals.test_persons_touched
        end as test_conversion_rate,
        case
            when arm_totals.control_persons_touched > 0
                then
                    cast(arm_totals.control_persons_converted as double)
                    / arm_totals.control_persons_touched
        end as control_conversion_rate,
        case
            when arm_totals.persons_touched > 0
                then
                    cast(arm_totals.persons_converted as double)
                    / arm_totals.persons_touched
        end as pooled_conversion_rate
    from experiments_with_rules
    cross join as_of
    left join arm_totals
        on experiments_with_rules.experiment_id = arm_totals.experiment_id
    left join arm_campaigns
        on experiments_with_rules.experiment_id = arm_campaigns.experiment_id

),

final as (

    select
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(test_campaign_id as {{ dbt.type_string() }}) as test_campaign_id,
        cast(control_campaign_id as {{ dbt.type_string() }}) as control_campaign_id,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(campaign_experiment_rule_id as {{ dbt.type_string() }})
            as campaign_experiment_rule_id,
        cast(conversion_window_days as integer) as conversion_window_days,
        cast(as_of_date as date) as as_of_date,
        coalesce(
            {{ dbt.dateadd('day', 'conversion_window_days', 'end_date') }} <= as_of_date,
            false
        ) as is_window_complete,
        cast(test_persons_touched as bigint) as test_persons_touched,
        cast(test_persons_converted as bigint) as test_persons_converted,
        cast(test_conversion_rate as double) as test_conversion_rate,
        cast(control_persons_touched as bigint) as control_persons_touched,
        cast(control_persons_converted as bigint) as control_persons_converted,
        cast(control_conversion_rate as double) as control_conversion_rate,
        cast(
            case
                when control_conversion_rate > 0
                    then test_conversion_rate / control_conversion_rate - 1
            end as double
        ) as conversion_rate_lift,
        cast(
            case
                when
                    pooled_conversion_rate > 0
                    and pooled_conversion_rate < 1
                    and test_persons_touched > 0
                    and control_persons_touched > 0
                    then
                        (test_conversion_rate - control_conversion_rate)
                        / sqrt(
                            pooled_conversion_rate
                            * (1 - pooled_conversion_rate)
                            * (
                                1.0 / test_persons_touched
                                + 1.0 / control_persons_touched
                            )
                        )
            end as double
        ) as z_score
    from rates

)

select * from final
