-- Salesforce opportunities and HubSpot deals as they stand now, in one shape: ids, the
-- originating lead / contact, type, stage, source, amount in its own currency and the win
-- probability as a fraction (Salesforce percentage / 100; HubSpot's stage probability).
-- The type is mapped to new_business / expansion / renewal by the opportunity_types seed;
-- an unmapped CRM value leaves it null (assert_opportunity_types_are_mapped names it).
-- At least one CRM must be enabled (as for int_as_of_date). Every record, including those
-- that break a definition: the marts read int_opportunities_accepted, which leaves out the
-- quarantined ones (int_opportunities_quarantined).

with

opportunity_types as (

    select * from {{ ref('opportunity_types') }}

),

{% if var('salesforce_enabled', true) %}
salesforce_opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),
{% endif %}

{% if var('hubspot_enabled', true) %}
hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

hubspot_deal_companies as (

    select * from {{ ref('stg_hubspot__deal_companies') }}

),

hubspot_deal_pipeline_stages as (

    select * from {{ ref('stg_hubspot__deal_pipeline_stages') }}

),

deal_accounts as (

    -- a deal associated with several companies is counted on the lowest company id
    select
        deal_id,
        min(company_id) as account_id
    from hubspot_deal_companies
    group by 1

),
{% endif %}

unioned as (

    {% if var('salesforce_enabled', true) %}
    select
        opportunity_id,
        source_system,
        account_id,
        owner_user_id,
        campaign_id,
        'lead' as originating_crm_object,
        originating_lead_id as originating_crm_record_id,
        opportunity_type as crm_opportunity_type,
        stage_name as crm_stage_value,
        forecast_category,
        lead_source,
        amount,
        currency_code,
        {{ divide('probability_pct', '100') }} as probability,
        is_closed as crm_is_closed,
        is_won as crm_is_won,
        close_date,
        created_at
    from salesforce_opportunities
    {% endif %}

    {% if var('salesforce_enabled', true) and var('hubspot_enabled', true) %}
    union all
    {% endif %}

    {% if var('hubspot_enabled', true) %}
    select
        hubspot_deals.deal_id as opportunity_id,
        hubspot_deals.source_system,
        deal_accounts.account_id,
        hubspot_deals.owner_id as owner_user_id,
        cast(null as {{ dbt.type_string() }}) as campaign_id,
        'contact' as originating_crm_object,
        hubspot_deals.originating_contact_id as originating_crm_record_id,
        hubspot_deals.deal_type as crm_opportunity_type,
        hubspot_deals.deal_stage_id as crm_stage_value,
        cast(null as {{ dbt.type_string() }}) as forecast_category,
        hubspot_deals.lead_source,
        hubspot_deals.amount,
        hubspot_deals.currency_code,
        hubspot_deal_pipeline_stages.probability,
        cast(null as boolean) as crm_is_closed,
        hubspot_deal_pipeline_stages.is_closed_won as crm_is_won,
        hubspot_deals.close_date,
        hubspot_deals.created_at
    from hubspot_deals
    left join deal_accounts
        on hubspot_deals.deal_id = deal_accounts.deal_id
    left join hubspot_deal_pipeline_stages
        on hubspot_deals.deal_stage_id = hubspot_deal_pipeline_stages.deal_stage_id
    {% endif %}

),

final as (

    select
        unioned.opportunity_id,
        unioned.source_system,
        unioned.account_id,
        unioned.owner_user_id,
        unioned.campaign_id,
        unioned.originating_crm_object,
        unioned.originating_crm_record_id,
        unioned.crm_opportunity_type,
        opportunity_types.opportunity_type,
        unioned.crm_stage_value,
        unioned.forecast_category,
        unioned.lead_source,
        unioned.amount,
        unioned.currency_code,
        unioned.probability,
        unioned.crm_is_closed,
        unioned.crm_is_won,
        unioned.close_date,
        unioned.created_at
    from unioned
    left join opportunity_types
        on
            unioned.source_system = opportunity_types.source_system
            and unioned.crm_opportunity_type = opportunity_types.crm_value

)

select * from final
