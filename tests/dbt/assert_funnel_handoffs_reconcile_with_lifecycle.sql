{{ config(store_failures=true) }}

-- Every person who reached the handoff stage (MQL) in fct_lead_lifecycle has a first
-- handoff in fct_lead_handoffs at that moment, and every handoff is an MQL entry of the
-- lifecycle: the two marts count the same MQLs. Returns one row per disagreement.

with

fct_lead_lifecycle as (

    select * from {{ ref('fct_lead_lifecycle') }}

),

fct_lead_handoffs as (

    select * from {{ ref('fct_lead_handoffs') }}

),

dim_funnel_stages as (

    select * from {{ ref('dim_funnel_stages') }}

),

first_mql_entries as (

    select
        fct_lead_lifecycle.person_id,
        fct_lead_lifecycle.entered_at,
        fct_lead_lifecycle.status_change_id
    from fct_lead_lifecycle
    inner join dim_funnel_stages
        on fct_lead_lifecycle.stage_key = dim_funnel_stages.stage_key
    where
        dim_funnel_stages.is_handoff_stage
        and fct_lead_lifecycle.is_first_entry

),

mql_without_handoff as (

    select
        first_mql_entries.person_id,
        first_mql_entries.status_change_id,
        'first MQL entry without a first handoff' as problem
    from first_mql_entries
    left join fct_lead_handoffs
        on
            first_mql_entries.person_id = fct_lead_handoffs.person_id
            and fct_lead_handoffs.handoff_number = 1
            and first_mql_entries.entered_at = fct_lead_handoffs.handed_at
    where fct_lead_handoffs.handoff_id is null

),

handoff_without_mql as (

    select
        fct_lead_handoffs.person_id,
        fct_lead_handoffs.handoff_status_change_id as status_change_id,
        'handoff that is not an MQL entry of the lifecycle' as problem
    from fct_lead_handoffs
    left join fct_lead_lifecycle
        on fct_lead_handoffs.handoff_status_change_id = fct_lead_lifecycle.status_change_id
    left join dim_funnel_stages
        on fct_lead_lifecycle.stage_key = dim_funnel_stages.stage_key
    where not coalesce(dim_funnel_stages.is_handoff_stage, false)

),

final as (

    select * from mql_without_handoff
    union all
    select * from handoff_without_mql

)

select * from final
