{#- The file of a mapping seed that dbt reads: the seed path SROS_MAPPINGS_DIR (the
    installation's copy, $SROS_HOME/mappings, once `sros mappings` made it) or the
    repository's mappings/, as an absolute path where sros runs dbt (SROS_MAPPINGS_FILE_DIR,
    sros/paths.py: the seed path itself is relative to the project). The unmapped-value tests
    name it, so the failure says which file to edit. -#}
{% macro mapping_seed_file(seed_name) -%}
{{ env_var('SROS_MAPPINGS_FILE_DIR', env_var('SROS_MAPPINGS_DIR', 'mappings')) }}/{{ seed_name }}.csv
{%- endmacro %}
