{% macro split_to_rows(column_name, delimiter) -%}
    {#- Select-list expression that turns a delimited string into one row per element
        (a set-returning function): select id, {{ split_to_rows('ids', "';'") }} as id_part
        from t. delimiter is a SQL string literal; on Spark it is read as a regex. -#}
    {{ return(adapter.dispatch('split_to_rows', 'sros')(column_name, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(column_name, delimiter) -%}
    {{ exceptions.raise_compiler_error(
        "split_to_rows has no implementation for adapter '" ~ adapter.type()
        ~ "': add a " ~ adapter.type() ~ "__split_to_rows macro in macros/split_to_rows.sql"
    ) }}
{%- endmacro %}

{% macro duckdb__split_to_rows(column_name, delimiter) -%}
    unnest(string_split({{ column_name }}, {{ delimiter }}))
{%- endmacro %}

{% macro spark__split_to_rows(column_name, delimiter) -%}
    explode(split({{ column_name }}, {{ delimiter }}))
{%- endmacro %}
