{% macro generate_schema_name(custom_schema_name, node) -%}
    {#- A folder's +schema (staging, marts, seeds) is used as-is, not prefixed with the
        target schema; nodes without one land in the target schema. -#}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
