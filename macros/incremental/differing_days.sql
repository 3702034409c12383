{% macro differing_days(current_rows, date_column) %}
    {#- SQL query: the dates (column changed_date) an incremental run rebuilds whole, those
        whose rows now (current_rows: the model's final rows, every date) differ from the
        rows of the table ({{ this }}) in any column: a row new, gone, moved or changed.
        Per date, each side's row count and the bit_xor of a 64-bit hash of every column of
        each row (the table's columns, read from the database), compared with one join on
        the date: two aggregations and no row-by-row join, which at 7.7M rows costs a
        fraction of writing them again. The columns must hold a unique key, so no two rows
        of a date are equal (equal rows would cancel out). Cross-database (hash64). -#}
    {%- set columns = [] -%}
    {%- for column in adapter.get_columns_in_relation(this) -%}
        {%- set quoted = adapter.quote(column.name) -%}
        {#- with each value its is-null flag: Spark's xxhash64 skips a null, so without
            it (null, 'x') and ('x', null) would hash alike -#}
        {%- do columns.extend([quoted, quoted ~ ' is null']) -%}
    {%- endfor %}
    {%- set row_hash = sros.hash64(columns | join(', ')) %}
    select coalesce(current_days.day, loaded_days.day) as changed_date
    from
    {%- for side, rows in [('current_days', current_rows), ('loaded_days', this)] %}
        {{ 'full outer join' if not loop.first }} (
            select
                {{ date_column }} as day,
                count(*) as rows_count,
                bit_xor({{ row_hash }}) as rows_hash
            from {{ rows }}
            group by {{ date_column }}
        ) as {{ side }}
    {%- endfor %}
        on current_days.day = loaded_days.day
    where
        current_days.day is null
        or loaded_days.day is null
        or current_days.rows_count <> loaded_days.rows_count
        or current_days.rows_hash <> loaded_days.rows_hash
{%- endmacro %}
