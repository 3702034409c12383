{{ config(
    store_failures=true,
    severity=var('unmapped_value_severity', 'error'),
    enabled=var('marketing_enabled', true),
    tags=['unmapped_values'],
    meta={'seed': 'touch_types'},
) }}

-- Every touch type on a marketing touchpoint has a row in the mapping seed touch_types: its
-- intent, routing, MQL score points and attribution role come from there. Returns one row
-- per unmapped value, naming it; fix by adding the value to the seed (`sros mappings`
-- writes the rows to fill in), never by filtering here.

with

touch_types as (

    select * from {{ ref('touch_types') }}

),

touchpoints as (

    select * from {{ ref('stg_marketing__touchpoints') }}

),

unmapped as (

    select
        touchpoints.touch_type,
        'stg_marketing__touchpoints.touch_type' as seen_in,
        count(*) as rows_seen
    from touchpoints
    left join touch_types
        on touchpoints.touch_type = touch_types.touch_type
    where
        touchpoints.touch_type is not null
        and touch_types.touch_type is null
    group by 1, 2

),

final as (

    select
        *,
        {{ dbt.concat([
            "'unmapped touch type \"'",
            "touch_type",
            "'\" (seen in '",
            "seen_in",
            "'): add it to '",
            "'" ~ mapping_seed_file('touch_types') ~ "'",
            "' (`sros mappings` writes the row to fill in)'",
        ]) }} as problem
    from unmapped

)

select * from final
