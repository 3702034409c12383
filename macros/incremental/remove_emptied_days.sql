{% macro remove_emptied_days(date_column, input, input_timestamp, input_where='1 = 1') %}
    {#- Post-hook of a model rebuilt by whole days (macro changed_days): removes from the
        table ({{ this }}) the days of date_column that no input row is dated on any more,
        the days whose every row has gone since the table was built. A rebuilt day is
        replaced by its new rows, and such a day has none, so without this its old rows
        would stay. input is the model's input relation, input_timestamp the input column
        the model dates its rows by, input_where the rows of the input the model keeps.
        Empty (no statement) when there is nothing to remove or dbt is only parsing. -#}
    {{ return(adapter.dispatch('remove_emptied_days', 'sros')(
        date_column, input, input_timestamp, input_where
    )) }}
{% endmacro %}

{% macro emptied_days(date_column, input, input_timestamp, input_where) %}
    {#- SQL query: the days of the table no input row is dated on. -#}
    select {{ date_column }} from {{ this }}
    except
    select cast({{ input_timestamp }} as date) from {{ input }} where {{ input_where }}
{%- endmacro %}

{% macro duckdb__remove_emptied_days(date_column, input, input_timestamp, input_where) %}
    delete from {{ this }}
    where {{ date_column }} in (
        {{ sros.emptied_days(date_column, input, input_timestamp, input_where) }}
    )
{% endmacro %}

{% macro spark__remove_emptied_days(date_column, input, input_timestamp, input_where) %}
    {#- Parquet tables have no DELETE: the emptied days' partitions are dropped. -#}
    {%- if execute -%}
        {%- set emptied = run_query(
            sros.emptied_days(date_column, input, input_timestamp, input_where)
        ) -%}
        {%- if emptied.rows | length > 0 -%}
            alter table {{ this }} drop if exists
            {%- for row in emptied.rows %}
                partition ({{ date_column }} = '{{ row[0] }}'){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
