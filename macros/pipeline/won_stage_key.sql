{% macro won_stage_key() %}
    {#- The funnel_stages key of the closed-won stage, as a SQL string literal. The
        funnel_stages seed tells open from closed (stage_group) but not won from lost, so
        the won stage is named once, here (override with var won_stage_key). -#}
    {{ return("'" ~ var('won_stage_key', 'closed_won') ~ "'") }}
{%- endmacro %}
