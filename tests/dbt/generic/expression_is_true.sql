{% test expression_is_true(model, expression) %}
    {#- Every row satisfies a boolean SQL expression over its columns; returns the rows that
        do not (a null result counts as a failure). -#}

    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)

{% endtest %}
