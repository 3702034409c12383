{{ config(store_failures=true) }}

-- The alignment scorecard's company rows equal the KPI marts they summarise, week by week:
-- pipeline created and sourced (kpi_pipeline_created, weeks) and handoffs, SLA-met and
-- breach counts (kpi_sla_compliance_weekly). Returns each week where a number differs.

with

scorecard as (

    select * from {{ ref('kpi_alignment_scorecard_weekly') }}
    where scope = 'company'

),

pipeline_created as (

    select
        period_start as week_start,
        sum(created_amount) as created_amount,
        sum(sourced_amount) as sourced_amount
    from {{ ref('kpi_pipeline_created') }}
    where period_type = 'week'
    group by 1

),

sla_compliance as (

    select
        week_start,
        sum(handoff_count) as handoff_count,
        sum(response_sla_met_count) as response_sla_met_count,
        sum(handoff_count - sales_breached_count) as sales_compliant_count,
        sum(handoff_count - marketing_breached_count) as marketing_compliant_count
    from {{ ref('kpi_sla_compliance_weekly') }}
    group by 1

),

final as (

    select
        scorecard.week_start,
        scorecard.pipeline_created_amount,
        pipeline_created.created_amount,
        scorecard.handoff_count,
        sla_compliance.handoff_count as sla_handoff_count,
        {{ dbt.concat([
            "'scorecard week '",
            "cast(scorecard.week_start as " ~ dbt.type_string() ~ ")",
            "' differs from kpi_pipeline_created or kpi_sla_compliance_weekly'",
        ]) }} as problem
    from scorecard
    left join pipeline_created
        on scorecard.week_start = pipeline_created.week_start
    left join sla_compliance
        on scorecard.week_start = sla_compliance.week_start
    where
        scorecard.pipeline_created_amount != coalesce(pipeline_created.created_amount, 0)
        or scorecard.sourced_pipeline_amount != coalesce(pipeline_created.sourced_amount, 0)
        or scorecard.handoff_count != coalesce(sla_compliance.handoff_count, 0)
        or scorecard.response_sla_met_count != coalesce(sla_compliance.response_sla_met_count, 0)
        or scorecard.sales_compliant_count != coalesce(sla_compliance.sales_compliant_count, 0)
        or scorecard.marketing_compliant_count
        != coalesce(sla_compliance.marketing_compliant_count, 0)

)

select * from final
