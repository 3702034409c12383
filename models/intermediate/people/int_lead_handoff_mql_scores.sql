-- The behavioural score of each handed-over lead at the moment of the handoff: the
-- score_points (touch_types seed) of every touch of the person up to and including
-- handed_at. Scores are 0-100, so the sum is capped at 100 as the CRM field is. Without
-- the marketing source there are no touches to score: the score is null.

with

int_lead_handoffs as (

    select * from {{ ref('int_lead_handoffs') }}

),

{% if var('marketing_enabled', true) %}
int_person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),

final as (

    select
        int_lead_handoffs.handoff_id,
        count(int_person_touchpoints.touchpoint_id) as touches_before_handoff,
        least(coalesce(sum(int_person_touchpoints.score_points), 0), 100)
            as mql_score_at_handoff
    from int_lead_handoffs
    left join int_person_touchpoints
        on
            int_lead_handoffs.person_id = int_person_touchpoints.person_id
            and int_lead_handoffs.handed_at >= int_person_touchpoints.occurred_at
    group by 1

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
