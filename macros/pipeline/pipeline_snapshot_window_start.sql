{% macro pipeline_snapshot_window_start() %}
    {#- SQL expression: the first snapshot_date an incremental run of
        fct_pipeline_snapshots_daily rebuilds, the latest snapshot_date already in the table
        minus var pipeline_snapshot_lookback_days (default 7) days. On a full refresh or a
        first run it is a date before any opportunity, so every day is built. -#}
    {%- if is_incremental() %}
        (
            select
                coalesce(
                    cast(
                        {{ dbt.dateadd(
                            'day',
                            -1 * var('pipeline_snapshot_lookback_days', 7),
                            'max(snapshot_date)',
                        ) }} as date
                    ),
                    cast('1900-01-01' as date)
                )
            from {{ this }}
        )
    {%- else %}
        cast('1900-01-01' as date)
    {%- endif %}
{%- endmacro %}
