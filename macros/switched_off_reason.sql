{#- For a mart built on one source system: the reason it may be empty (its config
    meta.may_be_empty, read by the no-silently-empty check, sros/completeness.py) when that
    system is switched off, else none. -#}
{% macro switched_off_reason(system) -%}
    {{ return(none if var(system ~ '_enabled', true) else system ~ ' is switched off') }}
{%- endmacro %}
