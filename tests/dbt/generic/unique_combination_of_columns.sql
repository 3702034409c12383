{% test unique_combination_of_columns(model, combination_of_columns) %}
    {#- A composite key: no two rows share the same values in all these columns.
        Returns each duplicated key with the number of rows that carry it. -#}
    {%- set columns_csv = combination_of_columns | join(', ') %}

    select
        {{ columns_csv }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns_csv }}
    having count(*) > 1

{% endtest %}
