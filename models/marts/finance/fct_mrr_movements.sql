-- One row per billed account and month with its MRR bridge in the corporate currency, the
-- account's segment and region (dim_accounts) and its acquisition channel: the sourced
-- channel of its first won opportunity (fct_opportunities, earliest close date).

with

mrr_movements as (

    select * from {{ ref('int_mrr_movements_monthly') }}

),

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

accounts as (

    select * from {{ ref('dim_accounts') }}

),

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

first_won_opportunities as (

    select
        source_system,
        account_id,
        opportunity_id,
        source_channel,
        source_team
    from (
        select
            source_system,
            account_id,
            opportunity_id,
            source_channel,
            source_team,
            row_number() over (
                partition by source_system, account_id
                order by close_date asc, opportunity_id asc
            ) as won_order
        from opportunities
        where is_won
    ) as won
    where won_order = 1

),

cohorts as (

    select
        source_system,
        account_id,
        min(case when is_new_customer then month_start end) as cohort_month
    from mrr_movements
    group by 1, 2

),

final as (

    select
        mrr_movements.source_system,
        mrr_movements.account_id,
        mrr_movements.month_start,
        accounts.segment,
        accounts.region,
        first_won_opportunities.opportunity_id as acquisition_opportunity_id,
        first_won_opportunities.source_channel as acquisition_channel,
        first_won_opportunities.source_team as acquisition_channel_team,
        cohorts.cohort_month,
        mrr_movements.mrr_movement,
        mrr_movements.billing_movement,
        mrr_movements.plan_name,
        mrr_movements.currency_code,
        mrr_movements.mrr_amount,
        mrr_movements.conversion_rate,
        mrr_movements.starting_mrr_corporate,
        mrr_movements.fx_adjustment_mrr_corporate,
        mrr_movements.new_mrr_corporate,
        mrr_movements.reactivation_mrr_corporate,
        mrr_movements.expansion_mrr_corporate,
        mrr_movements.contraction_mrr_corporate,
        mrr_movements.churned_mrr_corporate,
        mrr_movements.ending_mrr_corporate,
        mrr_movements.is_new_customer,
        mrr_movements.is_churned_customer,
        mrr_movements.is_active_customer,
        mrr_movements.was_active_customer,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        as_of.as_of_date
    from mrr_movements
    cross join as_of
    left join accounts
        on
            mrr_movements.source_system = accounts.source_system
            and mrr_movements.account_id = accounts.account_id
    left join first_won_opportunities
        on
            mrr_movements.source_system = first_won_opportunities.source_system
            and mrr_movements.account_id = first_won_opportunities.account_id
    left join cohorts
        on
            mrr_movements.source_system = cohorts.source_system
            and mrr_movements.account_id = cohorts.account_id

)

select * from final
