{% macro changed_days(current_rows, loaded_rows, key, timestamp_column, version_column) %}
    {#- SQL query: the dates (column changed_date) an incremental run rebuilds whole, those
        holding a row that is new, gone, moved to another date or delivered again since the
        table was built: each such row's date in the input and its date in the table (null
        when it is on one side only). current_rows is the model's input (a CTE or relation
        with key, timestamp_column and version_column), loaded_rows the rows already in the
        table. version_column names the delivery a row came from (the landing file, the sync
        time): a row delivered again, changed or not, has its date rebuilt. -#}
    select distinct
        case
            when sides.side = 'current' then changed_rows.current_date_of_row
            else changed_rows.loaded_date_of_row
        end as changed_date
    from (
        select
            cast(current_rows.{{ timestamp_column }} as date) as current_date_of_row,
            cast(loaded_rows.{{ timestamp_column }} as date) as loaded_date_of_row
        from {{ current_rows }} as current_rows
        full outer join {{ loaded_rows }} as loaded_rows
            on current_rows.{{ key }} = loaded_rows.{{ key }}
        where
            current_rows.{{ key }} is null
            or loaded_rows.{{ key }} is null
            or current_rows.{{ timestamp_column }} <> loaded_rows.{{ timestamp_column }}
            or current_rows.{{ version_column }} <> loaded_rows.{{ version_column }}
    ) as changed_rows
    -- one date per side of the row: the day it is on now, the day it was on when built
    cross join (
        select 'current' as side
        union all
        select 'loaded' as side
    ) as sides
{%- endmacro %}
