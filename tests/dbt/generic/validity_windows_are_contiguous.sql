{% test validity_windows_are_contiguous(
    model, partition_by=[], valid_from='valid_from', valid_to='valid_to'
) %}
    {#- Effective-dated definitions: within each partition the windows [valid_from, valid_to)
        neither overlap nor leave a gap, so exactly one version is in force on any day from
        the first valid_from on. Returns each offending pair of consecutive versions with a
        readable `problem`. -#}
    {%- set string_type = dbt.type_string() %}
    {%- set window = "over (" ~ (
        "partition by " ~ partition_by | join(", ") ~ " " if partition_by else ""
    ) ~ "order by " ~ valid_from ~ ")" %}
    {%- set partition_label = [] %}
    {%- for column in partition_by %}
        {%- do partition_label.extend(["'" ~ column ~ " '", "cast(" ~ column ~ " as "
            ~ string_type ~ ")", "' '"]) %}
    {%- endfor %}

    with

    windows as (

        select
            *,
            lead({{ valid_from }}) {{ window }} as next_valid_from
        from {{ model }}

    ),

    offending as (

        select
            *,
            case
                when next_valid_from < {{ valid_to }} then 'overlaps'
                else 'leaves a gap before'
            end as issue
        from windows
        where next_valid_from != {{ valid_to }}

    )

    select
        *,
        {{ dbt.concat(
            ["'" ~ model.identifier ~ " '"]
            + partition_label
            + [
                "'['", "cast(" ~ valid_from ~ " as " ~ string_type ~ ")", "', '",
                "cast(" ~ valid_to ~ " as " ~ string_type ~ ")", "') '", "issue",
                "' the version starting '", "cast(next_valid_from as " ~ string_type ~ ")",
            ]
        ) }} as problem
    from offending

{% endtest %}
