-- Funnel conversion by cohort: the people who first entered a stage in a week or month, how
-- many reached each later stage of the main path (lead -> won), how fast, and how many are
-- still open. Reaching a later stage counts as reaching every stage skipped on the way.
-- Stage entries are int_funnel_stage_entries': the lead lifecycle's, plus the close of each
-- new-business opportunity a person originated, since the lifecycle records won only where
-- the CRM writes it on the person (HubSpot's customer stage).

with

stage_entries as (

    select * from {{ ref('int_funnel_stage_entries') }}

),

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

as_of as (

    select max(as_of_date) as as_of_date
    from fct_lead_handoffs

),

main_path_stages as (

    -- dim_funnel_stages.is_main_path_stage: the lead-funnel stages (lead, MQL, SAL, SQL) and
    -- the first terminal stage (won), the stages a person's entries record on the way to
    -- won. The opportunity stages between SQL and won are not person entries
    -- (fct_opportunity_stage_history holds them); side exits (recycled, disqualified) and
    -- closed lost are never targets.
    select
        stage_key,
        stage_order,
        is_handoff_stage,
        is_acceptance_stage,
        is_qualification_stage
    from dim_funnel_stages
    where is_main_path_stage

),

stage_pairs as (

    select
        from_stages.stage_key as from_stage_key,
        from_stages.stage_order as from_stage_order,
        to_stages.stage_key as to_stage_key,
        to_stages.stage_order as to_stage_order,
        case
            when from_stages.is_handoff_stage and to_stages.is_acceptance_stage
                then 'sales_accepted_lead_rate'
            when from_stages.is_handoff_stage and to_stages.is_qualification_stage
                then 'mql_to_sql_rate'
        end as named_kpi
    from main_path_stages as from_stages
    inner join main_path_stages as to_stages
        on from_stages.stage_order < to_stages.stage_order

),

entries as (

    select
        stage_entries.person_id,
        stage_entries.stage_key,
        stage_entries.entered_at,
        stage_entries.is_first_entry,
        main_path_stages.stage_order as main_path_stage_order,
        coalesce(dim_funnel_stages.is_terminal, false) as is_terminal,
        coalesce(
            dim_funnel_stages.is_rejection_stage and not dim_funnel_stages.is_terminal, false
        ) as is_recycle
    from stage_entries
    cross join as_of
    left join dim_funnel_stages
        on stage_entries.stage_key = dim_funnel_stages.stage_key
    left join main_path_stages
        on stage_entries.stage_key = main_path_stages.stage_key
    where
        stage_entries.entered_at
        < {{ dbt.dateadd('day', 1, 'cast(as_of.as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}

),

cohort_members as (

    -- first entries only: a re-entry never starts a second cohort membership
    select
        entries.person_id,
        entries.entered_at,
        stage_pairs.from_stage_key,
        stage_pairs.to_stage_key,
        stage_pairs.to_stage_order,
        stage_pairs.named_kpi
    from entries
    inner join stage_pairs
        on entries.stage_key = stage_pairs.from_stage_key
    where entries.is_first_entry

),

member_outcomes as (

    select
        cohort_members.person_id,
        cohort_members.entered_at,
        cohort_members.from_stage_key,
        cohort_members.to_stage_key,
        cohort_members.named_kpi,
        min(
            case
                when later_entries.main_path_stage_order >= cohort_members.to_stage_order
                    then later_entries.entered_at
            end
        ) as reached_at,
        max(case when later_entries.is_terminal then 1 else 0 end) as has_terminal_entry,
        max(case when later_entries.is_recycle then 1 else 0 end) as has_recycle_entry
    from cohort_members
    left join entries as later_entries
        on
            cohort_members.person_id = later_entries.person_id
            and cohort_members.entered_at <= later_entries.entered_at
    group by 1, 2, 3, 4, 5

),

classified as (

    select
        member_outcomes.*,
        member_outcomes.reached_at is not null as is_reached,
        member_outcomes.reached_at is null
        and member_outcomes.has_terminal_entry = 1 as is_ended,
        member_outcomes.reached_at is null
        and member_outcomes.has_terminal_entry = 0 as is_open,
        member_outcomes.reached_at is null
        and member_outcomes.has_terminal_entry = 0
        and member_outcomes.has_recycle_entry = 1 as is_open_recycled,
        {{ divide(
            dbt.datediff('member_outcomes.entered_at', 'member_outcomes.reached_at', 'second'),
            '86400',
        ) }} as days_to_reach
    from member_outcomes

),

person_dimensions as (

    select
        dim_persons.person_id,
        dim_persons.source_system,
        dim_persons.lead_source,
        dim_persons.channel,
        dim_accounts.segment
    from dim_persons
    left join dim_accounts
        on
            dim_persons.account_source_system = dim_accounts.source_system
            and dim_persons.account_id = dim_accounts.account_id

),

dimensioned as (

    select
        classified.*,
        person_dimensions.source_system,
        person_dimensions.lead_source,
        person_dimensions.channel,
        person_dimensions.segment
    from classified
    left join person_dimensions
        on classified.person_id = person_dimensions.person_id

),

periodised as (

    select
        'week' as period_type,
        cast({{ dbt.date_trunc('week', 'entered_at') }} as date) as period_start,
        *
    from dimensioned

    union all

    select
        'month' as period_type,
        cast({{ dbt.date_trunc('month', 'entered_at') }} as date) as period_start,
        *
    from dimensioned

),

aggregated as (

    select
        period_type,
        period_start,
        from_stage_key,
        to_stage_key,
        named_kpi,
        source_system,
        lead_source,
        channel,
        segment,
        count(*) as cohort_size,
        sum(case when is_reached then 1 else 0 end) as reached_count,
        sum(case when is_ended then 1 else 0 end) as ended_count,
        sum(case when is_open then 1 else 0 end) as open_count,
        sum(case when is_open_recycled then 1 else 0 end) as open_recycled_count,
        {{ percentile_cont('days_to_reach', 0.5) }} as median_days_to_reach
    from periodised
    group by 1, 2, 3, 4, 5, 6, 7, 8, 9

),

final as (

    select
        cast(aggregated.period_type as {{ dbt.type_string() }}) as period_type,
        aggregated.period_start,
        cast(aggregated.from_stage_key as {{ dbt.type_string() }}) as from_stage_key,
        cast(aggregated.to_stage_key as {{ dbt.type_string() }}) as to_stage_key,
        cast(aggregated.named_kpi as {{ dbt.type_string() }}) as named_kpi,
        cast(aggregated.source_system as {{ dbt.type_string() }}) as source_system,
        cast(aggregated.lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(aggregated.channel as {{ dbt.type_string() }}) as channel,
        cast(aggregated.segment as {{ dbt.type_string() }}) as segment,
        cast(aggregated.cohort_size as integer) as cohort_size,
        cast(aggregated.reached_count as integer) as reached_count,
        cast(aggregated.ended_count as integer) as ended_count,
        cast(aggregated.open_count as integer) as open_count,
        cast(aggregated.open_recycled_count as integer) as open_recycled_count,
        cast(aggregated.reached_count as double)
        / nullif(aggregated.cohort_size, 0) as conversion_rate,
        cast(aggregated.median_days_to_reach as double) as median_days_to_reach,
        as_of.as_of_date
    from aggregated
    cross join as_of

)

select * from final
