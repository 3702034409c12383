-- Every saved state of every opportunity, valid over [valid_from_at, valid_to_at): stage,
-- amount (own currency), close date, probability (fraction) and forecast category.
-- Salesforce: one version per OpportunityHistory row (each row is the full state after a
-- change). HubSpot: the deal_stage history (stage entries) split further wherever the
-- history captured at ingestion (stg_hubspot__deal_history, dlt scd2) recorded a new amount,
-- currency or close date; before the first recorded version, the earliest recorded amount
-- and close date are taken to have held since the deal was created (HubSpot keeps no
-- history of them).
-- An opportunity without any history row (an export without OpportunityHistory, a deal
-- without deal_stage rows) gets inferred versions (is_history_inferred): an open one is in
-- its current state since its creation; a closed one was open from its creation, in its
-- CRM's first open stage (a new opportunity enters the funnel's first opportunity stage),
-- and is in its closed state from its close date (one version, closed since creation, when
-- it closed on the day it was created). So every opportunity is in the stage history, the
-- daily snapshots and, in its close period, the waterfall, and open pipeline agrees across
-- the marts.
-- Only opportunities accepted for publication (int_opportunities_accepted: not quarantined)
-- have versions here, so the marts built on versions count what fct_opportunities counts.

with

accepted_opportunities as (

    select * from {{ ref('int_opportunities_accepted') }}

),

opportunity_stages as (

    select * from {{ ref('int_opportunity_stages') }}

),

{% if var('salesforce_enabled', true) %}
salesforce_opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

salesforce_opportunity_history as (

    select * from {{ ref('stg_salesforce__opportunity_history') }}

),

salesforce_inferred_versions as (

    select
        salesforce_opportunities.opportunity_id,
        salesforce_opportunities.source_system,
        salesforce_opportunities.created_at as valid_from_at,
        salesforce_opportunities.stage_name as crm_stage_value,
        salesforce_opportunities.amount,
        salesforce_opportunities.currency_code,
        salesforce_opportunities.close_date,
        salesforce_opportunities.forecast_category,
        {{ divide('salesforce_opportunities.probability_pct', '100') }} as probability,
        cast(null as {{ dbt.type_string() }}) as crm_version_id,
        true as is_history_inferred
    from salesforce_opportunities
    left join salesforce_opportunity_history
        on
            salesforce_opportunities.opportunity_id
            = salesforce_opportunity_history.opportunity_id
    where salesforce_opportunity_history.opportunity_id is null

),
{% endif %}

{% if var('hubspot_enabled', true) %}
hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

hubspot_deal_stages as (

    select * from {{ ref('stg_hubspot__deal_stages') }}

),

hubspot_deal_history as (

    select * from {{ ref('stg_hubspot__deal_history') }}

),

deal_stage_entries as (

    -- the history-mode table repeats a stage entry per loader version: keep one; stages
    -- of deleted deals are dropped
    select distinct
        hubspot_deal_stages.deal_id,
        hubspot_deal_stages.deal_stage_id,
        hubspot_deal_stages.entered_at
    from hubspot_deal_stages
    inner join hubspot_deals
        on hubspot_deal_stages.deal_id = hubspot_deals.deal_id

),

deal_amount_versions as (

    -- the earliest recorded version stands for the time before ingestion first saw the deal
    select
        deal_id,
        amount,
        currency_code,
        close_date,
        case
            when
                row_number() over (partition by deal_id order by valid_from_at) = 1
                then cast('1900-01-01' as {{ dbt.type_timestamp() }})
            else valid_from_at
        end as valid_from_at,
        coalesce(
            valid_to_at,
            cast('9999-12-31' as {{ dbt.type_timestamp() }})
        ) as valid_to_at
    from hubspot_deal_history

),

deal_first_entries as (

    select
        deal_id,
        min(entered_at) as first_entered_at
    from deal_stage_entries
    group by 1

),

