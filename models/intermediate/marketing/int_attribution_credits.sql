{{ config(enabled=var('marketing_enabled', true)) }}

-- The credit of each touch on each attribution path, and the money it is credited with: one
-- row per opportunity x touch of its path x attribution model (attribution_models seed),
-- plus one unattributed row (credit 1) for an opportunity and model whose path carries no
-- credit. Only keys and what the credit needs; fct_attribution_touches joins the
-- opportunity's and the touch's columns on. Kept apart from the fact so that join reads
-- tables whose sizes DuckDB knows (in one query it built its hash tables on the side of
-- millions of rows), and so the rows the group-bys below join back are narrow. Equi-joins
-- only: the window bounds are filters after the hash joins on opportunity and person.

with

opportunities as (

    -- the opportunity's stage and converted amount as fct_opportunities publishes them
    select * from {{ ref('int_opportunities_converted') }}

),

attribution_models as (

    select * from {{ ref('attribution_models') }}

),

opportunity_persons as (

    select * from {{ ref('int_opportunity_persons') }}

),

person_touchpoints as (

    -- the touches of fct_marketing_touchpoints, read from where that fact reads them, so the
    -- two heavy models build side by side
    select * from {{ ref('int_person_touchpoints') }}

),

lead_creation_touches as (

    select * from {{ ref('int_lead_creation_touches') }}

),

opportunity_models as (

    -- the model versions in force on the day the opportunity was created
    select
        opportunities.source_system,
        opportunities.opportunity_id,
        opportunities.created_at,
        opportunities.created_date,
        opportunities.closed_date,
        opportunities.amount_corporate,
        attribution_models.attribution_model,
        attribution_models.weighting,
        attribution_models.lookback_days,
        attribution_models.half_life_days,
        attribution_models.counts_touches_until_won and opportunities.is_won
            as counts_touches_until_won,
        attribution_models.first_touch_weight,
        attribution_models.lead_creation_weight,
        attribution_models.opportunity_creation_weight,
        attribution_models.closed_won_weight,
        attribution_models.other_touches_weight,
        {{ dbt.dateadd(
            'day', '-1 * attribution_models.lookback_days', 'opportunities.created_date'
        ) }} as path_start_date
    from opportunities
    cross join attribution_models
    where
        opportunities.created_date >= attribution_models.valid_from
        and opportunities.created_date < attribution_models.valid_to

),

opportunity_touches as (

    -- every attribution touch of the opportunity's persons, numbered in time order (ties
    -- broken by touchpoint_id). A model's path is a time range of these touches, so its
    -- touches have consecutive numbers: one ordered window per opportunity serves every
    -- model (a window per opportunity and model sorted six times as many rows)
    select
        opportunity_persons.source_system,
        opportunity_persons.opportunity_id,
        person_touchpoints.touchpoint_id,
        person_touchpoints.occurred_at,
        person_touchpoints.occurred_date,
        lead_creation_touches.touchpoint_id is not null
        and opportunity_persons.is_originating_person as is_lead_creation_touch,
        row_number() over (
            partition by opportunity_persons.source_system, opportunity_persons.opportunity_id
            order by person_touchpoints.occurred_at, person_touchpoints.touchpoint_id
        ) as opportunity_touch_number
    from opportunity_persons
    inner join person_touchpoints
        on opportunity_persons.person_id = person_touchpoints.person_id
    left join lead_creation_touches
        on person_touchpoints.touchpoint_id = lead_creation_touches.touchpoint_id
    where person_touchpoints.is_attribution_touch

),

paths as (

    -- a model's path: touches from the lookback start to the opportunity's creation, and
    -- for a model counting touches until won, on to the close date of a won opportunity
    select
        opportunity_models.source_system,
        opportunity_models.opportunity_id,
        opportunity_models.attribution_model,
        opportunity_models.weighting,
        opportunity_models.half_life_days,
        opportunity_models.counts_touches_until_won,
        opportunity_models.first_touch_weight,
        opportunity_models.lead_creation_weight,
        opportunity_models.opportunity_creation_weight,
        opportunity_models.closed_won_weight,
        opportunity_models.other_touches_weight,
        opportunity_models.amount_corporate,
        opportunity_touches.touchpoint_id,
        opportunity_touches.opportunity_touch_number,
        opportunity_touches.is_lead_creation_touch,
        opportunity_touches.occurred_at <= opportunity_models.created_at as is_before_creation,
        {{ dbt.datediff(
            'opportunity_touches.occurred_date', 'opportunity_models.created_date', 'day'
        ) }} as touch_age_days
    from opportunity_models
    inner join opportunity_touches
        on
            opportunity_models.source_system = opportunity_touches.source_system
            and opportunity_models.opportunity_id = opportunity_touches.opportunity_id
    where
        opportunity_touches.occurred_date >= opportunity_models.path_start_date
        and (
            opportunity_touches.occurred_at <= opportunity_models.created_at
            or (
                opportunity_models.counts_touches_until_won
                and opportunity_touches.occurred_date <= opportunity_models.closed_date
            )
        )

),

path_bounds as (

    -- the numbers of the path's first and last touch, and how many are before creation
    select
        source_system,
        opportunity_id,
        attribution_model,
        min(opportunity_touch_number) as first_touch_number,
        max(opportunity_touch_number) as last_touch_number,
        sum(case when is_before_creation then 1 else 0 end) as touches_before_creation_count
    from paths
    group by 1, 2, 3

),

