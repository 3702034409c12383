{% macro website_domain(column_name) -%}
    {#- The bare host of a website or URL: lowercased, without scheme, leading "www." and
        path: 'https://www.Acme.com/about' -> 'acme.com'. Cross-database SQL only. -#}
    {%- set without_scheme -%}
        replace(replace(lower(trim({{ column_name }})), 'https://', ''), 'http://', '')
    {%- endset -%}
    {%- set host = dbt.split_part(without_scheme, "'/'", 1) -%}
    case
        when {{ host }} like 'www.%' then substring({{ host }}, 5)
        else {{ host }}
    end
{%- endmacro %}
