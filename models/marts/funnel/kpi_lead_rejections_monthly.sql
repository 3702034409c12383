-- The rejection loop per month of disposition: dispositioned, accepted, rejected (recycled
-- or disqualified) handoffs and the rejection rate, by source, channel, segment and rep.
-- The SQL is shared with kpi_lead_rejections_weekly (macros/kpi/lead_rejections_by_period).

{{ lead_rejections_by_period('month') }}
