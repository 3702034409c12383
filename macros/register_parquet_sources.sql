{% macro register_parquet_sources(root) %}
    {#- run-operation (Spark): register every enabled source table as a table over its
        Parquet folder, <root>/<schema>/<table>/ (sros.spark writes them from the ingested
        raw schemas). Dropped and created again each time, so a new column of a raw table
        is seen; the files stay where they are (the tables are external). -#}
    {%- if target.type != 'spark' -%}
        {{ exceptions.raise_compiler_error(
            "register_parquet_sources is for the spark target; this is " ~ target.type
        ) }}
    {%- endif -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() | sort(attribute='unique_id') -%}
        {%- if source.schema not in schemas -%}
            {%- do run_query('create schema if not exists ' ~ adapter.quote(source.schema)) -%}
            {%- do schemas.append(source.schema) -%}
        {%- endif -%}
        {%- set relation = adapter.quote(source.schema) ~ '.' ~ adapter.quote(source.identifier) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- do run_query(
            'create table ' ~ relation ~ " using parquet location '"
            ~ root ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ "'"
        ) -%}
    {%- endfor -%}
    {{ log('registered ' ~ graph.sources | length ~ ' source tables over ' ~ root, info=true) }}
{% endmacro %}
