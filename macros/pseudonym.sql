{% macro pseudonym(expression) %}
    {{ return(adapter.dispatch('pseudonym')(expression)) }}
{% endmacro %}

{# HMAC-SHA256(key, expression as UTF-8), 64 hex digits, from the key's pads (one row). #}

{% macro duckdb__pseudonym(expression) -%}
    sha256(
        (select pseudonym_key.outer_pad from {{ source('sros_private', 'pseudonym_key') }} as pseudonym_key)
        || unhex(sha256(
            (select pseudonym_key.inner_pad from {{ source('sros_private', 'pseudonym_key') }} as pseudonym_key)
            || encode({{ expression }})
        ))
    )
{%- endmacro %}

{% macro spark__pseudonym(expression) -%}
    sha2(
        concat(
            (select pseudonym_key.outer_pad from {{ source('sros_private', 'pseudonym_key') }} as pseudonym_key),
            unhex(sha2(
                concat(
                    (select pseudonym_key.inner_pad from {{ source('sros_private', 'pseudonym_key') }} as pseudonym_key),
                    encode({{ expression }}, 'UTF-8')
                ),
                256
            ))
        ),
        256
    )
{%- endmacro %}
