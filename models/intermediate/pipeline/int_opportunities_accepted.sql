-- The opportunities every published number is built on: int_opportunities_unioned less
-- those that break a definition (int_opportunities_quarantined, listed with their reasons
-- in fct_quarantined_records). The one place quarantined opportunities are left out:
-- fct_opportunities, int_opportunity_versions (and so the stage history, daily snapshots
-- and waterfall), the opportunity persons, accounts' customer status and the activities'
-- opportunity all read this model.

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

opportunities_quarantined as (

    select * from {{ ref('int_opportunities_quarantined') }}

),

quarantined_ids as (

    select distinct
        source_system,
        opportunity_id
    from opportunities_quarantined

),

final as (

    select opportunities.*
    from opportunities
    left join quarantined_ids
        on
            opportunities.source_system = quarantined_ids.source_system
            and opportunities.opportunity_id = quarantined_ids.opportunity_id
    where quarantined_ids.opportunity_id is null

)

select * from final
