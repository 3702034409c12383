{#- The file of a mapping seed that dbt reads: the seed path SROS_MAPPINGS_DIR (the
    installation's copy, $SROS_HOME/mappings, once `sros mappings` made it) or the
    repository's mappings/. The unmapped-value tests name it, so the failure says which file
    to edit. -#}
{% macro mapping_seed_file(seed_name) -%}
{{ env_var('SROS_MAPPINGS_DIR', 'mappings') }}/{{ seed_name }}.csv
{%- endmacro %}
