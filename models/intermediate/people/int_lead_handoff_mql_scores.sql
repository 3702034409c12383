-- The behavioural score of each handed-over lead at the moment of the handoff: the
-- score_points (touch_types seed) of every touch of the person up to and including
-- handed_at, capped at the top of the score scale (mql_rules.max_score of the rule in force
-- at the handoff) as the CRM score field is. Without the marketing source there are no
-- touches to score: the score is null.

with

int_lead_handoffs as (

    select * from {{ ref('int_lead_handoffs') }}

),

{% if var('marketing_enabled', true) %}
int_person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),

mql_rules as (

    select * from {{ ref('mql_rules') }}

),

scored as (

    select
        int_lead_handoffs.handoff_id,
        int_lead_handoffs.handed_at,
        count(int_person_touchpoints.touchpoint_id) as touches_before_handoff,
        coalesce(sum(int_person_touchpoints.score_points), 0) as score_points
    from int_lead_handoffs
    left join int_person_touchpoints
        on
            int_lead_handoffs.person_id = int_person_touchpoints.person_id
            and int_lead_handoffs.handed_at >= int_person_touchpoints.occurred_at
    group by 1, 2

),

final as (

    select
        scored.handoff_id,
        scored.touches_before_handoff,
        least(scored.score_points, mql_rules.max_score) as mql_score_at_handoff
    from scored
    left join mql_rules
        on
            scored.handed_at >= mql_rules.valid_from
            and scored.handed_at < mql_rules.valid_to

)
{% else %}
final as (

    select
        handoff_id,
        cast(null as bigint) as touches_before_handoff,
        cast(null as double) as mql_score_at_handoff
    from int_lead_handoffs

)
{% endif %}

select * from final
