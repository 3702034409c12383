-- Marketing's side of the lead contract per month and segment: MQLs handed over in the month
-- against the monthly commitment of the marketing_commitments row in force on the first of
-- the month, and the acceptance rate of those MQLs against the minimum.

with

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

dim_persons as (

    select * from {{ ref('dim_persons') }}

),

dim_accounts as (

    select * from {{ ref('dim_accounts') }}

),

marketing_commitments as (

    select * from {{ ref('marketing_commitments') }}

),

as_of as (

    select max(as_of_date) as as_of_date
    from fct_lead_handoffs

),

months as (

    -- every month with a lifecycle entry (leads arrive every month), up to the as-of date
    select distinct
        cast({{ dbt.date_trunc('month', 'fct_lead_lifecycle.entered_at') }} as date)
            as month_start
    from fct_lead_lifecycle
    cross join as_of
    where
        fct_lead_lifecycle.entered_at
        < {{ dbt.dateadd('day', 1, 'cast(as_of.as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}

),

handoff_months as (

    select
        cast({{ dbt.date_trunc('month', 'fct_lead_handoffs.handed_at') }} as date)
            as month_start,
        dim_accounts.segment,
        count(*) as mql_count,
        sum(case when fct_lead_handoffs.is_dispositioned then 1 else 0 end)
            as dispositioned_count,
        sum(case when fct_lead_handoffs.is_accepted then 1 else 0 end) as accepted_count
    from fct_lead_handoffs
    left join dim_persons
        on fct_lead_handoffs.person_id = dim_persons.person_id
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id
    group by 1, 2

),

committed_months as (

    -- a committed segment gets a row every month, with or without MQLs
    select
        months.month_start,
        marketing_commitments.segment,
        0 as mql_count,
        0 as dispositioned_count,
        0 as accepted_count
    from months
    inner join marketing_commitments
        on
            months.month_start >= marketing_commitments.valid_from
            and months.month_start < marketing_commitments.valid_to

),

committed_and_handed_over as (

    -- union, then sum: a segment without a commitment (or null) keeps its own row
    select * from committed_months

    union all

    select * from handoff_months

),

month_segments as (

    select
        month_start,
        segment,
        sum(mql_count) as mql_count,
        sum(dispositioned_count) as dispositioned_count,
        sum(accepted_count) as accepted_count
    from committed_and_handed_over
    group by 1, 2

),

joined as (

    select
        month_segments.*,
        marketing_commitments.monthly_mql_commitment,
        marketing_commitments.min_acceptance_rate,
        cast(month_segments.accepted_count as double)
        / nullif(month_segments.dispositioned_count, 0) as acceptance_rate,
        {{ dbt.dateadd('month', 1, 'month_segments.month_start') }}
        <= {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }} as is_complete_month,
        as_of.as_of_date
    from month_segments
    cross join as_of
    left join marketing_commitments
        on
            month_segments.segment = marketing_commitments.segment
            and month_segments.month_start >= marketing_commitments.valid_from
            and month_segments.month_start < marketing_commitments.valid_to

),

final as (

    select
        month_start,
        cast(segment as {{ dbt.type_string() }}) as segment,
        is_complete_month,
        cast(mql_count as integer) as mql_count,
        cast(monthly_mql_commitment as integer) as monthly_mql_commitment,
        cast(mql_count as double) / nullif(monthly_mql_commitment, 0)
            as mql_commitment_attainment,
        case
            when is_complete_month then mql_count >= monthly_mql_commitment
        end as is_volume_commitment_met,
        cast(dispositioned_count as integer) as dispositioned_count,
        cast(accepted_count as integer) as accepted_count,
        cast(acceptance_rate as double) as acceptance_rate,
        cast(min_acceptance_rate as double) as min_acceptance_rate,
        acceptance_rate >= min_acceptance_rate as is_acceptance_commitment_met,
        as_of_date
    from joined

)

select * from final
