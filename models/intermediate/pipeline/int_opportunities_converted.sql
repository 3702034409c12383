-- Accepted opportunities with their current stage (funnel stage, closed, won), the amount
-- they report and that amount in the corporate currency: every column of
-- int_opportunities_accepted and these. fct_opportunities publishes them; attribution
-- (int_attribution_credits) reads them here, as an intermediate model never reads a mart.
-- A lost opportunity carries its last open amount (the CRM often zeroes it on loss). The
-- amount converts at the dated rate in force on the close date for a closed opportunity and
-- on the as-of date for an open one (open pipeline is valued at the rate of the day it is
-- reported).

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_accepted') }}

),

opportunity_stages as (

    select * from {{ ref('int_opportunity_stages') }}

),

opportunity_versions as (

    select * from {{ ref('int_opportunity_versions') }}

),

conversion_rates as (

    select * from {{ ref('int_currency_conversion_rates') }}

),

last_open_versions as (

    select
        source_system,
        opportunity_id,
        amount as last_open_amount
    from (
        select
            source_system,
            opportunity_id,
            amount,
            row_number() over (
                partition by source_system, opportunity_id
                order by version_number desc
            ) as recency
        from opportunity_versions
        where is_open
    ) as open_versions
    where recency = 1

),

opportunities_staged as (

    select
        opportunities.*,
        opportunity_stages.stage_key,
        opportunity_stages.stage_order,
        coalesce(opportunity_stages.is_closed, false) as is_closed,
        coalesce(opportunity_stages.is_won, false) as is_won,
        cast(opportunities.created_at as date) as created_date,
        case
            when opportunity_stages.is_closed then opportunities.close_date
        end as closed_date,
        case
            when opportunity_stages.is_closed and not opportunity_stages.is_won
                then coalesce(last_open_versions.last_open_amount, opportunities.amount)
            else opportunities.amount
        end as reported_amount,
        case
            when opportunity_stages.is_closed then opportunities.close_date
            else as_of.as_of_date
        end as conversion_date
    from opportunities
    cross join as_of
    left join opportunity_stages
        on
            opportunities.source_system = opportunity_stages.source_system
            and opportunities.crm_stage_value = opportunity_stages.crm_stage_value
    left join last_open_versions
        on
            opportunities.source_system = last_open_versions.source_system
            and opportunities.opportunity_id = last_open_versions.opportunity_id

),

final as (

    select
        opportunities_staged.*,
        conversion_rates.conversion_rate,
        {{ to_money(
            divide('opportunities_staged.reported_amount', 'conversion_rates.conversion_rate')
        ) }} as amount_corporate
    from opportunities_staged
    left join conversion_rates
        on
            opportunities_staged.currency_code = conversion_rates.currency_code
            and opportunities_staged.conversion_date >= conversion_rates.valid_from
            and opportunities_staged.conversion_date < conversion_rates.valid_to

)

select * from final
