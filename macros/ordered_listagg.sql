{% macro ordered_listagg(measure, delimiter_text, order_by) -%}
    {#- Aggregate: the values of measure joined by delimiter_text (a SQL string literal), in
        the order of the expressions in order_by (a list), then of the value itself; nulls
        are left out. dbt.listagg's order_by is ignored on Spark, so a list whose order
        carries meaning (stages in funnel order) goes through this macro. -#}
    {{ return(adapter.dispatch('ordered_listagg', 'sros')(measure, delimiter_text, order_by)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, order_by) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ (order_by + [measure]) | join(', ')) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter_text, order_by) -%}
    {#- collect_list keeps no order: collect (order keys..., value) structs, sort them (a
        struct sorts by its fields in turn), keep the values. Each key is preceded by
        whether it is null, so null keys sort last, as DuckDB sorts them (Spark sorts a null
        field first). A group with no value gives null, as DuckDB's string_agg does
        (array_join of no element gives ''). -#}
    case when count({{ measure }}) > 0 then array_join(
        transform(
            array_sort(collect_list(
                case when ({{ measure }}) is not null then struct(
                    {%- for expression in order_by %}
                    ({{ expression }}) is null as n{{ loop.index }},
                    {{ expression }} as k{{ loop.index }},
                    {%- endfor %}
                    {{ measure }} as v
                ) end
            )),
            entry -> entry.v
        ),
        {{ delimiter_text }}
    ) end
{%- endmacro %}