path_positions as (

    -- the touch's place in its path. The touches before creation are a prefix of the path,
    -- so the latest of them is the one numbered as many as they are.
    select
        paths.*,
        paths.opportunity_touch_number - path_bounds.first_touch_number + 1
            as path_touch_number,
        path_bounds.last_touch_number - path_bounds.first_touch_number + 1
            as path_touches_count,
        path_bounds.touches_before_creation_count
    from paths
    inner join path_bounds
        on
            paths.source_system = path_bounds.source_system
            and paths.opportunity_id = path_bounds.opportunity_id
            and paths.attribution_model = path_bounds.attribution_model

),

position_flags as (

    select
        *,
        path_touch_number = 1 as is_first_touch,
        is_before_creation and path_touch_number = touches_before_creation_count
            as is_opportunity_creation_touch,
        counts_touches_until_won and path_touch_number = path_touches_count
            as is_closed_won_touch
    from path_positions

),

position_weights as (

    -- a touch holding several positions gets the sum of their weights
    select
        *,
        (case when is_first_touch then first_touch_weight else 0 end)
        + (case when is_lead_creation_touch then lead_creation_weight else 0 end)
        + (
            case when is_opportunity_creation_touch then opportunity_creation_weight else 0 end
        )
        + (case when is_closed_won_touch then closed_won_weight else 0 end)
            as position_weight
    from position_flags

),

path_other_touches as (

    -- per path, the touches holding no position (an aggregate joined back: a second window
    -- over the same partition cost more at 1M leads)
    select
        source_system,
        opportunity_id,
        attribution_model,
        sum(case when position_weight > 0 then 0 else 1 end) as other_touches_count
    from position_weights
    group by 1, 2, 3

),

other_touches as (

    select
        position_weights.*,
        path_other_touches.other_touches_count
    from position_weights
    inner join path_other_touches
        on
            position_weights.source_system = path_other_touches.source_system
            and position_weights.opportunity_id = path_other_touches.opportunity_id
            and position_weights.attribution_model = path_other_touches.attribution_model

),

raw_weights as (

    select
        *,
        -- decimal, so the sum per path below is exact and the same on every run and
        -- engine (a sum of doubles depends on the order the rows arrive in)
        cast(
            case
                when weighting = 'time_decay'
                    then power(2, -1.0 * touch_age_days / half_life_days)
                when position_weight > 0 then position_weight
                else other_touches_weight / other_touches_count
            end as decimal(38, 18)
        ) as exact_raw_weight
    from other_touches

),

credited_paths as (

    select
        source_system,
        opportunity_id,
        attribution_model,
        -- the exact sum, as a double once per path (a 128-bit decimal to double costs)
        cast(sum(exact_raw_weight) as double) as path_weight,
        count(*) as path_touches_count
    from raw_weights
    group by 1, 2, 3

),

normalised as (

    -- weights scale to 1 per opportunity and model: where positions coincide or a position
    -- or the other touches are missing, the remaining weights share the whole credit in
    -- proportion
    select
        raw_weights.*,
        cast(raw_weights.exact_raw_weight as double) as raw_weight,
        credited_paths.path_weight
    from raw_weights
    inner join credited_paths
        on
            raw_weights.source_system = credited_paths.source_system
            and raw_weights.opportunity_id = credited_paths.opportunity_id
            and raw_weights.attribution_model = credited_paths.attribution_model

),

touch_credits as (

    select
        source_system,
        opportunity_id,
        attribution_model,
        weighting,
        touchpoint_id,
        false as is_unattributed,
        path_touch_number,
        path_touches_count,
        is_first_touch,
        is_lead_creation_touch,
        is_opportunity_creation_touch,
        is_closed_won_touch,
        touch_age_days,
        raw_weight,
        case
            when path_weight > 0
                then raw_weight / path_weight
            else 0
        end as credit,
        amount_corporate
    from normalised

),

unattributed as (

    -- no touch in the path, or none holding any of the model's weight
    select
        opportunity_models.source_system,
        opportunity_models.opportunity_id,
        opportunity_models.attribution_model,
        opportunity_models.weighting,
        cast(null as {{ dbt.type_string() }}) as touchpoint_id,
        true as is_unattributed,
        cast(null as bigint) as path_touch_number,
        coalesce(credited_paths.path_touches_count, 0) as path_touches_count,
        false as is_first_touch,
        false as is_lead_creation_touch,
        false as is_opportunity_creation_touch,
        false as is_closed_won_touch,
        cast(null as bigint) as touch_age_days,
        cast(null as double) as raw_weight,
        1.0 as credit,
        opportunity_models.amount_corporate
    from opportunity_models
    left join credited_paths
        on
            opportunity_models.source_system = credited_paths.source_system
            and opportunity_models.opportunity_id = credited_paths.opportunity_id
            and opportunity_models.attribution_model = credited_paths.attribution_model
    where coalesce(credited_paths.path_weight, 0) = 0

),

unioned as (

    select * from touch_credits

    union all

    select * from unattributed

),

final as (

    select
        source_system,
        opportunity_id,
        attribution_model,
        weighting,
        touchpoint_id,
        is_unattributed,
        cast(path_touch_number as integer) as path_touch_number,
        cast(path_touches_count as integer) as path_touches_count,
        is_first_touch,
        is_lead_creation_touch,
        is_opportunity_creation_touch,
        is_closed_won_touch,
        cast(touch_age_days as integer) as touch_age_days,
        cast(raw_weight as double) as raw_weight,
        cast(credit as double) as credit,
        amount_corporate,
        -- the credit as an exact decimal first, as kpi_attribution_monthly sums it: the same
        -- cents on every engine (a double times money rounds differently on DuckDB and Spark)
        {{ credited_money('credit', 'amount_corporate') }} as attributed_amount_corporate
    from unioned

)

select * from final
