-- The reason mix of rejected handoffs per week and month of disposition: one row per reason
-- code of the rejection_reasons seed (null = reason unknown) and its share of the group's
-- rejections, by source, channel, segment and rep.

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

rejection_reasons as (

    select * from {{ ref('rejection_reasons') }}

),

rejected_handoffs as (

    select
        fct_lead_handoffs.dispositioned_at,
        fct_lead_handoffs.source_system,
        dim_persons.lead_source,
        dim_persons.channel,
        dim_accounts.segment,
        fct_lead_handoffs.routed_owner_user_id as owner_user_id,
        rejection_reasons.reason_code,
        fct_lead_handoffs.as_of_date
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id
    left join rejection_reasons
        on fct_lead_handoffs.rejection_reason_code = rejection_reasons.reason_code
    where fct_lead_handoffs.is_rejected

),

periodised as (

    select
        'week' as period_type,
        cast({{ dbt.date_trunc('week', 'dispositioned_at') }} as date) as period_start,
        *
    from rejected_handoffs

    union all

    select
        'month' as period_type,
        cast({{ dbt.date_trunc('month', 'dispositioned_at') }} as date) as period_start,
        *
    from rejected_handoffs

),

reason_counts as (

    select
        period_type,
        period_start,
        source_system,
        lead_source,
        channel,
        segment,
        owner_user_id,
        reason_code,
        count(*) as rejected_count,
        max(as_of_date) as as_of_date
    from periodised
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

with_group_totals as (

    select
        *,
        sum(rejected_count) over (
            partition by
                period_type,
                period_start,
                source_system,
                lead_source,
                channel,
                segment,
                owner_user_id
        ) as group_rejected_count
    from reason_counts

),

final as (

    select
        cast(with_group_totals.period_type as {{ dbt.type_string() }}) as period_type,
        with_group_totals.period_start,
        cast(with_group_totals.source_system as {{ dbt.type_string() }}) as source_system,
        cast(with_group_totals.lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(with_group_totals.channel as {{ dbt.type_string() }}) as channel,
        cast(with_group_totals.segment as {{ dbt.type_string() }}) as segment,
        cast(with_group_totals.owner_user_id as {{ dbt.type_string() }}) as owner_user_id,
        cast(with_group_totals.reason_code as {{ dbt.type_string() }}) as reason_code,
        cast(rejection_reasons.reason_name as {{ dbt.type_string() }}) as reason_name,
        rejection_reasons.is_marketing_quality_breach,
        cast(rejection_reasons.disposition as {{ dbt.type_string() }}) as reason_disposition,
        cast(with_group_totals.rejected_count as integer) as rejected_count,
        cast(with_group_totals.group_rejected_count as integer) as group_rejected_count,
        cast(with_group_totals.rejected_count as double)
        / nullif(with_group_totals.group_rejected_count, 0) as reason_share,
        with_group_totals.as_of_date
    from with_group_totals
    left join rejection_reasons
        on with_group_totals.reason_code = rejection_reasons.reason_code

)

select * from final
