{#- Arithmetic that gives the same number on DuckDB and on Spark.

    DuckDB divides two decimals into a double; Spark into a decimal of at most 6 fractional
    digits (21.333333, where DuckDB has 21.333333333333332), and Spark reads 60.0 as a
    decimal too. A ratio therefore goes through divide(), a double on both, and null when
    the denominator is 0 (DuckDB would give inf or nan, Spark in ANSI mode an error).
    A double becomes money through to_money(): to the cent, half away from zero, from its
    decimal value to 9 places (0.125 * 70426.68 is 8803.335 -> 8803.34 on both; a direct
    cast rounds the binary double, 8803.33499..., down on DuckDB and up on Spark). -#}

{% macro divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}

{% macro to_money(expression) -%}
    {{ return(adapter.dispatch('to_money', 'sros')(expression)) }}
{%- endmacro %}

{% macro default__to_money(expression) -%}
    cast(cast({{ expression }} as decimal(38, 9)) as decimal(18, 2))
{%- endmacro %}

{% macro duckdb__to_money(expression) -%}
    {#- The same cents as default__to_money. DuckDB holds a decimal(38, 9) in 128 bits, whose
        rounding to decimal(18, 2) took 10 s per 4.8M values on one thread (the two money
        columns of fct_pipeline_snapshots_daily at 1M leads: 13.8 of its 18.4 s). A value
        below 1e9 (almost every amount) goes through decimal(18, 9), 64 bits, instead: the
        same double-to-decimal cast and the same half-away-from-zero rounding, 0.6 s
        (tests/test_money.py compares the two paths). -#}
    case
        when abs({{ expression }}) < 999999999
            then cast(cast({{ expression }} as decimal(18, 9)) as decimal(18, 2))
        else cast(cast({{ expression }} as decimal(38, 9)) as decimal(18, 2))
    end
{%- endmacro %}

{% macro exact_credit(expression) -%}
    {#- An attribution credit (a double between 0 and 1) as the exact decimal both engines
        multiply money by: decimal(19, 12) is wide enough for DuckDB's 128-bit product, and
        the product with a decimal(18, 2) amount (precision 19 + 18 + 1) stays exact within
        Spark's 38 digits. -#}
    cast({{ expression }} as decimal(19, 12))
{%- endmacro %}

{% macro credited_money(credit, amount) -%}
    {{ return(adapter.dispatch('credited_money', 'sros')(credit, amount)) }}
{%- endmacro %}

{% macro default__credited_money(credit, amount) -%}
    {#- A credited share of money to the cent: the exact credit times the decimal(18, 2)
        amount, exactly, then rounded half away from zero. -#}
    cast({{ exact_credit(credit) }} * {{ amount }} as decimal(18, 2))
{%- endmacro %}

{% macro duckdb__credited_money(credit, amount) -%}
    {#- The same cents as default__credited_money. The product is a 128-bit decimal(37, 14);
        DuckDB's cast of it to decimal(18, 2) took 7.8 s per 3M values on one thread, its
        round() to 2 places, the same half-away-from-zero rounding, 2.7 s
        (tests/test_money.py compares the two). -#}
    cast(round({{ exact_credit(credit) }} * {{ amount }}, 2) as decimal(18, 2))
{%- endmacro %}
