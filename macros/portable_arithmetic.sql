{#- Arithmetic that gives the same number on DuckDB and on Spark.

    DuckDB divides two decimals into a double; Spark into a decimal of at most 6 fractional
    digits (21.333333, where DuckDB has 21.333333333333332), and Spark reads 60.0 as a
    decimal too. A ratio therefore goes through divide(), a double on both.
    A double becomes money through to_money(): to the cent, half away from zero, from its
    decimal value to 9 places (0.125 * 70426.68 is 8803.335 -> 8803.34 on both; a direct
    cast rounds the binary double, 8803.33499..., down on DuckDB and up on Spark). -#}

{% macro divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / ({{ denominator }})
{%- endmacro %}

{% macro to_money(expression) -%}
    cast(cast({{ expression }} as decimal(38, 9)) as decimal(18, 2))
{%- endmacro %}

{% macro exact_credit(expression) -%}
    {#- An attribution credit (a double between 0 and 1) as the exact decimal both engines
        multiply money by: decimal(19, 12) is wide enough for DuckDB's 128-bit product, and
        the product with a decimal(18, 2) amount (precision 19 + 18 + 1) stays exact within
        Spark's 38 digits. -#}
    cast({{ expression }} as decimal(19, 12))
{%- endmacro %}
