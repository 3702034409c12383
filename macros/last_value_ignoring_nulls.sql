{% macro last_value_ignoring_nulls(expression) -%}
    {#- Window function (add its own over (...)): the last non-null value of expression in
        the frame, e.g. the stage of a person's most recent lead-funnel entry before this
        one. DuckDB writes it last_value(x ignore nulls), Spark last(x, true). -#}
    {{ return(adapter.dispatch('last_value_ignoring_nulls', 'sros')(expression)) }}
{%- endmacro %}

{% macro default__last_value_ignoring_nulls(expression) -%}
    last_value({{ expression }} ignore nulls)
{%- endmacro %}

{% macro spark__last_value_ignoring_nulls(expression) -%}
    last({{ expression }}, true)
{%- endmacro %}
