{%- set max_share = var('quarantine_max_share', 0.02) | float -%}

{{ config(store_failures=true, tags=['quarantine']) }}

-- Blocking: the share of opportunities quarantined (count of distinct opportunities in
-- fct_quarantined_records / count of opportunities in int_opportunities_unioned) is at
-- most the var quarantine_max_share. Above it the bad records are a pattern (a broken
-- export, a missing column, a wrong mapping), not stray rows to leave out. Returns one
-- row naming the share and the threshold.

with

opportunities as (

    select * from {{ ref('int_opportunities_unioned') }}

),

quarantined_records as (

    select * from {{ ref('fct_quarantined_records') }}

),

quarantined_opportunities as (

    select count(*) as quarantined_count
    from (
        select distinct
            source_system,
            record_id
        from quarantined_records
        where record_type = 'opportunity'
    ) as distinct_records

),

opportunity_totals as (

    select count(*) as opportunities_count
    from opportunities

),

shares as (

    select
        quarantined_opportunities.quarantined_count,
        opportunity_totals.opportunities_count,
        1.0 * quarantined_opportunities.quarantined_count
        / opportunity_totals.opportunities_count as quarantined_share
    from quarantined_opportunities
    cross join opportunity_totals
    where opportunity_totals.opportunities_count > 0

),

final as (

    select
        quarantined_count,
        opportunities_count,
        quarantined_share,
        {{ max_share }} as max_share,
        {{ dbt.concat([
            dbt.safe_cast("quarantined_count", dbt.type_string()),
            "' of '",
            dbt.safe_cast("opportunities_count", dbt.type_string()),
            "' opportunities are quarantined, a share of '",
            dbt.safe_cast(
                "cast(round(100 * quarantined_share, 2) as decimal(9, 2))",
                dbt.type_string(),
            ),
            "'%, above quarantine_max_share "
            ~ ('%.2f' | format(max_share * 100))
            ~ "%: fix the records listed in fct_quarantined_records in the CRM, '",
            "'or raise the var quarantine_max_share'",
        ]) }} as problem
    from shares
    where quarantined_share > {{ max_share }}

)

select * from final
