{{ config(store_failures=true) }}

-- A key column the contract marks `case_sensitive: false` (Salesforce 18-character ids) holds
-- one record per key whatever its letter case. Ingestion quarantines two spellings of a key
-- within one file; this test catches them across files (an export that spells an already
-- loaded id in another case is merged as a second record): one row per key spelled more than
-- one way among the live raw rows, with the spellings and the files that brought them. Fix by
-- correcting the export (or the CRM) so the key has one spelling, then load it again.
-- The raw tables exist before the build (ingestion made them), so they are read directly.

{%- set checks = [] %}
{%- if execute %}
{%- for source in graph.sources.values() | sort(attribute='unique_id') %}
{%- for column in source.columns.values() %}
{%- if (column.meta or {}).get('case_sensitive') == false
    and column.name in (source.meta or {}).get('primary_key', []) %}
{%- set relation = adapter.get_relation(
    database=source.database, schema=source.schema, identifier=source.identifier
) %}
{%- if relation is not none %}
{%- do checks.append((source.source_name ~ '.' ~ source.name, relation, column.name)) %}
{%- endif %}
{%- endif %}
{%- endfor %}
{%- endfor %}
{%- endif %}

with

-- One pass over every live raw key as integers: a key's hash ignoring case, and the hash of
-- its spelling. A key spelled two ways has two spelling hashes (two spellings hash equal with
-- odds of about 2^-64). Grouping the keys as text (min and max of the spelling) took 1,214 s
-- at 10M leads, the build's memory rising from 6.5 to 13.8 GB while it ran (README, "10M").
key_hashes as (

    {% for table_name, relation, key in checks %}
    select
        '{{ table_name }}' as source_table,
        '{{ key }}' as key_column,
        {{ hash64('lower(' ~ adapter.quote(key) ~ ')') }} as key_hash,
        {{ hash64(adapter.quote(key)) }} as spelling_hash
    from {{ relation }}
    where _sros_deleted_at is null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if not checks %}
    select
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as key_column,
        cast(null as {{ dbt.type_bigint() }}) as key_hash,
        cast(null as {{ dbt.type_bigint() }}) as spelling_hash
    where 1 = 0
    {% endif %}

),

respelled as (

    select
        source_table,
        key_column,
        key_hash
    from key_hashes
    group by 1, 2, 3
    having min(spelling_hash) != max(spelling_hash)

),

-- The rows of those (few) keys as text: their spellings counted and their files named. Two
-- keys whose hashes collide land in one group above; grouped by their text here, each shows
-- only if it has two spellings itself. The raw tables are read again rather than through one
-- CTE used twice, which DuckDB materialises with every key as text (at 1M leads: 3.8-4.9 s
-- and 1.5 GB, against 2.4 s and 0.8 GB).
spellings as (

    {% for table_name, relation, key in checks %}
    select
        '{{ table_name }}' as source_table,
        '{{ key }}' as key_column,
        {{ hash64('lower(' ~ adapter.quote(key) ~ ')') }} as key_hash,
        lower({{ adapter.quote(key) }}) as key_ignoring_case,
        {{ adapter.quote(key) }} as key_spelling,
        _sros_source_file as source_file
    from {{ relation }}
    where _sros_deleted_at is null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if not checks %}
    select
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as key_column,
        cast(null as {{ dbt.type_bigint() }}) as key_hash,
        cast(null as {{ dbt.type_string() }}) as key_ignoring_case,
        cast(null as {{ dbt.type_string() }}) as key_spelling,
        cast(null as {{ dbt.type_string() }}) as source_file
    where 1 = 0
    {% endif %}

),

final as (

    select
        spellings.source_table,
        spellings.key_column,
        spellings.key_ignoring_case,
        count(distinct spellings.key_spelling) as spellings,
        min(spellings.key_spelling) as first_spelling,
        max(spellings.key_spelling) as last_spelling,
        min(spellings.source_file) as first_file,
        max(spellings.source_file) as last_file
    from spellings
    inner join respelled
        on
            spellings.source_table = respelled.source_table
            and spellings.key_column = respelled.key_column
            and spellings.key_hash = respelled.key_hash
    group by 1, 2, 3
    having count(distinct spellings.key_spelling) > 1

)

select * from final
