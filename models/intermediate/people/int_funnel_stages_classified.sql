-- The funnel_stages seed with each stage's role in the lead handoff, derived from the seeds
-- (never from stage-name literals): the lead funnel is the stage group of the first stage;
-- the handoff stage is the last lead-funnel stage owned by the team that owns the first
-- stage (marketing hands over at MQL); the acceptance stage is the next lead-funnel stage
-- (SAL); the qualification stage is the last lead-funnel stage (SQL); rejection stages are
-- the dispositions named in rejection_reasons (recycled, disqualified); the main path of
-- the funnel KPIs is the lead funnel plus the first terminal stage (lead -> ... -> won).

with

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

rejection_reasons as (

    select * from {{ ref('rejection_reasons') }}

),

ranked_stages as (

    select
        *,
        row_number() over (order by stage_order) as stage_rank
    from funnel_stages

),

first_stage as (

    select
        stage_group as lead_funnel_group,
        owner_team as handing_team
    from ranked_stages
    where stage_rank = 1

),

lead_funnel_stages as (

    select
        funnel_stages.stage_key,
        funnel_stages.stage_order,
        funnel_stages.owner_team,
        first_stage.handing_team
    from funnel_stages
    inner join first_stage
        on funnel_stages.stage_group = first_stage.lead_funnel_group

),

handoff_bounds as (

    select
        max(case when owner_team = handing_team then stage_order end) as handoff_order,
        max(stage_order) as qualification_order
    from lead_funnel_stages

),

acceptance_bounds as (

    select min(lead_funnel_stages.stage_order) as acceptance_order
    from lead_funnel_stages
    cross join handoff_bounds
    where lead_funnel_stages.stage_order > handoff_bounds.handoff_order

),

terminal_bounds as (

    -- the first terminal stage by order (closed won): where the main path ends
    select min(stage_order) as first_terminal_order
    from funnel_stages
    where is_terminal

),

rejection_stages as (

    select distinct disposition as stage_key
    from rejection_reasons

),

final as (

    select
        funnel_stages.stage_key,
        funnel_stages.stage_order,
        funnel_stages.stage_name,
        funnel_stages.stage_group,
        funnel_stages.owner_team,
        funnel_stages.is_terminal,
        funnel_stages.entry_criteria,
        funnel_stages.exit_criteria,
        first_stage.handing_team,
        funnel_stages.stage_group = first_stage.lead_funnel_group as is_lead_funnel_stage,
        funnel_stages.stage_group = first_stage.lead_funnel_group
        and funnel_stages.stage_order = handoff_bounds.handoff_order as is_handoff_stage,
        funnel_stages.stage_group = first_stage.lead_funnel_group
        and funnel_stages.stage_order = acceptance_bounds.acceptance_order
            as is_acceptance_stage,
        funnel_stages.stage_group = first_stage.lead_funnel_group
        and funnel_stages.stage_order = handoff_bounds.qualification_order
            as is_qualification_stage,
        rejection_stages.stage_key is not null as is_rejection_stage,
        funnel_stages.stage_group = first_stage.lead_funnel_group
        or funnel_stages.stage_order = terminal_bounds.first_terminal_order
            as is_main_path_stage
    from funnel_stages
    cross join first_stage
    cross join handoff_bounds
    cross join acceptance_bounds
    cross join terminal_bounds
    left join rejection_stages
        on funnel_stages.stage_key = rejection_stages.stage_key

)

select * from final
