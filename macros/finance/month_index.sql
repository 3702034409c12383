{% macro month_index(date_expression) -%}
    {#- Months since year 0 of a date (year * 12 + month): consecutive calendar months differ
        by 1, so month offsets and trailing windows are integer arithmetic on both engines. -#}
    ({{ dbt.date_part('year', date_expression) }} * 12 + {{ dbt.date_part('month', date_expression) }})
{%- endmacro %}
