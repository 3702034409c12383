{% macro run_statements(statements) %}
    {#- run-operation: each SQL statement of the list, in order, on one connection of the
        target (e.g. dropping and adding partitions on Spark). One dbt invocation for all of
        them: on the spark target each invocation starts a Spark session. -#}
    {%- for statement in statements -%}
        {%- do run_query(statement) -%}
    {%- endfor -%}
    {{ log('ran ' ~ statements | length ~ ' statement(s) on ' ~ target.name, info=true) }}
{% endmacro %}
