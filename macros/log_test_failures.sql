{% macro log_test_failures(results) %}
    {#- on-run-end: for every failed or warned test that stores its failures, print up to 10
        failing rows (their `problem` column when there is one) so the console and the
        orchestrator's logs name the offending values, not just their count. -#}
    {%- if execute -%}
        {%- for result in results
            if result.status in ('fail', 'warn')
            and result.node.resource_type == 'test'
            and result.node.relation_name -%}
            {%- set rows = run_query(
                'select * from ' ~ result.node.relation_name ~ ' limit 10'
            ) -%}
            {%- for row in rows -%}
                {%- if 'problem' in rows.column_names -%}
                    {%- set text = row['problem'] -%}
                {%- else -%}
                    {%- set text = row.values() | join(' | ') -%}
                {%- endif -%}
                {{ log(result.node.name ~ ': ' ~ text, info=true) }}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
