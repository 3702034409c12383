{{ config(
    store_failures=true,
    severity=var('unmapped_value_severity', 'error'),
    tags=['unmapped_values'],
    meta={'seed': 'lead_source_channels'},
) }}

-- Every lead source value on a lead, contact or opportunity/deal has a channel and team in
-- the mapping seed lead_source_channels: sourced vs influenced pipeline depends on it.
-- Returns one row per unmapped value, naming it.

{%- set salesforce = var('salesforce_enabled', true) %}
{%- set hubspot = var('hubspot_enabled', true) %}

with

channels as (

    select * from {{ ref('lead_source_channels') }}

),

{% if salesforce %}
salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}

),

salesforce_contacts as (

    select * from {{ ref('stg_salesforce__contacts') }}

),

salesforce_opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),
{% endif %}

{% if hubspot %}
hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}

),

hubspot_deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),
{% endif %}

observed_values as (

    {% if salesforce %}
    select
        source_system,
        lead_source,
        'stg_salesforce__leads' as seen_in
    from salesforce_leads

    union all

    select
        source_system,
        lead_source,
        'stg_salesforce__contacts' as seen_in
    from salesforce_contacts

    union all

    select
        source_system,
        lead_source,
        'stg_salesforce__opportunities' as seen_in
    from salesforce_opportunities
    {% endif %}

    {% if salesforce and hubspot %}
    union all
    {% endif %}

    {% if hubspot %}
    select
        source_system,
        lead_source,
        'stg_hubspot__contacts' as seen_in
    from hubspot_contacts

    union all

    select
        source_system,
        lead_source,
        'stg_hubspot__deals' as seen_in
    from hubspot_deals
    {% endif %}

    {% if not (salesforce or hubspot) %}
    select
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as lead_source,
        cast(null as {{ dbt.type_string() }}) as seen_in
    where 1 = 0
    {% endif %}

),

unmapped as (

    select
        observed_values.source_system,
        observed_values.lead_source,
        observed_values.seen_in,
        count(*) as rows_seen
    from observed_values
    left join channels
        on
            observed_values.source_system = channels.source_system
            and observed_values.lead_source = channels.lead_source
    where
        observed_values.lead_source is not null
        and channels.channel is null
    group by 1, 2, 3

),

final as (

    select
        *,
        {{ dbt.concat([
            "'unmapped lead source '",
            "source_system",
            "' \"'",
            "lead_source",
            "'\" (seen in '",
            "seen_in",
            "'): add it to '",
            "'" ~ mapping_seed_file('lead_source_channels') ~ "'",
            "' (`sros mappings` writes the row to fill in)'",
        ]) }} as problem
    from unmapped

)

select * from final
