{#- dbt's date arithmetic on Spark, with DuckDB's meaning, for SROS's timestamps.

    SROS's timestamps carry no time zone (`timestamp` is TIMESTAMP_NTZ on Spark, see the
    `spark` target in profiles.yml), and dbt-spark 1.11's dateadd and datediff go through
    unix seconds and `to_timestamp(<number>)`, which Spark refuses for TIMESTAMP_NTZ. These
    overrides (dbt looks in the root project first) use Spark's own timestampadd and
    timestampdiff. datediff counts boundaries as DuckDB's date_diff does (the midnights,
    month or quarter starts, New Years, or hour/minute/second ticks between the two values)
    and is a bigint, DuckDB's type; date_trunc and dateadd give a timestamp without time
    zone, as on DuckDB. -#}

{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    cast(timestampadd({{ datepart | upper }}, {{ interval }}, {{ from_date_or_timestamp }}) as timestamp)
{%- endmacro %}

{% macro spark__date_trunc(datepart, date) -%}
    cast(date_trunc('{{ datepart }}', {{ date }}) as timestamp)
{%- endmacro %}

{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- if datepart == 'day' -%}
        cast(datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) as bigint)
    {%- elif datepart in ('month', 'quarter', 'year') -%}
        cast(
            (year({{ second_date }}) - year({{ first_date }}))
            {{- ' * 12 + month(' ~ second_date ~ ') - month(' ~ first_date ~ ')' if datepart == 'month' }}
            {{- ' * 4 + quarter(' ~ second_date ~ ') - quarter(' ~ first_date ~ ')' if datepart == 'quarter' }}
            as bigint
        )
    {%- elif datepart in ('hour', 'minute', 'second') -%}
        timestampdiff(
            {{ datepart | upper }},
            date_trunc('{{ datepart }}', {{ first_date }}),
            date_trunc('{{ datepart }}', {{ second_date }})
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "datediff on Spark: datepart '" ~ datepart ~ "' is not implemented in "
            ~ "macros/spark_dates.sql (dbt-duckdb counts weeks by Sundays: match that)"
        ) }}
    {%- endif -%}
{%- endmacro %}
