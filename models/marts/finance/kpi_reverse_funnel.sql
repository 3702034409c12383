-- The reverse funnel: from each month's bookings target per segment back to the deals,
-- opportunities, SQLs and MQLs it takes at the trailing conversion rates and deal size, set
-- against marketing's MQL commitment.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

bookings_targets as (

    select * from {{ ref('bookings_targets') }}

),

marketing_commitments as (

    select * from {{ ref('marketing_commitments') }}

),

unit_economics_windows as (

    select * from {{ ref('unit_economics_windows') }}

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

targets as (

    -- the window is the months before the target month, or before the as-of month for a
    -- target month after it (nothing after the as-of date is read)
    select
        bookings_targets.month_start,
        bookings_targets.segment,
        bookings_targets.opportunity_type,
        bookings_targets.bookings_target,
        unit_economics_windows.reverse_funnel_window_months,
        as_of.as_of_date,
        case
            when
                {{ month_index('bookings_targets.month_start') }}
                < {{ month_index('as_of.as_of_date') }}
                then {{ month_index('bookings_targets.month_start') }}
            else {{ month_index('as_of.as_of_date') }}
        end as window_end_number
    from bookings_targets
    cross join as_of
    left join unit_economics_windows
        on
            bookings_targets.month_start >= unit_economics_windows.valid_from
            and bookings_targets.month_start < unit_economics_windows.valid_to

),

targets_windowed as (

    select
        *,
        window_end_number - reverse_funnel_window_months as window_start_number
    from targets

),

opportunities_numbered as (

    select
        opportunities.segment,
        opportunities.opportunity_type,
        opportunities.is_won,
        opportunities.is_closed,
        opportunities.amount_corporate,
        opportunities.originating_handoff_id is not null as is_from_handoff,
        {{ month_index('opportunities.created_date') }} as created_number,
        case
            when opportunities.is_closed
                then {{ month_index('opportunities.close_date') }}
        end as closed_number
    from opportunities
    cross join as_of
    where opportunities.created_date <= as_of.as_of_date

),

handoffs_numbered as (

    select
        accounts.segment,
        {{ month_index('lead_handoffs.handed_at') }} as handed_number,
        case
            when lead_handoffs.qualified_at is not null
                then {{ month_index('lead_handoffs.qualified_at') }}
        end as qualified_number
    from lead_handoffs
    left join persons
        on lead_handoffs.person_id = persons.person_id
    left join accounts
        on
            persons.account_source_system = accounts.source_system
            and persons.account_id = accounts.account_id

),

opportunity_rates as (

    select
        targets_windowed.month_start,
        targets_windowed.segment,
        targets_windowed.opportunity_type,
        sum(case
            when
                opportunities_numbered.is_won
                and opportunities_numbered.closed_number
                >= targets_windowed.window_start_number
                and opportunities_numbered.closed_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_won_count,
        sum(case
            when
                opportunities_numbered.is_won
                and opportunities_numbered.closed_number
                >= targets_windowed.window_start_number
                and opportunities_numbered.closed_number < targets_windowed.window_end_number
                then opportunities_numbered.amount_corporate
            else 0
        end) as trailing_won_amount,
        sum(case
            when
                opportunities_numbered.closed_number >= targets_windowed.window_start_number
                and opportunities_numbered.closed_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_closed_count,
        sum(case
            when
                opportunities_numbered.created_number >= targets_windowed.window_start_number
                and opportunities_numbered.created_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_opportunities_created,
        sum(case
            when
                opportunities_numbered.is_from_handoff
                and opportunities_numbered.created_number
                >= targets_windowed.window_start_number
                and opportunities_numbered.created_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_opportunities_from_sqls
    from targets_windowed
    left join opportunities_numbered
        on
            targets_windowed.segment = opportunities_numbered.segment
            and targets_windowed.opportunity_type = opportunities_numbered.opportunity_type
    group by 1, 2, 3

),

handoff_rates as (

    select
        targets_windowed.month_start,
        targets_windowed.segment,
        targets_windowed.opportunity_type,
        sum(case
            when
                handoffs_numbered.handed_number >= targets_windowed.window_start_number
                and handoffs_numbered.handed_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_mqls,
        sum(case
            when
                handoffs_numbered.qualified_number >= targets_windowed.window_start_number
                and handoffs_numbered.qualified_number < targets_windowed.window_end_number
                then 1
            else 0
        end) as trailing_sqls
    from targets_windowed
    left join handoffs_numbered
        on targets_windowed.segment = handoffs_numbered.segment
    group by 1, 2, 3

),

rates as (

    select
        targets_windowed.*,
        opportunity_rates.trailing_won_count,
        opportunity_rates.trailing_won_amount,
        opportunity_rates.trailing_closed_count,
        opportunity_rates.trailing_opportunities_created,
        opportunity_rates.trailing_opportunities_from_sqls,
        handoff_rates.trailing_mqls,
        handoff_rates.trailing_sqls,
        case
            when opportunity_rates.trailing_won_count > 0
                then {{ divide(
                    'opportunity_rates.trailing_won_amount', 'opportunity_rates.trailing_won_count'
                ) }}
        end as average_deal_size,
        case
            when opportunity_rates.trailing_closed_count > 0
                then
                    cast(opportunity_rates.trailing_won_count as double)
                    / opportunity_rates.trailing_closed_count
        end as win_rate,
        case
            when opportunity_rates.trailing_opportunities_created > 0
                then
                    cast(opportunity_rates.trailing_opportunities_from_sqls as double)
                    / opportunity_rates.trailing_opportunities_created
        end as share_of_opportunities_from_sqls,
        case
            when handoff_rates.trailing_sqls > 0
                then
                    cast(opportunity_rates.trailing_opportunities_from_sqls as double)
                    / handoff_rates.trailing_sqls
        end as sql_to_opportunity_rate,
        case
            when handoff_rates.trailing_mqls > 0
                then cast(handoff_rates.trailing_sqls as double) / handoff_rates.trailing_mqls
        end as mql_to_sql_rate
    from targets_windowed
    inner join opportunity_rates
        on
            targets_windowed.month_start = opportunity_rates.month_start
            and targets_windowed.segment = opportunity_rates.segment
            and targets_windowed.opportunity_type = opportunity_rates.opportunity_type
    inner join handoff_rates
        on
            targets_windowed.month_start = handoff_rates.month_start
            and targets_windowed.segment = handoff_rates.segment
            and targets_windowed.opportunity_type = handoff_rates.opportunity_type

),

needs as (

    select
        rates.*,
        case
            when rates.average_deal_size > 0
                then rates.bookings_target / rates.average_deal_size
        end as deals_needed
    from rates

),

needs_opportunities as (

    select
        needs.*,
        case when needs.win_rate > 0 then needs.deals_needed / needs.win_rate end
            as opportunities_needed
    from needs

),

needs_sqls as (

    select
        needs_opportunities.*,
        case
            when needs_opportunities.sql_to_opportunity_rate > 0
                then
                    needs_opportunities.opportunities_needed
                    * needs_opportunities.share_of_opportunities_from_sqls
                    / needs_opportunities.sql_to_opportunity_rate
        end as sqls_needed
    from needs_opportunities

),

needs_mqls as (

    select
        needs_sqls.*,
        case
            when needs_sqls.mql_to_sql_rate > 0
                then needs_sqls.sqls_needed / needs_sqls.mql_to_sql_rate
        end as mqls_needed
    from needs_sqls

),

final as (

    select
        needs_mqls.month_start,
        needs_mqls.segment,
        needs_mqls.opportunity_type,
        cast(needs_mqls.bookings_target as decimal(18, 2)) as bookings_target,
        cast(needs_mqls.reverse_funnel_window_months as integer)
            as reverse_funnel_window_months,
        cast(needs_mqls.trailing_won_count as bigint) as trailing_won_count,
        cast(needs_mqls.trailing_won_amount as decimal(18, 2)) as trailing_won_amount,
        cast(needs_mqls.trailing_closed_count as bigint) as trailing_closed_count,
        cast(needs_mqls.trailing_opportunities_created as bigint)
            as trailing_opportunities_created,
        cast(needs_mqls.trailing_opportunities_from_sqls as bigint)
            as trailing_opportunities_from_sqls,
        cast(needs_mqls.trailing_sqls as bigint) as trailing_sqls,
        cast(needs_mqls.trailing_mqls as bigint) as trailing_mqls,
        {{ to_money('needs_mqls.average_deal_size') }} as average_deal_size,
        cast(needs_mqls.win_rate as double) as win_rate,
        cast(needs_mqls.share_of_opportunities_from_sqls as double)
            as share_of_opportunities_from_sqls,
        cast(needs_mqls.sql_to_opportunity_rate as double) as sql_to_opportunity_rate,
        cast(needs_mqls.mql_to_sql_rate as double) as mql_to_sql_rate,
        cast(needs_mqls.deals_needed as double) as deals_needed,
        cast(needs_mqls.opportunities_needed as double) as opportunities_needed,
        cast(needs_mqls.sqls_needed as double) as sqls_needed,
        cast(needs_mqls.mqls_needed as double) as mqls_needed,
        cast(marketing_commitments.monthly_mql_commitment as integer)
            as monthly_mql_commitment,
        cast(
            needs_mqls.mqls_needed - marketing_commitments.monthly_mql_commitment as double
        ) as mql_gap,
        needs_mqls.month_start > needs_mqls.as_of_date as is_future_month,
        needs_mqls.as_of_date
    from needs_mqls
    left join marketing_commitments
        on
            needs_mqls.segment = marketing_commitments.segment
            and needs_mqls.month_start >= marketing_commitments.valid_from
            and needs_mqls.month_start < marketing_commitments.valid_to

)

select * from final
