-- Funnel conversion by period: stage entries counted on their own dates per week and month,
-- and the ratio of a main-path stage's first entries to those of the main-path stage before
-- it in the same period (not a cohort: the two counts are different people). Stage entries
-- are int_funnel_stage_entries', as kpi_funnel_conversion_cohorts counts them: the lead
-- lifecycle's, plus the close of each new-business opportunity a person originated.

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

    select
        stage_key,
        stage_order,
        row_number() over (order by stage_order) as path_position
    from dim_funnel_stages
    where is_main_path_stage

),

consecutive_stages as (

    select
        previous_stages.stage_key as previous_stage_key,
        next_stages.stage_key
    from main_path_stages as previous_stages
    inner join main_path_stages as next_stages
        on next_stages.path_position = previous_stages.path_position + 1

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

entries as (

    select
        stage_entries.stage_key,
        stage_entries.entered_at,
        stage_entries.is_first_entry,
        person_dimensions.source_system,
        person_dimensions.lead_source,
        person_dimensions.channel,
        person_dimensions.segment
    from stage_entries
    cross join as_of
    left join person_dimensions
        on stage_entries.person_id = person_dimensions.person_id
    where
        stage_entries.stage_key is not null
        and stage_entries.entered_at
        < {{ dbt.dateadd('day', 1, 'cast(as_of.as_of_date as ' ~ dbt.type_timestamp() ~ ')') }}

),

periodised as (

    select
        'week' as period_type,
        cast({{ dbt.date_trunc('week', 'entered_at') }} as date) as period_start,
        *
    from entries

    union all

    select
        'month' as period_type,
        cast({{ dbt.date_trunc('month', 'entered_at') }} as date) as period_start,
        *
    from entries

),

stage_counts as (

    select
        period_type,
        period_start,
        stage_key,
        source_system,
        lead_source,
        channel,
        segment,
        count(*) as entry_count,
        sum(case when is_first_entry then 1 else 0 end) as first_entry_count
    from periodised
    group by 1, 2, 3, 4, 5, 6, 7

),

stage_and_previous_counts as (

    -- union, then sum: the null dimension groups match (a join on them would drop them)
    select
        period_type,
        period_start,
        stage_key,
        source_system,
        lead_source,
        channel,
        segment,
        entry_count,
        first_entry_count,
        0 as previous_stage_first_entry_count
    from stage_counts

    union all

    select
        stage_counts.period_type,
        stage_counts.period_start,
        consecutive_stages.stage_key,
        stage_counts.source_system,
        stage_counts.lead_source,
        stage_counts.channel,
        stage_counts.segment,
        0 as entry_count,
        0 as first_entry_count,
        stage_counts.first_entry_count as previous_stage_first_entry_count
    from stage_counts
    inner join consecutive_stages
        on stage_counts.stage_key = consecutive_stages.previous_stage_key

),

summed as (

    select
        period_type,
        period_start,
        stage_key,
        source_system,
        lead_source,
        channel,
        segment,
        sum(entry_count) as entry_count,
        sum(first_entry_count) as first_entry_count,
        sum(previous_stage_first_entry_count) as previous_stage_first_entry_count
    from stage_and_previous_counts
    group by 1, 2, 3, 4, 5, 6, 7

),

final as (

    select
        cast(summed.period_type as {{ dbt.type_string() }}) as period_type,
        summed.period_start,
        cast(summed.stage_key as {{ dbt.type_string() }}) as stage_key,
        cast(dim_funnel_stages.stage_order as integer) as stage_order,
        main_path_stages.stage_key is not null as is_main_path_stage,
        cast(consecutive_stages.previous_stage_key as {{ dbt.type_string() }})
            as previous_stage_key,
        cast(summed.source_system as {{ dbt.type_string() }}) as source_system,
        cast(summed.lead_source as {{ dbt.type_string() }}) as lead_source,
        cast(summed.channel as {{ dbt.type_string() }}) as channel,
        cast(summed.segment as {{ dbt.type_string() }}) as segment,
        cast(summed.entry_count as integer) as entry_count,
        cast(summed.first_entry_count as integer) as first_entry_count,
        cast(summed.previous_stage_first_entry_count as integer)
            as previous_stage_first_entry_count,
        cast(summed.first_entry_count as double)
        / nullif(summed.previous_stage_first_entry_count, 0) as period_conversion_ratio,
        as_of.as_of_date
    from summed
    cross join as_of
    left join dim_funnel_stages
        on summed.stage_key = dim_funnel_stages.stage_key
    left join main_path_stages
        on summed.stage_key = main_path_stages.stage_key
    left join consecutive_stages
        on summed.stage_key = consecutive_stages.stage_key

)

select * from final
