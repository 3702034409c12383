{{ config(store_failures=true) }}

-- The effective-dated windows [valid_from, valid_to) of seeds/sla_terms.csv neither overlap
-- nor leave a gap per lead priority: exactly one SLA term is in force for a handoff on
-- any day from the first valid_from on. Returns each offending pair of consecutive versions.

{%- set string_type = dbt.type_string() %}

with

sla_terms as (

    select * from {{ ref('sla_terms') }}

),

windows as (

    select
        lead_priority,
        sla_term_id as version_id,
        valid_from,
        valid_to,
        lead(sla_term_id) over (partition by lead_priority order by valid_from) as next_version_id,
        lead(valid_from) over (partition by lead_priority order by valid_from) as next_valid_from
    from sla_terms

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
            "'sla_terms '",
            "'lead_priority '",
            "lead_priority",
            "': '",
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