deal_change_times as (

    select
        deal_id,
        entered_at as changed_at
    from deal_stage_entries

    union

    select
        deal_amount_versions.deal_id,
        deal_amount_versions.valid_from_at as changed_at
    from deal_amount_versions
    inner join deal_first_entries
        on deal_amount_versions.deal_id = deal_first_entries.deal_id
    where deal_amount_versions.valid_from_at > deal_first_entries.first_entered_at

),

deal_stage_at_change as (

    select
        deal_change_times.deal_id,
        deal_change_times.changed_at,
        deal_stage_entries.deal_stage_id,
        row_number() over (
            partition by deal_change_times.deal_id, deal_change_times.changed_at
            order by deal_stage_entries.entered_at desc, deal_stage_entries.deal_stage_id asc
        ) as stage_recency
    from deal_change_times
    inner join deal_stage_entries
        on
            deal_change_times.deal_id = deal_stage_entries.deal_id
            and deal_change_times.changed_at >= deal_stage_entries.entered_at

),

hubspot_versions as (

    select
        deal_stage_at_change.deal_id as opportunity_id,
        hubspot_deals.source_system,
        deal_stage_at_change.changed_at as valid_from_at,
        deal_stage_at_change.deal_stage_id as crm_stage_value,
        coalesce(deal_amount_versions.amount, hubspot_deals.amount) as amount,
        coalesce(
            deal_amount_versions.currency_code, hubspot_deals.currency_code
        ) as currency_code,
        coalesce(
            deal_amount_versions.close_date, hubspot_deals.close_date
        ) as close_date,
        cast(null as {{ dbt.type_string() }}) as forecast_category,
        cast(null as {{ dbt.type_float() }}) as probability,
        cast(null as {{ dbt.type_string() }}) as crm_version_id,
        false as is_history_inferred
    from deal_stage_at_change
    inner join hubspot_deals
        on deal_stage_at_change.deal_id = hubspot_deals.deal_id
    left join deal_amount_versions
        on
            deal_stage_at_change.deal_id = deal_amount_versions.deal_id
            and deal_stage_at_change.changed_at >= deal_amount_versions.valid_from_at
            and deal_stage_at_change.changed_at < deal_amount_versions.valid_to_at
    where deal_stage_at_change.stage_recency = 1

),

hubspot_inferred_versions as (

    select
        hubspot_deals.deal_id as opportunity_id,
        hubspot_deals.source_system,
        hubspot_deals.created_at as valid_from_at,
        hubspot_deals.deal_stage_id as crm_stage_value,
        hubspot_deals.amount,
        hubspot_deals.currency_code,
        hubspot_deals.close_date,
        cast(null as {{ dbt.type_string() }}) as forecast_category,
        cast(null as {{ dbt.type_float() }}) as probability,
        cast(null as {{ dbt.type_string() }}) as crm_version_id,
        true as is_history_inferred
    from hubspot_deals
    left join deal_first_entries
        on hubspot_deals.deal_id = deal_first_entries.deal_id
    where deal_first_entries.deal_id is null

),
{% endif %}

inferred_current_states as (

    {% if var('salesforce_enabled', true) %}
    select * from salesforce_inferred_versions
    {% endif %}
    {% if var('salesforce_enabled', true) and var('hubspot_enabled', true) %}
    union all
    {% endif %}
    {% if var('hubspot_enabled', true) %}
    select * from hubspot_inferred_versions
    {% endif %}

),

first_open_stages as (

    -- per CRM, the open stage an opportunity enters first (lowest funnel order)
    select
        source_system,
        crm_stage_value
    from (
        select
            source_system,
            crm_stage_value,
            row_number() over (
                partition by source_system
                order by stage_order, crm_stage_value
            ) as stage_rank
        from opportunity_stages
        where is_open
    ) as ranked_open_stages
    where stage_rank = 1

),

inferred_closed_since as (

    -- when an inferred closed state begins: the close date, unless it is the creation day
    select
        inferred_current_states.*,
        case
            when
                opportunity_stages.is_closed
                and cast(inferred_current_states.close_date as {{ dbt.type_timestamp() }})
                > inferred_current_states.valid_from_at
                then cast(inferred_current_states.close_date as {{ dbt.type_timestamp() }})
        end as closed_from_at
    from inferred_current_states
    left join opportunity_stages
        on
            inferred_current_states.source_system = opportunity_stages.source_system
            and inferred_current_states.crm_stage_value = opportunity_stages.crm_stage_value

),

