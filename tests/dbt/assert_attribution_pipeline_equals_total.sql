{{ config(store_failures=true, enabled=var('marketing_enabled', true)) }}

-- For every attribution model, attributed pipeline (credit x amount_corporate) equals total
-- pipeline (amount_corporate of fct_opportunities), per month the opportunities were
-- created in (and so overall): in fct_attribution_touches to a thousandth of a cent plus the
-- rounding of a sum of millions of doubles (1e-12 of the month's pipeline: at 10M leads a
-- month holds ~2 billion, and the sums of credit x amount differed from it by up to 7.2e-5),
-- and in kpi_attribution_monthly up to its rounding of each row to the cent. Returns each
-- failing model and month.

with

opportunities as (

    select * from {{ ref('fct_opportunities') }}

),

attribution_models as (

    select * from {{ ref('attribution_models') }}

),

attribution_touches as (

    select * from {{ ref('fct_attribution_touches') }}

),

kpi_attribution_monthly as (

    select * from {{ ref('kpi_attribution_monthly') }}

),

models as (

    select distinct attribution_model
    from attribution_models

),

total_pipeline as (

    select
        {{ dbt.date_trunc('month', 'created_date') }} as month_start,
        coalesce(sum(amount_corporate), 0) as pipeline_amount
    from opportunities
    group by 1

),

expected as (

    select
        total_pipeline.month_start,
        models.attribution_model,
        total_pipeline.pipeline_amount
    from total_pipeline
    cross join models

),

attributed as (

    select
        {{ dbt.date_trunc('month', 'opportunity_created_date') }} as month_start,
        attribution_model,
        sum(credit * amount_corporate) as attributed_amount
    from attribution_touches
    group by 1, 2

),

kpi as (

    select
        month_start,
        attribution_model,
        sum(pipeline_amount_corporate) as kpi_amount,
        count(*) as kpi_rows
    from kpi_attribution_monthly
    group by 1, 2

),

final as (

    select
        expected.month_start,
        expected.attribution_model,
        expected.pipeline_amount,
        attributed.attributed_amount,
        kpi.kpi_amount,
        {{ dbt.concat([
            "'attributed pipeline differs from total under '", "expected.attribution_model",
            "' in '", dbt.safe_cast("expected.month_start", dbt.type_string()),
        ]) }} as problem
    from expected
    left join attributed
        on
            expected.month_start = attributed.month_start
            and expected.attribution_model = attributed.attribution_model
    left join kpi
        on
            expected.month_start = kpi.month_start
            and expected.attribution_model = kpi.attribution_model
    where
        abs(coalesce(attributed.attributed_amount, 0) - expected.pipeline_amount)
        > 0.00001 + 0.000000000001 * abs(expected.pipeline_amount)
        or abs(coalesce(kpi.kpi_amount, 0) - expected.pipeline_amount)
        > 0.005 * coalesce(kpi.kpi_rows, 1)

)

select * from final
