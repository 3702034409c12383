{{ config(store_failures=true, severity='warn', tags=['quarantine']) }}

-- A warning, never blocking: returns every quarantined record (fct_quarantined_records),
-- so the build's log names each one with its rule, reason and offending values. They are
-- left out of every published number until fixed in the CRM; above the var
-- quarantine_max_share, assert_quarantined_share_within_threshold fails the build.

with

quarantined_records as (

    select * from {{ ref('fct_quarantined_records') }}

),

final as (

    select
        source_system,
        record_type,
        record_id,
        rule_key,
        offending_values,
        {{ dbt.concat([
            "'quarantined '",
            "source_system",
            "' '",
            "record_type",
            "' '",
            "record_id",
            "' ('",
            "rule_key",
            "'): '",
            "reason",
            "'; '",
            "offending_values",
        ]) }} as problem
    from quarantined_records

)

select * from final
