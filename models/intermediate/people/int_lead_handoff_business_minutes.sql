-- Business minutes of each handoff on its owner's regional calendar: the sum of the overlap
-- of [handed_at, first touch] (or [handed_at, end of the as-of day] while untouched) with
-- the region's business intervals in UTC. Exact across nights, weekends, holidays and DST.

with

int_lead_handoffs as (

    select * from {{ ref('int_lead_handoffs') }}

),

int_business_intervals as (

    select * from {{ ref('int_business_intervals') }}

),

int_as_of_date as (

    select * from {{ ref('int_as_of_date') }}

),

spans as (

    select
        int_lead_handoffs.handoff_id,
        int_lead_handoffs.owner_region,
        int_lead_handoffs.handed_at,
        int_lead_handoffs.first_touch_at,
        coalesce(int_lead_handoffs.first_touch_at, int_as_of_date.as_of_end_at) as span_end_at
    from int_lead_handoffs
    cross join int_as_of_date

),

interval_overlaps as (

    select
        spans.handoff_id,
        sum(
            {{ business_seconds_overlap(
                'spans.handed_at', 'spans.span_end_at',
                'int_business_intervals.opens_at', 'int_business_intervals.closes_at',
            ) }}
        ) as business_seconds
    from spans
    inner join int_business_intervals
        on
            spans.owner_region = int_business_intervals.region
            and spans.handed_at < int_business_intervals.closes_at
            and spans.span_end_at > int_business_intervals.opens_at
    group by 1

),

final as (

    select
        spans.handoff_id,
        spans.owner_region,
        spans.handed_at,
        spans.first_touch_at,
        spans.span_end_at,
        case
            when spans.owner_region is not null
                then {{ divide('coalesce(interval_overlaps.business_seconds, 0)', '60') }}
        end as business_minutes_elapsed,
        case
            when spans.owner_region is not null and spans.first_touch_at is not null
                then {{ divide('coalesce(interval_overlaps.business_seconds, 0)', '60') }}
        end as business_minutes_to_first_touch
    from spans
    left join interval_overlaps
        on spans.handoff_id = interval_overlaps.handoff_id

)

select * from final