inferred_versions as (

    -- a closed opportunity, while it was open
    select
        inferred_closed_since.opportunity_id,
        inferred_closed_since.source_system,
        inferred_closed_since.valid_from_at,
        first_open_stages.crm_stage_value,
        inferred_closed_since.amount,
        inferred_closed_since.currency_code,
        inferred_closed_since.close_date,
        cast(null as {{ dbt.type_string() }}) as forecast_category,
        cast(null as {{ dbt.type_float() }}) as probability,
        inferred_closed_since.crm_version_id,
        inferred_closed_since.is_history_inferred
    from inferred_closed_since
    inner join first_open_stages
        on inferred_closed_since.source_system = first_open_stages.source_system
    where inferred_closed_since.closed_from_at is not null

    union all

    -- its current state: since its close date when it closed later, else since creation
    select
        opportunity_id,
        source_system,
        coalesce(closed_from_at, valid_from_at) as valid_from_at,
        crm_stage_value,
        amount,
        currency_code,
        close_date,
        forecast_category,
        probability,
        crm_version_id,
        is_history_inferred
    from inferred_closed_since

),

unioned as (

    {% if var('salesforce_enabled', true) %}
    select
        salesforce_opportunity_history.opportunity_id,
        salesforce_opportunity_history.source_system,
        salesforce_opportunity_history.changed_at as valid_from_at,
        salesforce_opportunity_history.stage_name as crm_stage_value,
        salesforce_opportunity_history.amount,
        salesforce_opportunities.currency_code,
        salesforce_opportunity_history.close_date,
        salesforce_opportunity_history.forecast_category,
        {{ divide('salesforce_opportunity_history.probability_pct', '100') }} as probability,
        salesforce_opportunity_history.opportunity_history_id as crm_version_id,
        false as is_history_inferred
    from salesforce_opportunity_history
    inner join salesforce_opportunities
        on
            salesforce_opportunity_history.opportunity_id
            = salesforce_opportunities.opportunity_id

    union all

    select * from inferred_versions
    {% endif %}

    {% if var('salesforce_enabled', true) and var('hubspot_enabled', true) %}
    union all
    {% endif %}

    {% if var('hubspot_enabled', true) %}
    select * from hubspot_versions
    {% endif %}
    {% if not var('salesforce_enabled', true) and var('hubspot_enabled', true) %}

    union all

    select * from inferred_versions
    {% endif %}

),

sequenced as (

    select
        unioned.*,
        row_number() over (
            partition by unioned.source_system, unioned.opportunity_id
            order by unioned.valid_from_at, unioned.crm_version_id
        ) as version_number
    from unioned

),

final as (

    select
        sequenced.opportunity_id,
        sequenced.source_system,
        sequenced.version_number,
        sequenced.crm_version_id,
        sequenced.valid_from_at,
        lead(sequenced.valid_from_at) over (
            partition by sequenced.source_system, sequenced.opportunity_id
            order by sequenced.version_number
        ) as valid_to_at,
        sequenced.crm_stage_value,
        opportunity_stages.stage_key,
        opportunity_stages.stage_order,
        opportunity_stages.is_open,
        opportunity_stages.is_closed,
        opportunity_stages.is_won,
        sequenced.amount,
        sequenced.currency_code,
        sequenced.close_date,
        sequenced.forecast_category,
        coalesce(
            sequenced.probability, opportunity_stages.default_probability
        ) as probability,
        sequenced.is_history_inferred
    from sequenced
    inner join accepted_opportunities
        on
            sequenced.source_system = accepted_opportunities.source_system
            and sequenced.opportunity_id = accepted_opportunities.opportunity_id
    left join opportunity_stages
        on
            sequenced.source_system = opportunity_stages.source_system
            and sequenced.crm_stage_value = opportunity_stages.crm_stage_value

)

select * from final
