-- The CRM records left out of every published number because they break a definition
-- (int_opportunities_quarantined: the rules; quarantine_rules seed: their reasons), one row
-- per record and broken rule, for the CRM admins to fix at the source. A fixed record
-- leaves the quarantine and enters the marts on the next build.

with

as_of as (

    select * from {{ ref('int_as_of_date') }}

),

opportunities_quarantined as (

    select * from {{ ref('int_opportunities_quarantined') }}

),

final as (

    select
        {{ dbt.concat([
            "opportunities_quarantined.source_system",
            "':'",
            "opportunities_quarantined.record_type",
            "':'",
            "opportunities_quarantined.opportunity_id",
            "':'",
            "opportunities_quarantined.rule_key",
        ]) }} as quarantined_record_id,
        opportunities_quarantined.source_system,
        opportunities_quarantined.record_type,
        opportunities_quarantined.opportunity_id as record_id,
        opportunities_quarantined.rule_key,
        opportunities_quarantined.reason,
        opportunities_quarantined.offending_values,
        as_of.as_of_date
    from opportunities_quarantined
    cross join as_of

)

select * from final
