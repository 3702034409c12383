{{ config(
    store_failures=true,
    severity=var('unmapped_value_severity', 'error'),
    tags=['unmapped_values'],
    meta={'seed': 'opportunity_types'},
) }}

-- Every opportunity type value on a Salesforce opportunity (Type) or HubSpot deal
-- (dealtype) has a row in the mapping seed opportunity_types: new business, expansion and
-- renewal pipeline depend on it. Returns one row per unmapped value, naming it; fix by adding the
-- value to the seed (or correcting the CRM), never by filtering here.

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

unmapped as (

    select
        source_system,
        crm_opportunity_type as crm_value,
        'int_opportunities_unioned.crm_opportunity_type' as seen_in,
        count(*) as rows_seen
    from opportunities
    where
        crm_opportunity_type is not null
        and opportunity_type is null
    group by 1, 2, 3

),

final as (

    select
        *,
        {{ dbt.concat([
            "'unmapped opportunity type '",
            "source_system",
            "' \"'",
            "crm_value",
            "'\" (seen in '",
            "seen_in",
            "'): add it to '",
            "'" ~ mapping_seed_file('opportunity_types') ~ "'",
            "' (`sros mappings` writes the row to fill in)'",
        ]) }} as problem
    from unmapped

)

select * from final
