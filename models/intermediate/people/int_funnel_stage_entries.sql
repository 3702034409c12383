-- Every entry of a person into a funnel stage, as the funnel KPIs count them: the lead
-- lifecycle's entries (int_lead_stage_entries), plus the close of each new-business
-- opportunity the person originated (int_opportunity_persons), on its close date, since the
-- lifecycle records a close only where the CRM writes it on the person (HubSpot's customer
-- stage; Salesforce writes it on the opportunity alone). A close the lifecycle already holds
-- (the same person, stage and day) is not counted twice. Renewals and expansions are not
-- entries: the lead funnel ends at the first new-business deal. The one place both
-- kpi_funnel_conversion_cohorts and kpi_funnel_conversion_periods read their entries from.

with

lead_stage_entries as (

    select * from {{ ref('int_lead_stage_entries') }}

),

opportunities as (

    select * from {{ ref('int_opportunities_converted') }}

),

opportunity_persons as (

    select * from {{ ref('int_opportunity_persons') }}

),

lifecycle_entries as (

    select
        'lifecycle' as entry_source,
        source_system,
        lifecycle_stage_id as entry_record_id,
        person_id,
        stage_key,
        entered_at
    from lead_stage_entries

),

opportunity_closes as (

    select
        'opportunity_close' as entry_source,
        opportunities.source_system,
        opportunities.opportunity_id as entry_record_id,
        opportunity_persons.person_id,
        opportunities.stage_key,
        cast(opportunities.closed_date as {{ dbt.type_timestamp() }}) as entered_at
    from opportunities
    inner join opportunity_persons
        on
            opportunities.source_system = opportunity_persons.source_system
            and opportunities.opportunity_id = opportunity_persons.opportunity_id
    where
        opportunities.is_closed
        and opportunities.opportunity_type = 'new_business'
        and opportunity_persons.is_originating_person

),

closes_not_in_lifecycle as (

    select opportunity_closes.*
    from opportunity_closes
    left join lifecycle_entries
        on
            opportunity_closes.person_id = lifecycle_entries.person_id
            and opportunity_closes.stage_key = lifecycle_entries.stage_key
            and cast(opportunity_closes.entered_at as date)
            = cast(lifecycle_entries.entered_at as date)
    where lifecycle_entries.person_id is null

),

unioned as (

    select * from lifecycle_entries

    union all

    select * from closes_not_in_lifecycle

),

final as (

    select
        cast(entry_source as {{ dbt.type_string() }}) as entry_source,
        source_system,
        entry_record_id,
        person_id,
        stage_key,
        entered_at,
        row_number() over (
            partition by person_id, stage_key
            order by entered_at, entry_source, entry_record_id
        ) = 1 as is_first_entry
    from unioned

)

select * from final
