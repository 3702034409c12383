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

spellings as (

    {% for table_name, relation, key in checks %}
    select
        '{{ table_name }}' as source_table,
        '{{ key }}' as key_column,
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
        cast(null as {{ dbt.type_string() }}) as key_ignoring_case,
        cast(null as {{ dbt.type_string() }}) as key_spelling,
        cast(null as {{ dbt.type_string() }}) as source_file
    where 1 = 0
    {% endif %}

),

-- The keys spelled more than one way: one pass over every raw key with plain min and max of
-- the spelling (a count(distinct) per key ran out of DuckDB's 6GB limit at 10M leads; min and
-- max spill), the files left out of it, so each group holds two strings; then the (few) rows
-- of those keys, counted and their files named.
respelled as (

    select
        source_table,
        key_column,
        key_ignoring_case
    from spellings
    group by 1, 2, 3
    having min(key_spelling) != max(key_spelling)

),

final as (

    select
        respelled.source_table,
        respelled.key_column,
        respelled.key_ignoring_case,
        count(distinct spellings.key_spelling) as spellings,
        min(spellings.key_spelling) as first_spelling,
        max(spellings.key_spelling) as last_spelling,
        min(spellings.source_file) as first_file,
        max(spellings.source_file) as last_file
    from respelled
    inner join spellings
        on
            respelled.source_table = spellings.source_table
            and respelled.key_column = spellings.key_column
            and respelled.key_ignoring_case = spellings.key_ignoring_case
    group by 1, 2, 3

)

select * from final
