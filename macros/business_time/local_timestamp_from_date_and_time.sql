{% macro local_timestamp_from_date_and_time(date_expression, time_expression) %}
    {#- A naive timestamp from a date and an 'HH:MM' string (seed business_hours). -#}
    cast(
        {{ dbt.concat([
            "cast(" ~ date_expression ~ " as " ~ dbt.type_string() ~ ")",
            "' '",
            time_expression,
            "':00'",
        ]) }} as {{ dbt.type_timestamp() }}
    )
{% endmacro %}
