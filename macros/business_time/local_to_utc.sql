{% macro local_to_utc(timestamp_expression, time_zone_expression) %}
    {{ return(adapter.dispatch('local_to_utc', 'sros')(timestamp_expression, time_zone_expression)) }}
{% endmacro %}

{% macro default__local_to_utc(timestamp_expression, time_zone_expression) %}
    {#- DuckDB: timezone(zone, timestamp) reads the wall-clock time in `zone` (DST-aware) and
        gives an instant; timezone('UTC', instant) gives it back as a naive UTC timestamp,
        whatever the session's TimeZone setting. -#}
    timezone('UTC', timezone({{ time_zone_expression }}, {{ timestamp_expression }}))
{% endmacro %}

{% macro spark__local_to_utc(timestamp_expression, time_zone_expression) %}
    to_utc_timestamp({{ timestamp_expression }}, {{ time_zone_expression }})
{% endmacro %}
