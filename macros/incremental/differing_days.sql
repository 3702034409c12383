{% macro differing_days(current_rows, date_column, columns=none) %}
    {#- SQL query: the dates (column changed_date) an incremental run rebuilds whole, those
        whose rows now (current_rows: the model's final rows, every date) differ from the
        rows of the table ({{ this }}) in any column: a row new, gone, moved or changed.
        Per date, each side's row count and the bit_xor of a 64-bit hash of every column of
        each row (the table's columns, read from the database), compared with one join on
        the date: two aggregations and no row-by-row join, which at 7.7M rows costs a
        fraction of writing them again. The columns must hold a unique key, so no two rows
        of a date are equal (equal rows would cancel out). columns, when given, are the
        ones compared instead of every column (both sides must have them): a row hash
        computed upstream (macro row_hash) stands for the row. Cross-database (hash64). -#}
    {%- if columns is none -%}
        {%- set columns = [] -%}
        {%- for column in adapter.get_columns_in_relation(this) -%}
            {%- do columns.append(adapter.quote(column.name)) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ sros.days_differing(
        sros.day_hashes(current_rows, date_column, columns),
        sros.day_hashes(this, date_column, columns),
    ) }}
{%- endmacro %}

{% macro day_hashes(rows, date_column, columns) %}
    {#- SQL query: per date of rows (column day), the row count (rows_count) and the bit_xor
        of each row's hash of columns (rows_hash, macro row_hash). Two sets of rows with the
        same count and hash on a date hold, but for a 2^-64 chance, the same rows. -#}
    select
        {{ date_column }} as day,
        count(*) as rows_count,
        bit_xor({{ sros.row_hash(columns) }}) as rows_hash
    from {{ rows }}
    group by {{ date_column }}
{%- endmacro %}

{% macro days_differing(current_days, loaded_days) %}
    {#- SQL query: the dates (column changed_date) whose count or hash differ between two
        queries of day_hashes (the rows now, the table's), or that only one of them has. -#}
    select coalesce(current_days.day, loaded_days.day) as changed_date
    from
    {%- for side, days in [('current_days', current_days), ('loaded_days', loaded_days)] %}
        {{ 'full outer join' if not loop.first }} (
            {{ days }}
        ) as {{ side }}
    {%- endfor %}
        on current_days.day = loaded_days.day
    where
        current_days.day is null
        or loaded_days.day is null
        or current_days.rows_count <> loaded_days.rows_count
        or current_days.rows_hash <> loaded_days.rows_hash
{%- endmacro %}
