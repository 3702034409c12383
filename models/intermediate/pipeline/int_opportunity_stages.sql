-- The opportunity stages each CRM uses, mapped to the funnel: open (stage_group
-- opportunity) or closed, won or lost (funnel_stages.is_won), in funnel order.
-- HubSpot stages also carry their pipeline's default win probability (a fraction).

with

crm_stage_mappings as (

    select * from {{ ref('crm_stage_mappings') }}

),

funnel_stages as (

    select * from {{ ref('funnel_stages') }}

),

{% if var('hubspot_enabled', true) %}
hubspot_deal_pipeline_stages as (

    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}

),
{% endif %}

opportunity_stage_mappings as (

    select
        crm_stage_mappings.source_system,
        crm_stage_mappings.crm_value as crm_stage_value,
        crm_stage_mappings.stage_key,
        funnel_stages.stage_order,
        funnel_stages.stage_group,
        funnel_stages.stage_group = 'opportunity' as is_open,
        funnel_stages.stage_group = 'closed' as is_closed,
        coalesce(funnel_stages.is_won, false) as is_won
    from crm_stage_mappings
    inner join funnel_stages
        on crm_stage_mappings.stage_key = funnel_stages.stage_key
    where
        (
            crm_stage_mappings.source_system = 'salesforce'
            and crm_stage_mappings.crm_object = 'opportunity'
            and crm_stage_mappings.crm_field = 'stage_name'
        )
        or (
            crm_stage_mappings.source_system = 'hubspot'
            and crm_stage_mappings.crm_object = 'deal'
            and crm_stage_mappings.crm_field = 'dealstage'
        )

),

final as (

    select
        opportunity_stage_mappings.*,
        {% if var('hubspot_enabled', true) -%}
        hubspot_deal_pipeline_stages.probability as default_probability
        {%- else -%}
        cast(null as {{ dbt.type_float() }}) as default_probability
        {%- endif %}
    from opportunity_stage_mappings
    {% if var('hubspot_enabled', true) -%}
    left join hubspot_deal_pipeline_stages
        on
            opportunity_stage_mappings.source_system = 'hubspot'
            and opportunity_stage_mappings.crm_stage_value
            = hubspot_deal_pipeline_stages.deal_stage_id
    {%- endif %}

)

select * from final
