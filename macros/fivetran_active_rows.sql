{% macro fivetran_active_rows(relation, every_version=false) -%}
    {#- The select of a staging model's import CTE: every row of a raw table, or, when the
        table is in Fivetran history mode (it has a _fivetran_active column), only the
        current version of each record. The bookkeeping columns the staging filters read
        are added as null when the table lacks them: _fivetran_deleted (Fivetran lets a
        history-mode table drop it: a deleted record is one without an active version) and
        _sros_deleted_at (set only by SROS ingestion: a schema a Fivetran connector
        maintains has none). every_version=true keeps the inactive versions too (a table
        whose versions are its history). The columns are read from the warehouse at compile time
        (DuckDB and Spark alike); at parse time, and for a unit test's input rows, it is a
        plain select. -#}
    {%- set column_names = [] -%}
    {%- if execute and not relation.is_cte -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do column_names.append(column.name | lower) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set added = [] -%}
    {%- if column_names and '_fivetran_deleted' not in column_names -%}
        {%- do added.append('cast(null as boolean) as _fivetran_deleted') -%}
    {%- endif -%}
    {%- if column_names and '_sros_deleted_at' not in column_names -%}
        {%- do added.append('cast(null as ' ~ dbt.type_timestamp() ~ ') as _sros_deleted_at') -%}
    {%- endif -%}
    select *{% for expression in added %}, {{ expression }}{% endfor %}
    from {{ relation }}
    {%- if '_fivetran_active' in column_names and not every_version %}
    where coalesce(cast(_fivetran_active as boolean), true)
    {%- endif -%}
{%- endmacro %}
