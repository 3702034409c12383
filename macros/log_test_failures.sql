{% macro log_test_failures(results) %}
    {#- on-run-end: for every failed or warned test, print up to 10 failing rows so the console
        and the orchestrator's logs name the offending values, not just their count. A test
        that stores its failures (the singular tests in tests/dbt) is read from its table, its
        `problem` column when it has one. Any other (the generic tests: accepted_values,
        relationships, unique, unique_combination_of_columns) runs its own failing-rows query
        again, limited, and each row is printed as column=value: the unmapped value, the id
        with no parent, the duplicated key, every column of a row that breaks an
        expression_is_true. dbt names the tested column value_field, from_field or
        unique_field in those queries; it is printed under its own name. Rows with nothing to
        show (not_null's null, a constant column named 1) are left out: the test's name and
        count say it all. Nothing runs when every test passes. -#}
    {%- if execute -%}
        {%- for result in results
            if result.status in ('fail', 'warn') and result.node.resource_type == 'test' -%}
            {%- if result.node.relation_name -%}
                {%- set rows = run_query(
                    'select * from ' ~ result.node.relation_name ~ ' limit 10'
                ) -%}
            {%- elif result.node.compiled_code -%}
                {%- set rows = run_query(
                    'select distinct * from (\n' ~ result.node.compiled_code
                    ~ '\n) as failing_rows limit 10'
                ) -%}
            {%- else -%}
                {%- set rows = none -%}
            {%- endif -%}
            {%- for row in (rows or []) -%}
                {%- if 'problem' in rows.column_names -%}
                    {%- set text = row['problem'] -%}
                {%- elif result.node.relation_name -%}
                    {%- set text = row.values() | join(' | ') -%}
                {%- else -%}
                    {%- set pairs = [] -%}
                    {%- for name in rows.column_names
                        if row[name] is not none and name != '1' -%}
                        {%- set label = result.node.column_name
                            if name in ('value_field', 'from_field', 'unique_field')
                            and result.node.column_name else name -%}
                        {%- do pairs.append(label ~ '=' ~ row[name]) -%}
                    {%- endfor -%}
                    {%- set text = pairs | join(', ') -%}
                {%- endif -%}
                {%- if text -%}
                    {{ log(result.node.name ~ ': ' ~ text, info=true) }}
                {%- endif -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
{% endmacro %}
