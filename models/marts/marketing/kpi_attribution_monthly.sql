{{ config(enabled=var('marketing_enabled', true)) }}

-- Attributed pipeline, bookings and ad spend per month, attribution model, channel and
-- campaign. Pipeline counts in the month the opportunity was created, bookings in the month
-- a won opportunity closed. Spend is joined once per month, channel and campaign (not per
-- touch) and repeated for every model, so it is never summed across models. A union of the
-- three measures grouped by the keys is the full outer join: spend with no attributed
-- pipeline still appears, and null keys (unattributed rows) group together.

with

attribution_touches as (

    select * from {{ ref('fct_attribution_touches') }}

),

attribution_models as (

    select * from {{ ref('attribution_models') }}

),

{% if var('ads_enabled', true) %}
ad_spend_monthly as (

    select * from {{ ref('fct_ad_spend_monthly') }}

),
{% endif %}

models as (

    select distinct attribution_model
    from attribution_models

),

as_of as (

    select max(as_of_date) as as_of_date
    from attribution_touches

),

pipeline_created as (

    select
        {{ dbt.date_trunc('month', 'opportunity_created_date') }} as month_start,
        attribution_model,
        is_unattributed,
        channel,
        channel_team,
        campaign_id,
        sum({{ exact_credit('credit') }} * amount_corporate) as pipeline_amount_corporate,
        sum({{ exact_credit('credit') }}) as opportunity_credits,
        0 as bookings_amount_corporate,
        0 as won_opportunity_credits,
        0 as spend_amount_corporate
    from attribution_touches
    group by 1, 2, 3, 4, 5, 6

),

bookings as (

    select
        {{ dbt.date_trunc('month', 'opportunity_closed_date') }} as month_start,
        attribution_model,
        is_unattributed,
        channel,
        channel_team,
        campaign_id,
        0 as pipeline_amount_corporate,
        0 as opportunity_credits,
        sum({{ exact_credit('credit') }} * amount_corporate) as bookings_amount_corporate,
        sum({{ exact_credit('credit') }}) as won_opportunity_credits,
        0 as spend_amount_corporate
    from attribution_touches
    where is_won
    group by 1, 2, 3, 4, 5, 6

),

{% if var('ads_enabled', true) %}
spend as (

    -- one row per month, channel and campaign, then once per model
    select
        spend_monthly.month_start,
        models.attribution_model,
        false as is_unattributed,
        spend_monthly.channel,
        spend_monthly.channel_team,
        spend_monthly.campaign_id,
        0 as pipeline_amount_corporate,
        0 as opportunity_credits,
        0 as bookings_amount_corporate,
        0 as won_opportunity_credits,
        spend_monthly.spend_amount_corporate
    from (
        select
            month_start,
            channel,
            channel_team,
            campaign_id,
            sum(spend_amount_corporate) as spend_amount_corporate
        from ad_spend_monthly
        group by 1, 2, 3, 4
    ) as spend_monthly
    cross join models

),
{% endif %}

measures as (

    select * from pipeline_created
    union all
    select * from bookings
    {% if var('ads_enabled', true) -%}
    union all
    select * from spend
    {%- endif %}

),

monthly as (

    select
        month_start,
        attribution_model,
        is_unattributed,
        channel,
        channel_team,
        campaign_id,
        sum(pipeline_amount_corporate) as pipeline_amount_corporate,
        sum(opportunity_credits) as opportunity_credits,
        sum(bookings_amount_corporate) as bookings_amount_corporate,
        sum(won_opportunity_credits) as won_opportunity_credits,
        sum(spend_amount_corporate) as spend_amount_corporate
    from measures
    group by 1, 2, 3, 4, 5, 6

),

final as (

    select
        cast(monthly.month_start as date) as month_start,
        monthly.attribution_model,
        monthly.is_unattributed,
        monthly.channel,
        monthly.channel_team,
        monthly.campaign_id,
        cast(monthly.pipeline_amount_corporate as decimal(18, 2)) as pipeline_amount_corporate,
        cast(monthly.opportunity_credits as double) as opportunity_credits,
        cast(monthly.bookings_amount_corporate as decimal(18, 2)) as bookings_amount_corporate,
        cast(monthly.won_opportunity_credits as double) as won_opportunity_credits,
        cast(monthly.spend_amount_corporate as decimal(18, 2)) as spend_amount_corporate,
        case
            when monthly.spend_amount_corporate > 0
                then {{ divide(
                    'monthly.bookings_amount_corporate', 'monthly.spend_amount_corporate'
                ) }}
        end as roas,
        {{ to_money(
            'case when monthly.opportunity_credits > 0 then '
            ~ divide('monthly.spend_amount_corporate', 'monthly.opportunity_credits')
            ~ ' end'
        ) }} as cost_per_attributed_opportunity,
        '{{ var("corporate_currency") }}' as corporate_currency_code,
        as_of.as_of_date
    from monthly
    cross join as_of

)

select * from final
