{{ config(store_failures=true) }}

-- The effective-dated windows [valid_from, valid_to) of seeds/marketing_commitments.csv
-- neither overlap nor leave a gap per segment: exactly one commitment is in force in any
-- month from the first valid_from on. Returns each offending pair of consecutive versions.

{%- set string_type = dbt.type_string() %}

with

marketing_commitments as (

    select * from {{ ref('marketing_commitments') }}

),

windows as (

    select
        segment,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by segment order by valid_from) as next_valid_from
    from marketing_commitments

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
            "'marketing_commitments '",
            "'segment '",
            "segment",
            "': '",
            "'['",
            "cast(valid_from as " ~ string_type ~ ")",
            "', '",
            "cast(valid_to as " ~ string_type ~ ")",
            "') '",
            "issue",
            "' the next version starting '",
            "cast(next_valid_from as " ~ string_type ~ ")",
        ]) }} as problem
    from offending

)

select * from final
