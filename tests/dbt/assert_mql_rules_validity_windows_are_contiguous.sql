{{ config(store_failures=true) }}

-- The effective-dated windows [valid_from, valid_to) of seeds/mql_rules.csv neither overlap
-- nor leave a gap: exactly one MQL rule is in force on any day from the first valid_from
-- on. Returns each offending pair of consecutive versions.

{%- set string_type = dbt.type_string() %}

with

mql_rules as (

    select * from {{ ref('mql_rules') }}

),

windows as (

    select
        mql_rule_id as version_id,
        valid_from,
        valid_to,
        lead(mql_rule_id) over (order by valid_from) as next_version_id,
        lead(valid_from) over (order by valid_from) as next_valid_from
    from mql_rules

),

offending as (

    select
        *,
        case
            when next_valid_from < valid_to then 'overlaps'
            else 'leaves a gap before'
        end as issue
    from windows
    where next_valid_from != valid_to

),

final as (

    select
        *,
        {{ dbt.concat([
            "'mql_rules '",
            "version_id",
            "' ['",
            "cast(valid_from as " ~ string_type ~ ")",
            "', '",
            "cast(valid_to as " ~ string_type ~ ")",
            "') '",
            "issue",
            "' '",
            "next_version_id",
            "' starting '",
            "cast(next_valid_from as " ~ string_type ~ ")",
        ]) }} as problem
    from offending

)

select * from final
