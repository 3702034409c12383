-- Targets against actuals per month and segment: bookings against the bookings target,
-- pipeline created against the pipeline the reverse funnel says the target needs, MQLs
-- against marketing's commitment and against the MQLs needed.

with

reverse_funnel as (

    select * from {{ ref('kpi_reverse_funnel') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

persons as (

    select * from {{ ref('dim_persons') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

plan_months as (

    select * from reverse_funnel
    where not is_future_month

),

bookings as (

    select
        {{ dbt.date_trunc('month', 'close_date') }} as month_start,
        segment,
        opportunity_type,
        sum(amount_corporate) as bookings_amount,
        count(*) as won_count
    from opportunities
    where is_won
    group by 1, 2, 3

),

pipeline_created as (

    select
        {{ dbt.date_trunc('month', 'created_date') }} as month_start,
        segment,
        opportunity_type,
        sum(amount_corporate) as pipeline_created_amount,
        count(*) as opportunities_created
    from opportunities
    group by 1, 2, 3

),

mqls as (

    select
        {{ dbt.date_trunc('month', 'lead_handoffs.handed_at') }} as month_start,
        accounts.segment,
        count(*) as mqls
    from lead_handoffs
    left join persons
        on lead_handoffs.person_id = persons.person_id
    left join accounts
        on
            persons.account_source_system = accounts.source_system
            and persons.account_id = accounts.account_id
    group by 1, 2

),

final as (

    select
        plan_months.month_start,
        plan_months.segment,
        plan_months.opportunity_type,
        plan_months.bookings_target,
        cast(coalesce(bookings.bookings_amount, 0) as decimal(18, 2)) as bookings_amount,
        cast(coalesce(bookings.won_count, 0) as bigint) as won_count,
        cast(case
            when plan_months.bookings_target > 0
                then {{ divide(
                    'coalesce(bookings.bookings_amount, 0)', 'plan_months.bookings_target'
                ) }}
        end as double) as bookings_attainment,
        cast(coalesce(pipeline_created.pipeline_created_amount, 0) as decimal(18, 2))
            as pipeline_created_amount,
        cast(coalesce(pipeline_created.opportunities_created, 0) as bigint)
            as opportunities_created,
        {{ to_money('plan_months.opportunities_needed * plan_months.average_deal_size') }}
            as pipeline_needed_amount,
        plan_months.opportunities_needed,
        cast(coalesce(mqls.mqls, 0) as bigint) as mqls,
        plan_months.monthly_mql_commitment,
        plan_months.mqls_needed,
        cast(case
            when plan_months.monthly_mql_commitment > 0
                then cast(coalesce(mqls.mqls, 0) as double) / plan_months.monthly_mql_commitment
        end as double) as mql_commitment_attainment,
        plan_months.as_of_date
    from plan_months
    left join bookings
        on
            plan_months.month_start = bookings.month_start
            and plan_months.segment = bookings.segment
            and plan_months.opportunity_type = bookings.opportunity_type
    left join pipeline_created
        on
            plan_months.month_start = pipeline_created.month_start
            and plan_months.segment = pipeline_created.segment
            and plan_months.opportunity_type = pipeline_created.opportunity_type
    left join mqls
        on
            plan_months.month_start = mqls.month_start
            and plan_months.segment = mqls.segment

)

select * from final
