{% macro lead_rejections_by_period(period) -%}
    {#- The body of kpi_lead_rejections_weekly and kpi_lead_rejections_monthly: one model per
        period grain (period = 'week' or 'month'), the same rejection-loop SQL for both. -#}
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

dim_funnel_stages as (

    select * from {{ ref('dim_funnel_stages') }}

),

rejection_reasons as (

    select * from {{ ref('rejection_reasons') }}

),

dispositioned_handoffs as (

    select
        cast({{ dbt.date_trunc(period, 'fct_lead_handoffs.dispositioned_at') }} as date)
            as {{ period }}_start,
        fct_lead_handoffs.source_system,
        dim_persons.lead_source,
        dim_persons.channel,
        dim_accounts.segment,
        fct_lead_handoffs.routed_owner_user_id as owner_user_id,
        fct_lead_handoffs.is_accepted,
        fct_lead_handoffs.is_rejected,
        fct_lead_handoffs.is_rejected
        and not coalesce(dim_funnel_stages.is_terminal, false) as is_recycled,
        fct_lead_handoffs.is_rejected
        and coalesce(dim_funnel_stages.is_terminal, false) as is_disqualified,
        fct_lead_handoffs.is_rejected
        and rejection_reasons.reason_code is null as is_reason_unknown,
        fct_lead_handoffs.is_marketing_quality_breach,
        fct_lead_handoffs.as_of_date
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id
    left join dim_funnel_stages
        on fct_lead_handoffs.disposition_stage_key = dim_funnel_stages.stage_key
    left join rejection_reasons
        on fct_lead_handoffs.rejection_reason_code = rejection_reasons.reason_code
    where fct_lead_handoffs.is_dispositioned

),

aggregated as (

    select
        {{ period }}_start,
        source_system,
        lead_source,
        channel,
        segment,
        owner_user_id,
        count(*) as dispositioned_count,
        sum(case when is_accepted then 1 else 0 end) as accepted_count,
        sum(case when is_rejected then 1 else 0 end) as rejected_count,
        sum(case when is_recycled then 1 else 0 end) as recycled_count,
        sum(case when is_disqualified then 1 else 0 end) as disqualified_count,
        sum(case when is_reason_unknown then 1 else 0 end) as reason_unknown_count,
        sum(case when is_marketing_quality_breach then 1 else 0 end)
            as marketing_quality_rejected_count,
        max(as_of_date) as as_of_date
    from dispositioned_handoffs
    group by 1, 2, 3, 4, 5, 6

),

final as (

    select
        {{ period }}_start,
        cast(source_system as {{ dbt.type_string() }}) as source_system,
        cast(lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(segment as {{ dbt.type_string() }}) as segment,
        cast(owner_user_id as {{ dbt.type_string() }}) as owner_user_id,
        cast(dispositioned_count as integer) as dispositioned_count,
        cast(accepted_count as integer) as accepted_count,
        cast(rejected_count as integer) as rejected_count,
        cast(recycled_count as integer) as recycled_count,
        cast(disqualified_count as integer) as disqualified_count,
        cast(reason_unknown_count as integer) as reason_unknown_count,
        cast(marketing_quality_rejected_count as integer) as marketing_quality_rejected_count,
        cast(rejected_count as double) / nullif(dispositioned_count, 0) as rejection_rate,
        cast(accepted_count as double) / nullif(dispositioned_count, 0) as acceptance_rate,
        cast(recycled_count as double) / nullif(dispositioned_count, 0) as recycle_rate,
        as_of_date
    from aggregated

)

select * from final
{%- endmacro %}
