{% macro business_seconds_overlap(span_start, span_end, interval_start, interval_end) %}
    {#- Seconds of overlap between [span_start, span_end] and one open interval (0 when they
        do not meet). Summed over a region's business intervals it gives business time. -#}
    case
        when {{ span_end }} > {{ interval_start }} and {{ span_start }} < {{ interval_end }}
            then {{ dbt.datediff(
                "case when " ~ span_start ~ " > " ~ interval_start ~ " then " ~ span_start
                ~ " else " ~ interval_start ~ " end",
                "case when " ~ span_end ~ " < " ~ interval_end ~ " then " ~ span_end
                ~ " else " ~ interval_end ~ " end",
                "second",
            ) }}
        else 0
    end
{% endmacro %}
