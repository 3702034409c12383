{{ config(enabled=var('marketing_enabled', true)) }}

-- The lead-creation touch of each person: the latest of the person's attribution touches at
-- or before the person's first CRM record was created (int_person_identities
-- .person_first_created_at). One row per person who has one. Kept apart from the touch fact
-- so that fct_marketing_touchpoints (which flags the touch) and fct_attribution_touches
-- (which weights it) both read it and build side by side.

with

person_touchpoints as (

    select * from {{ ref('int_person_touchpoints') }}

),

persons as (

    select distinct
        person_id,
        person_first_created_at
    from {{ ref('int_person_identities') }}

),

touches_before_creation as (

    -- ranked among the attribution touches before creation only: a window over every touch
    -- would sort the millions of anonymous ones as one partition
    select
        person_touchpoints.person_id,
        person_touchpoints.touchpoint_id,
        row_number() over (
            partition by person_touchpoints.person_id
            order by person_touchpoints.occurred_at desc, person_touchpoints.touchpoint_id desc
        ) as creation_recency
    from person_touchpoints
    inner join persons
        on person_touchpoints.person_id = persons.person_id
    where
        person_touchpoints.is_attribution_touch
        and person_touchpoints.occurred_at <= persons.person_first_created_at

),

final as (

    select
        person_id,
        touchpoint_id
    from touches_before_creation
    where creation_recency = 1

)

select * from final
