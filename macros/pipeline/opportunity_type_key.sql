{% macro opportunity_type_key(source_system, column_name) %}
    {#- SQL expression mapping a CRM opportunity type picklist value (Salesforce Type,
        HubSpot dealtype) to new_business / expansion / renewal; null when unmapped (the
        opportunity_type not_null test then names the gap). The mapping lives here, in one
        place, until it moves to a seed. -#}
    {%- set mappings = {
        'salesforce': {
            'New Business': 'new_business',
            'Expansion': 'expansion',
            'Renewal': 'renewal',
        },
        'hubspot': {
            'newbusiness': 'new_business',
            'existingbusiness': 'expansion',
            'renewal': 'renewal',
        },
    } %}
    {%- if source_system not in mappings %}
        {{ exceptions.raise_compiler_error(
            "opportunity_type_key: no opportunity type mapping for source system '"
            ~ source_system ~ "' (known: " ~ (mappings.keys() | list | join(', '))
            ~ "); add it to macros/pipeline/opportunity_type_key.sql"
        ) }}
    {%- endif %}
    case {{ column_name }}
        {%- for crm_value, type_key in mappings[source_system].items() %}
        when '{{ crm_value }}' then '{{ type_key }}'
        {%- endfor %}
    end
{%- endmacro %}
