{% macro history_versions(source_name, table_name, created_column, soft_delete_columns=[]) -%}
    {#- The select of a history staging model's import CTE: every version of a record of
        raw <table_name>_history (ingestion keeps them with dlt's scd2, meta.history of the
        raw table; a deleted record's last version is closed there, so no row of it is a
        deletion). A schema a Fivetran connector maintains has no such table (SROS
        ingestion never wrote it): then each live record's current row of <table_name> is
        its one version, valid from its sync (else its creation, created_column). -#}
    {%- set history = source(source_name, table_name ~ '_history') -%}
    {%- set current = source(source_name, table_name) -%}
    {%- if not execute or history.is_cte or load_relation(history) is not none -%}
    {{ fivetran_active_rows(history, every_version=true) }}
    {%- else -%}
    select
        *,
        coalesce(_fivetran_synced, {{ created_column }}) as _sros_valid_from,
        cast(null as {{ dbt.type_timestamp() }}) as _sros_valid_to
    from ({{ fivetran_active_rows(current) }}) as current_rows
    where
        {% for column in soft_delete_columns -%}
        not coalesce({{ column }}, false) and
        {% endfor -%}
        not coalesce(_fivetran_deleted, false)
        and _sros_deleted_at is null
    {%- endif %}
{%- endmacro %}
