{% test row_count_matches_input(model, input, input_where='1 = 1') %}
    {#- The model has as many rows as its input (input_where filtering it), one row per input
        row. Returns one row with both counts and what to do when they differ. Written for
        the models rebuilt by whole days (macros changed_days and remove_emptied_days): it
        fails when their incremental runs left a row behind or lost one, which a full
        refresh repairs. -#}

    with

    counts as (

        select
            (select count(*) from {{ model }}) as model_rows,
            (select count(*) from {{ input }} where {{ input_where }}) as input_rows

    )

    select
        model_rows,
        input_rows,
        'the incremental table no longer matches its input: rebuild it with '
        || 'sros dbt build --full-refresh --select {{ model.identifier }}+' as what_to_do
    from counts
    where model_rows <> input_rows

{% endtest %}
