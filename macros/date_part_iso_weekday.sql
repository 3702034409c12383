{% macro date_part_iso_weekday(date_expression) %}
    {{ return(adapter.dispatch('date_part_iso_weekday', 'sros')(date_expression)) }}
{% endmacro %}

{% macro default__date_part_iso_weekday(date_expression) %}
    extract(isodow from {{ date_expression }})
{% endmacro %}

{% macro spark__date_part_iso_weekday(date_expression) %}
    {#- Spark's dayofweek counts from Sunday = 1. -#}
    ((dayofweek({{ date_expression }}) + 5) % 7 + 1)
{% endmacro %}
