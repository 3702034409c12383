-- SLA compliance of both sides per ISO week of handoff: the sales side (first touch within
-- target, business minutes to first touch, disposition within the window, untouched past
-- the window, reassigned) and the breaches attributed to each side, by segment, region and
-- team. Marketing's monthly volume and acceptance commitments: kpi_marketing_commitments_monthly.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

dim_accounts as (

    select * from {{ ref('dim_accounts') }}

),

handoffs as (

    select
        cast({{ dbt.date_trunc('week', 'fct_lead_handoffs.handed_at') }} as date)
            as week_start,
        dim_accounts.segment,
        dim_accounts.region,
        fct_lead_handoffs.routed_owner_team as team,
        fct_lead_handoffs.is_sales_response_breach
        or fct_lead_handoffs.is_sales_disposition_breach as is_sales_breach,
        fct_lead_handoffs.*
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id

),

aggregated as (

    select
        week_start,
        segment,
        region,
        team,
        count(*) as handoff_count,
        sum(case when is_touched then 1 else 0 end) as touched_count,
        sum(case when is_response_sla_met then 1 else 0 end) as response_sla_met_count,
        {{ percentile_cont('business_minutes_to_first_touch', 0.5) }}
            as median_business_minutes_to_first_touch,
        {{ percentile_cont('business_minutes_to_first_touch', 0.9) }}
            as p90_business_minutes_to_first_touch,
        sum(case when is_disposition_window_closed then 1 else 0 end)
            as disposition_window_closed_count,
        sum(
            case
                when is_disposition_window_closed and is_dispositioned_within_window then 1
                else 0
            end
        ) as dispositioned_within_window_count,
        sum(case when is_untouched_past_window then 1 else 0 end)
            as untouched_past_window_count,
        sum(case when is_reassigned then 1 else 0 end) as reassigned_count,
        sum(case when is_accepted then 1 else 0 end) as accepted_count,
        sum(case when is_dispositioned then 1 else 0 end) as dispositioned_count,
        sum(case when is_sales_response_breach then 1 else 0 end)
            as sales_response_breach_count,
        sum(case when is_sales_disposition_breach then 1 else 0 end)
            as sales_disposition_breach_count,
        sum(case when is_sales_breach then 1 else 0 end) as sales_breached_count,
        sum(case when is_marketing_quality_breach then 1 else 0 end)
            as marketing_breached_count,
        sum(case when is_sales_breach and is_marketing_quality_breach then 1 else 0 end)
            as both_breached_count,
        max(as_of_date) as as_of_date
    from handoffs
    group by 1, 2, 3, 4

),

final as (

    select
        week_start,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(region as {{ dbt.type_string() }}) as region,
        cast(team as {{ dbt.type_string() }}) as team,
        cast(handoff_count as integer) as handoff_count,
        cast(touched_count as integer) as touched_count,
        cast(response_sla_met_count as integer) as response_sla_met_count,
        cast(response_sla_met_count as double) / nullif(handoff_count, 0)
            as response_sla_met_rate,
        cast(median_business_minutes_to_first_touch as double)
            as median_business_minutes_to_first_touch,
        cast(p90_business_minutes_to_first_touch as double)
            as p90_business_minutes_to_first_touch,
        cast(disposition_window_closed_count as integer) as disposition_window_closed_count,
        cast(dispositioned_within_window_count as integer)
            as dispositioned_within_window_count,
        cast(dispositioned_within_window_count as double)
        / nullif(disposition_window_closed_count, 0) as disposition_within_window_rate,
        cast(untouched_past_window_count as integer) as untouched_past_window_count,
        cast(untouched_past_window_count as double) / nullif(handoff_count, 0)
            as untouched_past_window_rate,
        cast(reassigned_count as integer) as reassigned_count,
        cast(dispositioned_count as integer) as dispositioned_count,
        cast(accepted_count as integer) as accepted_count,
        cast(sales_response_breach_count as integer) as sales_response_breach_count,
        cast(sales_disposition_breach_count as integer) as sales_disposition_breach_count,
        cast(sales_breached_count as integer) as sales_breached_count,
        cast(marketing_breached_count as integer) as marketing_breached_count,
        cast(both_breached_count as integer) as both_breached_count,
        as_of_date
    from aggregated

)

select * from final
