{% macro fivetran_active_rows(relation) -%}
    {#- The select of a staging model's import CTE: every row of a raw table, or, when the
        table is in Fivetran history mode (it has a _fivetran_active column), only the
        current version of each record. A history-mode table may come without
        _fivetran_deleted (Fivetran lets it be dropped: a deleted record is one without an
        active version); it is then added as null, so the staging filters on it still
        compile. The columns are read from the warehouse at compile time (DuckDB and Spark
        alike); at parse time, and for a unit test's input rows, it is a plain select. -#}
    {%- set column_names = [] -%}
    {%- if execute and not relation.is_cte -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do column_names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if '_fivetran_active' in column_names -%}
    select *
        {%- if '_fivetran_deleted' not in column_names %}, cast(null as boolean) as _fivetran_deleted
        {%- endif %}
    from {{ relation }}
    where coalesce(cast(_fivetran_active as boolean), true)
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
