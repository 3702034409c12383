{{ config(store_failures=true) }}

-- The employee ranges [min_employees, max_employees] of seeds/segments.csv neither overlap
-- nor leave a gap, so every company size falls in exactly one segment. Returns each
-- offending pair of consecutive segments.

{%- set string_type = dbt.type_string() %}

with

segments as (

    select * from {{ ref('segments') }}

),

ranges as (

    select
        segment,
        min_employees,
        max_employees,
        lead(segment) over (order by min_employees) as next_segment,
        lead(min_employees) over (order by min_employees) as next_min_employees
    from segments

),

offending as (

    select
        *,
        case
            when next_min_employees <= max_employees then 'overlaps'
            else 'leaves a gap before'
        end as issue
    from ranges
    where next_min_employees != max_employees + 1

),

final as (

    select
        *,
        {{ dbt.concat([
            "'segment '",
            "segment",
            "' ['",
            "cast(min_employees as " ~ string_type ~ ")",
            "', '",
            "cast(max_employees as " ~ string_type ~ ")",
            "'] employees '",
            "issue",
            "' segment '",
            "next_segment",
            "' starting at '",
            "cast(next_min_employees as " ~ string_type ~ ")",
        ]) }} as problem
    from offending

)

select * from final
