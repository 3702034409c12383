{% macro percentile_cont(expression, fraction) -%}
    {#- Aggregate: the continuous (interpolated) percentile of expression, e.g.
        percentile_cont('business_minutes', 0.9) for p90 and 0.5 for the median. Exact on
        both engines (Spark's percentile, not percentile_approx), so medians agree to the
        digit between DuckDB and Spark. Nulls are ignored; all-null groups give null. -#}
    {{ return(adapter.dispatch('percentile_cont', 'sros')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__percentile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}

{% macro spark__percentile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}
