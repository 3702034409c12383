{% macro hash64(expression) -%}
    {#- A 64-bit integer hash of an expression, to group or compare many long strings cheaply:
        equal values hash equal; two different values hash equal with odds of about 2^-64,
        so a query that must be exact checks the values it finds this way. -#}
    {{ return(adapter.dispatch('hash64', 'sros')(expression)) }}
{%- endmacro %}

{% macro default__hash64(expression) -%}
    {{ exceptions.raise_compiler_error(
        "hash64 has no implementation for adapter '" ~ adapter.type()
        ~ "': add a " ~ adapter.type() ~ "__hash64 macro in macros/hash64.sql"
    ) }}
{%- endmacro %}

{% macro duckdb__hash64(expression) -%}
    hash({{ expression }})
{%- endmacro %}

{% macro spark__hash64(expression) -%}
    xxhash64({{ expression }})
{%- endmacro %}

{% macro row_hash(columns) -%}
    {#- hash64 of a row's columns, each with its is-null flag: Spark's xxhash64 skips a
        null, so without the flags (null, 'x') and ('x', null) would hash alike. -#}
    {%- set arguments = [] -%}
    {%- for column in columns -%}
        {%- do arguments.extend([column, column ~ ' is null']) -%}
    {%- endfor -%}
    {{ sros.hash64(arguments | join(', ')) }}
{%- endmacro %}
