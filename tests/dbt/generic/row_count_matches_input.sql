{% test row_count_matches_input(model, input, input_where='1 = 1') %}
    {#- The model has as many rows as its input (input_where filtering it), one row per input
        row. Returns one row with both counts and what to do when they differ. Written for
        the models rebuilt by whole days (macro changed_days): a day whose every row has gone
        since the table was built gives no new rows to replace it with, so its old rows stay,
        and only a full refresh removes them. -#}

    with

    counts as (

        select
            (select count(*) from {{ model }}) as model_rows,
            (select count(*) from {{ input }} where {{ input_where }}) as input_rows

    )

    select
        model_rows,
        input_rows,
        'rows of a day whose every row is gone since the table was built: rebuild it with '
        || 'sros dbt build --full-refresh --select {{ model.identifier }}+' as what_to_do
    from counts
    where model_rows <> input_rows

{% endtest %}
