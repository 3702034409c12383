{% macro month_index(date_expression) -%}
    {#- Months since year 0 of a date (year * 12 + month): consecutive calendar months differ
        by 1, so month offsets and trailing windows are integer arithmetic. ANSI extract, which
        DuckDB and Spark (3.0+) both accept. -#}
    (extract(year from {{ date_expression }}) * 12 + extract(month from {{ date_expression }}))
{%- endmacro %}
