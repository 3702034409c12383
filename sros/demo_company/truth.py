"""ground_truth.json: the parameters the company was generated with and the rates it actually
realised, computed from the generated (clean) records as of the export time.

Each block carries a `definitions` entry saying exactly how its numbers are computed, so a test
can rebuild them from the marts. Ratios are ratios of sums.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import numpy as np

from sros.demo_company import handoffs as handoff_model
from sros.demo_company import signals
from sros.demo_company.arrays import DAY, epoch_day
from sros.demo_company.config import DemoConfig
from sros.demo_company.dirty import Export
from sros.demo_company.hubspot import DEAL_ID_OFFSET
from sros.demo_company.marketing import AD_PLATFORMS, Campaigns, TouchRows, campaign_id
from sros.demo_company.opportunities import OPPORTUNITY_TYPES
from sros.demo_company.population import CURRENCIES
from sros.demo_company.rates import month_starts, monthly_rates, rate_lookup
from sros.demo_company.revenue import Subscriptions
from sros.demo_company.seeds import campaign_experiment_window_days
from sros.demo_company.users import SALESFORCE
from sros.demo_company.world import World
from sros.paths import REPO_MAPPINGS_DIR, SEEDS_DIR


def _rate(numerator: float, denominator: float) -> float | None:
    return round(float(numerator) / float(denominator), 6) if denominator else None


def _breach_weeks(
    world: World,
    seen: np.ndarray,
    touched: np.ndarray,
    target: np.ndarray,
    window: np.ndarray,
    disposed: np.ndarray,
    rejected: np.ndarray,
) -> list[dict]:
    """Per ISO week of the handoff, each lead's latest handoff only: the breaches of each side
    of the lead contract (see the `breach_weeks` definition)."""
    h = world.handoffs
    reps = world.org.reps
    assert reps is not None
    as_of_end = epoch_day(world.config.end_date + timedelta(days=1)) * DAY
    # a lead's latest handoff: no later one of the same lead by the export
    later = np.zeros(len(h.lead), bool)
    order = np.lexsort((h.time, h.lead))
    same = (h.lead[order][1:] == h.lead[order][:-1]) & seen[order][1:]
    later[order[:-1][same]] = True
    latest = seen & ~later
    elapsed = world.calendars.minutes_between(
        reps.region[h.owner], h.time, np.full(len(h.time), as_of_end)
    )
    response = np.where(touched, h.first_touch_minutes, elapsed) > target
    closed = h.time + window <= as_of_end
    disposition = closed & ~(disposed & (h.disposition_time - h.time <= window))
    quality = np.array([*_quality_reasons(world), False])  # reason -1 (accepted): none
    marketing = rejected & quality[h.reason]
    week = signals.week_index(h.time)
    out = []
    for k in np.unique(week[latest]).tolist():
        rows = latest & (week == k)
        out.append(
            {
                "week_start": signals.week_start(k).isoformat(),
                "handoffs": int(rows.sum()),
                "response_breaches": int((rows & response).sum()),
                "disposition_breaches": int((rows & disposition).sum()),
                "sales_breached": int((rows & (response | disposition)).sum()),
                "marketing_breaches": int((rows & marketing).sum()),
            }
        )
    return out


def _segment_months(
    world: World, seen: np.ndarray, disposed: np.ndarray, rejected: np.ndarray
) -> dict[str, dict]:
    """Key month of the handoff|segment of the lead's account: MQLs, dispositioned, accepted."""
    h = world.handoffs
    names = [key for key, _, _ in world.definitions.segments]
    segment = world.accounts.segment[world.leads.account[h.lead]]
    cells, cell = np.unique(
        np.stack([signals.month_index(h.time)[seen], segment[seen]]), axis=1, return_inverse=True
    )
    accepted = (disposed & ~rejected)[seen]
    return {
        f"{signals.month_start(m).isoformat()}|{names[g]}": {
            "mqls": int((cell == c).sum()),
            "dispositioned": int(disposed[seen][cell == c].sum()),
            "accepted": int(accepted[cell == c].sum()),
        }
        for c, (m, g) in enumerate(cells.T.tolist())
    }


def _response_weeks(world: World, seen: np.ndarray, touched: np.ndarray) -> list[dict]:
    """Per ISO week of the handoff and lead channel ('all' = every channel): handoffs, and the
    median and 90th percentile business minutes to first touch of the touched ones."""
    h = world.handoffs
    channel = _lead_channels(world)[h.lead][seen].astype(str)
    week = signals.week_index(h.time)[seen]
    minutes = np.where(touched[seen], h.first_touch_minutes[seen], np.nan)
    out = []
    for channels in (np.full(len(week), "all"), channel):
        cells, cell, handoffs = np.unique(
            np.stack([week.astype(str), channels]), axis=1, return_inverse=True, return_counts=True
        )
        # each cell's touched minutes, in one sort
        order = np.lexsort((minutes, cell))
        bounds = np.searchsorted(cell[order], np.arange(len(handoffs) + 1))
        for c, (k, name) in enumerate(cells.T.tolist()):
            values = minutes[order][bounds[c] : bounds[c + 1]]
            values = values[~np.isnan(values)]
            out.append(
                {
                    "week_start": signals.week_start(int(k)).isoformat(),
                    "channel": name,
                    "handoffs": int(handoffs[c]),
                    "median_minutes": round(float(np.median(values)), 2) if len(values) else None,
                    "p90_minutes": round(float(np.percentile(values, 90)), 2)
                    if len(values)
                    else None,
                }
            )
    return sorted(out, key=lambda row: (row["week_start"], row["channel"] != "all", row["channel"]))


def _quality_reasons(world: World) -> list[bool]:
    """Per reason code of the definitions, in order: a marketing-quality breach (seed)."""
    flags = {
        row["reason_code"]: row["is_marketing_quality_breach"] == "true"
        for row in _seed("rejection_reasons")
    }
    return [flags[code] for code, _ in world.definitions.rejection_reasons]


def _lead_channels(world: World) -> np.ndarray:
    """Each lead's channel: its lead source's (lead_source_channels)."""
    sources = np.array([channel for _, _, channel, _ in world.leads.sources], dtype=object)
    return sources[world.leads.source]


def _handoff_truth(world: World) -> dict:
    d, h = world.definitions, world.handoffs
    seen = world.visible(h.time)
    target = np.array(
        [float(t.values["first_touch_target_business_minutes"]) for t in d.sla_terms]
    )[h.sla_term]
    window = (
        np.array([float(t.values["disposition_window_hours"]) for t in d.sla_terms])[h.sla_term]
        * 3600
    )
    touched = seen & world.visible(h.first_touch_time)
    met = touched & (h.first_touch_minutes <= target)
    disposed = seen & world.visible(h.disposition_time)
    rejected = disposed & (h.outcome != handoff_model.ACCEPTED)
    window_over = seen & (h.time + window <= world.as_of)
    in_window = window_over & disposed & (h.disposition_time - h.time <= window)
    codes = [code for code, _ in d.rejection_reasons]
    counts = np.bincount(h.reason[rejected], minlength=len(codes))
    by_priority = {
        name: _rate((met & (h.priority == code)).sum(), (seen & (h.priority == code)).sum())
        for code, name in enumerate(handoff_model.PRIORITIES)
    }
    reps = world.org.reps
    assert reps is not None
    region = reps.region[h.owner]
    by_region = {
        name: _rate((met & (region == i)).sum(), (seen & (region == i)).sum())
        for i, name in enumerate(world.org.regions)
        if (seen & (region == i)).any()
    }
    by_term = {
        term.key: _rate((met & (h.sla_term == i)).sum(), (seen & (h.sla_term == i)).sum())
        for i, term in enumerate(d.sla_terms)
        if (seen & (h.sla_term == i)).any()
    }
    breach_weeks = _breach_weeks(world, seen, touched, target, window, disposed, rejected)
    segment_months = _segment_months(world, seen, disposed, rejected)
    weeks = _response_weeks(world, seen, touched)
    return {
        "definitions": {
            "handoff": "a lead's move to MQL status (Salesforce lead_history Status -> the mql "
            "value; HubSpot hs_lead_status -> OPEN) at or before the export time; a "
            "recycled lead that re-qualifies is a second handoff",
            "sla_met": "first sales touch (task/event or engagement by the owner, or by the new "
            "owner after reassignment) within first_touch_target_business_minutes "
            "of the sla_terms row for the lead priority in force at handoff time, "
            "counted in business minutes of the owner's region (business_hours, "
            "region_holidays); a handoff without a touch by the export is not met",
            "rejection_rate": "handoffs dispositioned with a rejection reason / handoffs "
            "dispositioned (accepted or rejected) by the export",
            "reason_mix": "share of each reason code among rejections",
            "disposition_within_window_rate": "handoffs dispositioned within "
            "disposition_window_hours (wall clock) / handoffs "
            "whose window ended before the export",
            "recycle_rate": "dispositions to the recycled status / dispositions",
            "untouched_past_window_count": "handoffs reassigned because they were untouched at "
            "the end of reassign_after_business_minutes",
            "breach_weeks": "per ISO week of the handoff, the latest handoff of each lead "
            "only (the CRMs keep a lead's priority and reason for it alone): handoffs, sales "
            "response breaches (first touch later than the term's target, or untouched "
            "beyond it at the end of the as-of day, in business minutes of the owner's "
            "region), disposition breaches (the window closed by then without a "
            "disposition in it), either, and marketing breaches (rejected for a reason the "
            "seed marks a marketing-quality breach)",
            "segment_months": "key month of the handoff|segment of the lead's account: "
            "handoffs (MQLs), those dispositioned by the export and those accepted",
            "weeks": "per ISO week of the handoff and lead channel ('all' = every channel): "
            "handoffs, and the median and 90th percentile (linear) business minutes to first "
            "touch of those touched by the export",
        },
        "count": int(seen.sum()),
        "count_by_priority": {
            name: int((seen & (h.priority == code)).sum())
            for code, name in enumerate(handoff_model.PRIORITIES)
        },
        "second_handoffs": int((seen & (h.cycle == 2)).sum()),
        "sla_met_rate": _rate(met.sum(), seen.sum()),
        "sla_met_rate_by_priority": by_priority,
        "sla_met_rate_by_region": by_region,
        "sla_met_rate_by_sla_term": by_term,
        "median_business_minutes_to_first_touch": round(
            float(np.median(h.first_touch_minutes[touched])), 2
        )
        if touched.any()
        else None,
        "dispositioned": int(disposed.sum()),
        "acceptance_rate": _rate((disposed & ~rejected).sum(), disposed.sum()),
        "rejection_rate": _rate(rejected.sum(), disposed.sum()),
        "reason_mix": {code: _rate(counts[i], counts.sum()) or 0.0 for i, code in enumerate(codes)},
        "disposition_within_window_rate": _rate(in_window.sum(), window_over.sum()),
        "recycle_rate": _rate(
            (disposed & (h.outcome == handoff_model.RECYCLED)).sum(), disposed.sum()
        ),
        "untouched_past_window_count": int(
            (seen & h.reassigned & world.visible(h.reassign_time)).sum()
        ),
        "weeks": weeks,
        "breach_weeks": breach_weeks,
        "segment_months": segment_months,
    }


def _usd(world: World, amount: np.ndarray, account: np.ndarray, day: np.ndarray) -> np.ndarray:
    config = world.config
    months = month_starts(config.start_date, config.end_date)
    rates = monthly_rates(
        config.start_date, config.end_date, np.random.default_rng([config.seed, 23])
    )
    rate = rate_lookup(months, rates, CURRENCIES, world.accounts.currency[account], day)
    return amount / rate


def _funnel_truth(world: World) -> dict:
    leads, h, specs, state = world.leads, world.handoffs, world.specs, world.state
    created = world.visible(leads.created)
    mql = np.zeros(leads.n, bool)
    mql[h.lead[world.visible(h.time)]] = True
    sal = np.zeros(leads.n, bool)
    sal[h.lead[world.visible(h.disposition_time) & (h.outcome == handoff_model.ACCEPTED)]] = True
    sql = np.zeros(leads.n, bool)
    sql[h.lead[world.visible(h.sql_time)]] = True
    won_lead = np.zeros(leads.n, bool)
    origin = specs.origin_lead
    won_lead[origin[(origin >= 0) & state.is_won]] = True
    segments = [key for key, _, _ in world.definitions.segments]
    closed = state.is_closed
    new_business = closed & (specs.kind == 0)
    usd = _usd(world, state.amount, specs.account, state.close_day)
    segment = specs.segment
    win_count = {
        name: _rate(
            (new_business & state.is_won & (segment == i)).sum(),
            (new_business & (segment == i)).sum(),
        )
        for i, name in enumerate(segments)
    }
    win_amount = {
        name: _rate(
            usd[new_business & state.is_won & (segment == i)].sum(),
            usd[new_business & (segment == i)].sum(),
        )
        for i, name in enumerate(segments)
    }
    cycle = state.close_day[closed] - specs.created[closed] // DAY
    open_ = state.exists & ~closed
    end_day = np.full(int(open_.sum()), epoch_day(world.config.end_date))
    return {
        "definitions": {
            "lead": "persons created as leads by the export (Salesforce leads and HubSpot "
            "contacts)",
            "mql/sal/sql": "leads that ever reached the stage by the export (sal = accepted "
            "disposition, sql = converted / salesqualifiedlead)",
            "won": "leads whose converted opportunity is closed won",
            "win_rate_by_segment": "new-business opportunities: closed won / (closed won + "
            "closed lost), by account segment; by_amount uses the amount "
            "in USD (dated_conversion_rate of the close date; a lost deal "
            "carries its last open amount)",
            "median_cycle_days": "closed opportunities: close_date - created date, in days",
            "first_entry_months": "key month: the leads whose first entry into lead, mql, "
            "sal, sql and won (the first win of a new-business opportunity they originated) "
            "fell in it, each counted on its own date",
            "cohort_months": "key month a lead was created: the cohort's leads, and those "
            "that reached mql, sal, sql and won by the export",
            "waterfall_months": "key month: the opportunities in the month's close window "
            "(open, expected close on or before its last day) at its opening (the end of the "
            "day before) or its end (its last day, end_date while it runs; a close in it "
            "counts from its last open state, the day before), and the waterfall's "
            "categories summed in USD at each day's rate: opening, new (not open at the "
            "opening), pulled_in (open outside the window), increased / decreased (in it at "
            "both ends), won, lost, pushed_out (its close date moved past the month), "
            "closing. HubSpot keeps the history of the deal stage only: its amount and close "
            "date are the exported ones on every day",
            "new_business_close_weeks": "key ISO week|segment: new-business opportunities "
            "closed in the week (close date), and won",
            "velocity_months": "key month|segment|opportunity type: opportunities open at the "
            "month's end (its last day, end_date while it runs) and those closed in the "
            "trailing velocity_trailing_months months ending with it (closed, won, won_usd at "
            "the close day's rate, won_cycle_days from creation to close)",
            "bookings_months": "key month|segment|opportunity type: won_count and "
            "won_amount_usd of opportunities won with a close date in the month (USD at the "
            "close day's rate), created_count of opportunities created in the month",
            "lead_to_opportunity_weeks": "per ISO week (Monday) and channel ('all' = the "
            "company): leads created (under the lead's source channel) and new-business "
            "opportunities created that convert a lead (under their own source's channel)",
            "open_pipeline_usd": "sum of amount of open opportunities at the export, in USD at "
            "the rate in force on end_date",
        },
        "lead": int(created.sum()),
        "mql": int(mql.sum()),
        "sal": int(sal.sum()),
        "sql": int(sql.sum()),
        "won": int(won_lead.sum()),
        "conversion": {
            "lead_to_mql": _rate(mql.sum(), created.sum()),
            "mql_to_sal": _rate(sal.sum(), mql.sum()),
            "sal_to_sql": _rate(sql.sum(), sal.sum()),
            "sql_to_won": _rate(won_lead.sum(), sql.sum()),
        },
        "win_rate_by_segment": {"by_count": win_count, "by_amount": win_amount},
        "cohort_months": _cohort_months(
            world, created, {"mql": mql, "sal": sal, "sql": sql, "won": won_lead}
        ),
        "first_entry_months": _first_entry_months(world),
        "lead_to_opportunity_weeks": _lead_to_opportunity_weeks(world, created),
        "bookings_months": _bookings_months(world, usd),
        "velocity_months": _velocity_months(world, usd),
        "reverse_funnel_windows": _reverse_funnel_windows(world, usd),
        "new_business_close_weeks": _close_weeks(world),
        "waterfall_months": _waterfall_months(world),
        "median_cycle_days": float(np.median(cycle)) if len(cycle) else None,
        "opportunities_by_type": {
            name: int((state.exists & (specs.kind == i)).sum())
            for i, name in enumerate(OPPORTUNITY_TYPES)
        },
        "opportunities_by_system": {
            "salesforce": int((state.exists & (specs.crm == 0)).sum()),
            "hubspot": int((state.exists & (specs.crm == 1)).sum()),
        },
        "closed_won": int(state.is_won.sum()),
        "closed_lost": int((closed & ~state.is_won).sum()),
        "open": int(open_.sum()),
        "open_pipeline_usd": round(
            float(_usd(world, state.amount[open_], specs.account[open_], end_day).sum()), 2
        ),
    }


def _cohort_months(
    world: World, created: np.ndarray, reached: dict[str, np.ndarray]
) -> dict[str, dict]:
    """Key month the lead was created: the cohort's leads, and how many reached each stage."""
    month = signals.month_index(world.leads.created)
    out = {}
    for m in np.unique(month[created]).tolist():
        members = created & (month == m)
        out[signals.month_start(m).isoformat()] = {"lead": int(members.sum())} | {
            stage: int((members & flags).sum()) for stage, flags in reached.items()
        }
    return out


def _first_entry_months(world: World) -> dict[str, dict]:
    """Key month: the leads whose first entry into each main-path stage fell in it (created;
    first handoff; first accepted disposition; first qualification; first win of a
    new-business opportunity they originated), each on its own date."""
    leads, h, specs, state = world.leads, world.handoffs, world.specs, world.state
    never = np.iinfo(np.int64).max

    def first(lead: np.ndarray, time: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.full(leads.n, never)
        np.minimum.at(out, lead[rows], time[rows])
        return out

    won = (specs.origin_lead >= 0) & state.is_won & (specs.kind == 0)
    entries = {
        "lead": np.where(world.visible(leads.created), leads.created, never),
        "mql": first(h.lead, h.time, world.visible(h.time)),
        "sal": first(
            h.lead,
            h.disposition_time,
            world.visible(h.disposition_time) & (h.outcome == handoff_model.ACCEPTED),
        ),
        "sql": first(h.lead, h.sql_time, world.visible(h.sql_time)),
        "won": first(specs.origin_lead, state.closed_time, won),
    }
    out: dict[str, dict] = {}
    for stage, time in entries.items():
        months, counts = np.unique(signals.month_index(time[time < never]), return_counts=True)
        for m, count in zip(months.tolist(), counts.tolist(), strict=True):
            out.setdefault(signals.month_start(m).isoformat(), {})[stage] = count
    return dict(sorted(out.items()))


def _lead_to_opportunity_weeks(world: World, created: np.ndarray) -> list[dict]:
    """Per ISO week and channel ('all' for the company): leads created, and new-business
    opportunities created that convert a lead, each under its own source's channel."""
    leads, specs, state = world.leads, world.specs, world.state
    channel_of = _lead_channels(world)
    converts = state.exists & (specs.kind == 0) & (specs.origin_lead >= 0)
    counts: dict[tuple[int, str], list[int]] = {}
    for column, week, channel in (
        (0, signals.week_index(leads.created[created]), channel_of[created]),
        (1, signals.week_index(specs.created[converts]), channel_of[specs.origin_lead[converts]]),
    ):
        # counted per distinct (week, channel) pair, not per row (1M leads at scale)
        pairs, n = np.unique(np.stack([week, channel.astype(str)]), axis=1, return_counts=True)
        for (k, c), count in zip(pairs.T.tolist(), n.tolist(), strict=True):
            for key in ((int(k), c), (int(k), "all")):
                counts.setdefault(key, [0, 0])[column] += count
    return [
        {
            "week_start": signals.week_start(k).isoformat(),
            "channel": c,
            "leads": n_leads,
            "opportunities": n_opportunities,
        }
        for (k, c), (n_leads, n_opportunities) in sorted(counts.items())
    ]


def _velocity_months(world: World, usd: np.ndarray) -> dict[str, dict]:
    """Key month|segment|opportunity type, every month from the first opportunity to the
    as-of month: opportunities open at the month's end (its last day, the as-of date while
    it runs), and those closed in the trailing velocity_trailing_months months ending with
    it: closed, won, the won amount (USD at the close day's rate) and the won deals' days
    from creation to close."""
    specs, state = world.specs, world.state
    segments = [key for key, _, _ in world.definitions.segments]
    types = [_opportunity_type(label) for label in OPPORTUNITY_TYPES]
    trailing = int(
        _in_force(
            _dated_seed("pipeline_kpi_rules", "velocity_trailing_months"), world.config.end_date
        )
    )
    exists = np.flatnonzero(state.exists)
    created = specs.created[exists] // DAY
    closed = np.where(state.is_closed[exists], state.close_day[exists], np.iinfo(np.int64).max)
    won = state.is_won[exists]
    cycle = np.where(won, closed - created, 0)
    # one cell per (segment, type): counted with bincount, month by month
    cell = specs.segment[exists] * len(types) + specs.kind[exists]
    n_cells = len(segments) * len(types)
    end = epoch_day(world.config.end_date)
    out: dict[str, dict] = {}
    first = int(signals.month_index(specs.created[exists]).min()) if len(exists) else 0
    for m in range(first, int(signals.month_index(np.array([end * DAY]))[0]) + 1):
        month_end = min(epoch_day(signals.month_start(m + 1)) - 1, end)
        is_open = (created <= month_end) & (closed > month_end)
        in_window = (closed >= epoch_day(signals.month_start(m - trailing + 1))) & (
            closed <= month_end
        )
        won_in = in_window & won
        counts = {
            "open": np.bincount(cell[is_open], minlength=n_cells),
            "closed": np.bincount(cell[in_window], minlength=n_cells),
            "won": np.bincount(cell[won_in], minlength=n_cells),
            "won_usd": np.bincount(cell[won_in], usd[exists][won_in], minlength=n_cells),
            "won_cycle_days": np.bincount(cell[won_in], cycle[won_in], minlength=n_cells),
        }
        for c in np.flatnonzero(counts["open"] + counts["closed"]).tolist():
            key = f"{signals.month_start(m).isoformat()}|{segments[c // len(types)]}|"
            out[key + types[c % len(types)]] = {
                "open": int(counts["open"][c]),
                "closed": int(counts["closed"][c]),
                "won": int(counts["won"][c]),
                "won_usd": round(float(counts["won_usd"][c]), 2),
                "won_cycle_days": round(float(counts["won_cycle_days"][c])),
            }
    return out


def _waterfall_months(world: World) -> dict[str, dict]:
    """Key month: the pipeline waterfall's categories summed over the opportunities, in USD
    at each day's rate, as fct_pipeline_waterfall defines them on the daily snapshots (see
    the `waterfall_months` definition)."""
    specs, history, state = world.specs, world.history, world.state
    n_open = len(world.stages) - 2
    opportunities = np.arange(len(specs))
    key = history.opportunity.astype(np.int64) * 2**40 + history.time
    hubspot = specs.crm != SALESFORCE

    def snapshot(day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Open, amount (USD at the day's rate) and close date at the end of each day."""
        until = np.minimum((day + 1) * DAY - 1, world.as_of)  # nothing after the export
        at = np.searchsorted(key, opportunities * 2**40 + until, "right") - 1
        found = (at >= 0) & (history.opportunity[np.maximum(at, 0)] == opportunities)
        at = np.maximum(at, 0)
        # HubSpot keeps the history of the deal stage only: amount and close date as exported
        amount = np.where(hubspot, state.amount, history.amount[at])
        close = np.where(hubspot, state.close_day, history.close_day[at])
        is_open = found & (history.stage[at] < n_open)
        return is_open, _usd(world, amount, specs.account, day), close

    # each opportunity's close by the export, and its last open state: the day before
    closes = np.flatnonzero((history.stage >= n_open) & world.visible(history.time))
    closes = closes[np.concatenate([[True], np.diff(history.opportunity[closes]) != 0])]
    closed_day = np.full(len(specs), -1)
    closed_day[history.opportunity[closes]] = history.time[closes] // DAY
    closed_stage = np.full(len(specs), -1)
    closed_stage[history.opportunity[closes]] = history.stage[closes]
    was_open, last_open_usd, _ = snapshot(np.maximum(closed_day - 1, 0))

    end = epoch_day(world.config.end_date)
    out: dict[str, dict] = {}
    first = int(signals.month_index(specs.created[state.exists]).min())
    for m in range(first, int(signals.month_index(np.array([end * DAY]))[0]) + 1):
        start, last = (epoch_day(signals.month_start(i)) for i in (m, m + 1))
        last -= 1
        open_then, opening_usd, close_then = snapshot(np.full(len(specs), start - 1))
        open_now, end_usd, close_now = snapshot(np.full(len(specs), min(last, end)))
        # a close in the period counts from its last open state (none: created that day)
        closed = (closed_day >= start) & (closed_day <= last) & was_open
        in_then = open_then & (close_then <= last)
        in_now = open_now & (close_now <= last)
        ends = in_now | closed
        amount = np.where(closed, last_open_usd, end_usd)
        change = np.where(in_then & ends, amount - opening_usd, 0.0)
        sums = {
            "opening": opening_usd[in_then],
            "new": amount[~open_then & ends],
            "pulled_in": amount[open_then & ~in_then & ends],
            "increased": np.clip(change, 0, None),
            "decreased": np.clip(-change, 0, None),
            "won": amount[closed & (closed_stage == n_open)],
            "lost": amount[closed & (closed_stage == n_open + 1)],
            "pushed_out": opening_usd[in_then & open_now & ~in_now & ~closed],
            "closing": end_usd[in_now],
        }
        if (in_then | ends).any():
            out[signals.month_start(m).isoformat()] = {
                "opportunities": int((in_then | ends).sum()),
                **{name: round(float(values.sum()), 2) for name, values in sums.items()},
            }
    return out


def _close_weeks(world: World) -> dict[str, dict]:
    """Key ISO week|segment: new-business opportunities closed in the week, and won."""
    specs, state = world.specs, world.state
    segments = [key for key, _, _ in world.definitions.segments]
    closed = state.exists & state.is_closed & (specs.kind == 0)
    cells, cell = np.unique(
        np.stack([signals.week_index(state.close_day[closed] * DAY), specs.segment[closed]]),
        axis=1,
        return_inverse=True,
    )
    won = state.is_won[closed]
    return {
        f"{signals.week_start(k).isoformat()}|{segments[g]}": {
            "closed": int((cell == c).sum()),
            "won": int(won[cell == c].sum()),
        }
        for c, (k, g) in enumerate(cells.T.tolist())
    }


def _reverse_funnel_windows(world: World, usd: np.ndarray) -> dict[str, dict]:
    """Key month|segment of every new-business bookings target: the counts of its trailing
    window, the reverse_funnel_window_months months before the target month (before the
    as-of month for a later one), by the segment of the opportunity's or the lead's
    account."""
    specs, state, h = world.specs, world.state, world.handoffs
    segments = [key for key, _, _ in world.definitions.segments]
    as_of_month = int(signals.month_index(np.array([epoch_day(world.config.end_date) * DAY]))[0])
    handoff_segment = world.accounts.segment[world.leads.account[h.lead]]
    new_business = state.exists & (specs.kind == 0)
    close_month = signals.month_index(state.close_day * DAY)
    created_month = signals.month_index(specs.created)
    handed_month = signals.month_index(h.time)
    sql_month = signals.month_index(h.sql_time)
    sql = world.visible(h.sql_time)
    handed = world.visible(h.time)
    out: dict[str, dict] = {}
    targets = _seed("bookings_targets")
    new_business_type = _opportunity_type(OPPORTUNITY_TYPES[0])
    window = int(
        _in_force(
            _dated_seed("unit_economics_windows", "reverse_funnel_window_months"),
            world.config.end_date,
        )
    )
    for row in targets:
        if row["opportunity_type"] != new_business_type:
            continue
        month_start = date.fromisoformat(row["month_start"])
        end = min(month_start.year * 12 + month_start.month - 1 - 1970 * 12, as_of_month)
        s = segments.index(row["segment"])

        def within(months: np.ndarray, end: int = end, window: int = window) -> np.ndarray:
            return (months >= end - window) & (months < end)

        deals = new_business & (specs.segment == s)
        closed = deals & state.is_closed & within(close_month)
        won = closed & state.is_won
        leads = handoff_segment == s
        out[f"{row['month_start']}|{row['segment']}"] = {
            "won": int(won.sum()),
            "won_usd": round(float(usd[won].sum()), 2),
            "closed": int(closed.sum()),
            "created": int((deals & within(created_month)).sum()),
            "created_from_sqls": int(
                (deals & within(created_month) & (specs.origin_lead >= 0)).sum()
            ),
            "sqls": int((leads & sql & within(sql_month)).sum()),
            "mqls": int((leads & handed & within(handed_month)).sum()),
        }
    return out


def _opportunity_type(label: str) -> str:
    """The project's opportunity type of a CRM label the generator writes (Salesforce's)."""
    return {
        row["crm_value"]: row["opportunity_type"]
        for row in _mapping("opportunity_types")
        if row["source_system"] == "salesforce"
    }[label]


def _bookings_months(world: World, usd: np.ndarray) -> dict[str, dict]:
    """Key month|segment|opportunity type: opportunities won with a close date in the month
    (count, amount in USD at the close day's rate) and opportunities created in it."""
    specs, state = world.specs, world.state
    segments = [key for key, _, _ in world.definitions.segments]
    out: dict[str, dict] = {}
    types = [_opportunity_type(label) for label in OPPORTUNITY_TYPES]

    def cell(month: int, i: int) -> dict:
        key = f"{signals.month_start(month).isoformat()}|{segments[specs.segment[i]]}|"
        key += types[specs.kind[i]]
        return out.setdefault(key, {"won_count": 0, "won_amount_usd": 0.0, "created_count": 0})

    won = np.flatnonzero(state.is_won)
    won_month = signals.month_index(state.close_day[won] * DAY)
    for i, month in zip(won.tolist(), won_month.tolist(), strict=True):
        row = cell(month, i)
        row["won_count"] += 1
        row["won_amount_usd"] += float(usd[i])
    made = np.flatnonzero(state.exists)
    for i, month in zip(
        made.tolist(), signals.month_index(specs.created[made]).tolist(), strict=True
    ):
        cell(month, i)["created_count"] += 1
    for row in out.values():
        row["won_amount_usd"] = round(row["won_amount_usd"], 2)
    return dict(sorted(out.items()))


def _seed(name: str) -> list[dict[str, str]]:
    """The rows of a definition seed."""
    with (SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _mapping(name: str) -> list[dict[str, str]]:
    """The rows of a mapping seed of the repository (the demo's CRMs use its values)."""
    with (REPO_MAPPINGS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _opportunity_persons(world: World) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(opportunity, lead, originating) rows, one per opportunity and lead: the persons of
    each opportunity that are leads (the only persons with touches): the converted lead, its
    originating person (a HubSpot customer deal keeps its parent's, the deal's originating
    contact), and the Salesforce contact roles that are converted leads (a customer
    opportunity carries its parent's primary contact)."""
    specs = world.specs
    roles_opp, roles_contact, _ = world.contact_roles
    role_created = np.maximum(specs.created[roles_opp], world.contacts.created[roles_contact])
    role_lead = world.contacts.lead[roles_contact]
    role = (specs.crm[roles_opp] == SALESFORCE) & world.visible(role_created) & (role_lead >= 0)
    origin = specs.origin_lead.copy()
    customer = (specs.parent >= 0) & (specs.crm != SALESFORCE)
    origin[customer] = specs.origin_lead[specs.parent[customer]]
    opp = np.concatenate([np.flatnonzero(origin >= 0), roles_opp[role]])
    lead = np.concatenate([origin[origin >= 0], role_lead[role]])
    originating = np.concatenate(
        [np.ones(int((origin >= 0).sum()), bool), np.zeros(role.sum(), bool)]
    )
    # a contact role of the converted lead is the same person: one row, originating
    order = np.lexsort((~originating, lead, opp))
    opp, lead, originating = opp[order], lead[order], originating[order]
    first = np.concatenate([[True], (opp[1:] != opp[:-1]) | (lead[1:] != lead[:-1])])
    return opp[first], lead[first], originating[first]


def _person_attribution_touches(world: World, touches: TouchRows) -> tuple[np.ndarray, np.ndarray]:
    """The attribution touches a lead owns (carrying its email, or its cookie once identified:
    every lead's creation touch is known, so every cookie of a lead is), as sorted search
    keys lead * 2**32 + time (ties in touchpoint id order, which numbers touches in time
    order) and the touch index of each key."""
    attribution = {
        row["touch_type"]
        for row in _mapping("touch_types")
        if row["is_attribution_touch"] == "true"
    }
    kinds = np.array([kind in attribution for kind, _, _ in world.definitions.touch_types])
    known_lead = np.zeros(world.leads.n, bool)
    known_lead[touches.lead[(touches.lead >= 0) & touches.known]] = True
    own = np.flatnonzero(
        (touches.lead >= 0) & kinds[touches.kind] & known_lead[np.maximum(touches.lead, 0)]
    )
    key = touches.lead[own].astype(np.int64) * 2**32 + touches.time[own]
    order = np.lexsort((own, key))
    return key[order], own[order]


def _path_touch(
    world: World, touches: TouchRows, lookback: np.ndarray, earliest: bool
) -> np.ndarray:
    """Per opportunity, the first (earliest) or the last attribution touch of its persons
    from `lookback` days (per opportunity) before its creation date to its creation, ties in
    touchpoint id order; -1 without one."""
    specs = world.specs
    pair_opp, pair_lead, _ = _opportunity_persons(world)
    key, own = _person_attribution_touches(world, touches)
    low = pair_lead * 2**32 + (specs.created[pair_opp] // DAY - lookback[pair_opp]) * DAY
    high = pair_lead * 2**32 + specs.created[pair_opp]
    at = np.searchsorted(key, low, "left") if earliest else np.searchsorted(key, high, "right") - 1
    found = (at >= 0) & (at < len(key))
    found[found] = (key[at[found]] >= low[found]) & (key[at[found]] <= high[found])
    opp, touch = pair_opp[found], own[at[found]]
    # the earliest (latest) over the opportunity's persons: first (last) in time order
    order = np.lexsort((touch, touches.time[touch], opp))
    opp, touch = opp[order], touch[order]
    edge = opp[1:] != opp[:-1]
    pick = np.concatenate([[True], edge]) if earliest else np.concatenate([edge, [True]])
    out = np.full(len(specs), -1)
    out[opp[pick]] = touch[pick]
    return out


def _reported_usd(world: World) -> np.ndarray:
    """Each opportunity's amount as fct_opportunities reports it, in USD: a closed one at the
    rate of its close day (a lost one at its last open amount), an open one at end_date's."""
    state = world.state
    day = np.where(state.is_closed, state.close_day, epoch_day(world.config.end_date))
    return _usd(world, state.amount, world.specs.account, day)


def _lead_creation_touches(world: World, key: np.ndarray, own: np.ndarray) -> np.ndarray:
    """Per lead, its lead-creation touch: the latest of its attribution touches at or before
    its creation (ties: the greatest touchpoint id); -1 without one."""
    leads = np.arange(world.leads.n, dtype=np.int64)
    at = np.searchsorted(key, leads * 2**32 + world.leads.created, "right") - 1
    found = at >= 0
    found[found] = key[at[found]] // 2**32 == leads[found]
    out = np.full(world.leads.n, -1)
    out[found] = own[at[found]]
    return out


def _credit_cells(
    month: np.ndarray,
    channel: np.ndarray,
    campaign: np.ndarray,
    credit: np.ndarray,
    usd: np.ndarray,
    prefix: str,
) -> dict[tuple, dict]:
    """Credits and the money they carry summed by (prefix, month, channel, campaign) (-1:
    none); cells whose credits sum to 0 are left out."""
    cells, cell = np.unique(np.stack([month, channel, campaign]), axis=1, return_inverse=True)
    credits = np.bincount(cell.ravel(), credit, cells.shape[1])
    money = np.bincount(cell.ravel(), credit * usd, cells.shape[1])
    return {
        (prefix, *key): {"credits": float(n), "usd": round(float(amount), 2)}
        for key, n, amount in zip(cells.T.tolist(), credits.tolist(), money.tolist(), strict=True)
        if n > 0
    }


def _attribution_months(
    world: World, touches: TouchRows, campaigns: Campaigns, ad_spend: dict
) -> dict[str, dict]:
    """For every model of the attribution_models seed (the version in force on the day each
    opportunity was created), the opportunities credited to each channel and campaign of a
    touch (None: unattributed, or a touch of no campaign) and the money they carry: pipeline
    by created month, bookings (won opportunities) by close month; and each ad campaign's
    spend by month. A path is the attribution touches of the opportunity's
    persons from the lookback before its creation day to its creation (to the end of its
    close day for a won one, when the model counts touches until won), in time order (ties in
    touchpoint id order). Position weights add up on a touch holding several positions (the
    path's first touch; the lead-creation touch of its originating person; its last touch
    before creation; its last touch, won); the touches holding none share the other touches'
    weight; time decay weighs 2^(-age in days / half-life); weights scale to 1 per path. A
    path carrying no weight credits the opportunity to None."""
    specs, state = world.specs, world.state
    pair_opp, pair_lead, pair_origin = _opportunity_persons(world)
    key, own = _person_attribution_touches(world, touches)
    creation_touch = _lead_creation_touches(world, key, own)
    usd = _reported_usd(world)
    created_day = specs.created // DAY
    created_month = signals.month_index(specs.created)
    close_month = signals.month_index(state.close_day.astype(np.int64) * DAY)
    pipeline: dict[str, dict] = {}
    bookings: dict[str, dict] = {}
    for row in _seed("attribution_models"):
        model = row["attribution_model"]
        start, end = (epoch_day(date.fromisoformat(row[k])) for k in ("valid_from", "valid_to"))
        in_force = state.exists & (created_day >= start) & (created_day < end)
        until_won = in_force & state.is_won & (row["counts_touches_until_won"] == "true")
        pairs = in_force[pair_opp]
        p_opp, p_lead = pair_opp[pairs], pair_lead[pairs]
        last = np.where(
            until_won[p_opp], (state.close_day[p_opp] + 1) * DAY - 1, specs.created[p_opp]
        )
        low = np.searchsorted(
            key, p_lead * 2**32 + (created_day[p_opp] - int(row["lookback_days"])) * DAY, "left"
        )
        count = np.searchsorted(key, p_lead * 2**32 + last, "right") - low
        pair = np.repeat(np.arange(len(p_opp)), count)
        touch = own[low[pair] + np.arange(len(pair)) - np.repeat(np.cumsum(count) - count, count)]
        opp = p_opp[pair]
        lead_creation = pair_origin[pairs][pair] & (creation_touch[p_lead[pair]] == touch)
        order = np.lexsort((touch, touches.time[touch], opp))
        opp, touch, lead_creation = opp[order], touch[order], lead_creation[order]

        # the touch's place in its path
        paths, path, size = np.unique(opp, return_inverse=True, return_counts=True)
        number = np.arange(len(opp)) - (np.cumsum(size) - size)[path] + 1
        before = touches.time[touch] <= specs.created[opp]
        before_count = np.bincount(path, before, len(paths))
        weight = {
            k: float(row[f"{k}_weight"])
            for k in (
                "first_touch",
                "lead_creation",
                "opportunity_creation",
                "closed_won",
                "other_touches",
            )
        }
        position = (
            weight["first_touch"] * (number == 1)
            + weight["lead_creation"] * lead_creation
            + weight["opportunity_creation"] * (before & (number == before_count[path]))
            + weight["closed_won"] * (until_won[opp] & (number == size[path]))
        )
        if row["weighting"] == "time_decay":
            age = created_day[opp] - touches.time[touch] // DAY
            raw = 2.0 ** (-age / float(row["half_life_days"]))
        else:
            others = np.bincount(path, position == 0, len(paths))[path]
            raw = np.where(position > 0, position, weight["other_touches"] / np.maximum(others, 1))
        total = np.bincount(path, raw, len(paths))
        credit = np.where(total[path] > 0, raw / np.where(total[path] > 0, total[path], 1), 0.0)

        unattributed = in_force.copy()
        unattributed[paths[total > 0]] = False
        idle = np.flatnonzero(unattributed)
        opp = np.concatenate([opp, idle])
        channel = np.concatenate([touches.channel[touch], np.full(len(idle), -1)])
        campaign = np.concatenate([touches.campaign[touch], np.full(len(idle), -1)])
        credit = np.concatenate([credit, np.ones(len(idle))])
        pipeline |= _credit_cells(created_month[opp], channel, campaign, credit, usd[opp], model)
        won = state.is_won[opp]
        bookings |= _credit_cells(
            close_month[opp[won]], channel[won], campaign[won], credit[won], usd[opp[won]], model
        )
    channels = [*touches.channels, None]
    ids = [*campaign_id(np.arange(len(campaigns.bu))).to_pylist(), None]
    out = {
        kind: {
            "|".join(
                [model, signals.month_start(m).isoformat(), str(channels[c]), str(ids[k])]
            ): value
            for (model, m, c, k), value in sorted(cells.items())
        }
        for kind, cells in (("pipeline", pipeline), ("bookings", bookings))
    }
    # ad spend (USD) by month and campaign, under the campaign's channel
    spent = np.asarray(ad_spend["spend"])
    month = signals.month_index(np.asarray(ad_spend["spend_date"], dtype=np.int64) * DAY)
    index = {utm: i for i, utm in enumerate(campaigns.utm_campaign)}
    campaign = np.array([index[utm] for utm in ad_spend["utm_campaign"].to_pylist()])
    cells, cell = np.unique(np.stack([month, campaign]), axis=1, return_inverse=True)
    amounts = np.bincount(cell.ravel(), spent, cells.shape[1])
    out["spend"] = {
        f"{signals.month_start(m).isoformat()}|{campaigns.channel[k]}|{ids[k]}": round(
            float(amount), 2
        )
        for (m, k), amount in zip(cells.T.tolist(), amounts.tolist(), strict=True)
    }
    return out


def _created_weeks(
    world: World, usd: np.ndarray, sourced: np.ndarray, influenced: np.ndarray
) -> dict[str, dict]:
    """Key week|channel|segment: the opportunities created, sourced and influenced, and
    their amounts (see the sourced truth's definition of weeks)."""
    specs = world.specs
    made = np.flatnonzero(world.state.exists)
    # an opportunity without a lead source (source -1) takes the last entry: no channel
    channel_of = [c for _, _, c, _ in world.leads.sources]
    names = [*sorted(set(channel_of)), None]
    channel = np.array([names.index(c) for c in channel_of] + [len(names) - 1])[specs.source[made]]
    cells, cell = np.unique(
        np.stack([signals.week_index(specs.created[made]), channel, specs.segment[made]]),
        axis=1,
        return_inverse=True,
    )
    cell = cell.ravel()
    measures = {
        "created": np.ones(len(made)),
        "sourced": sourced[made].astype(float),
        "influenced": influenced[made].astype(float),
    }
    sums = {}
    for name, counted in measures.items():
        sums[name] = np.bincount(cell, counted, cells.shape[1])
        sums[f"{name}_usd"] = np.bincount(cell, counted * usd[made], cells.shape[1])
    segments = [key for key, _, _ in world.definitions.segments]
    return {
        f"{signals.week_start(w).isoformat()}|{names[c]}|{segments[g]}": {
            name: int(values[k]) if not name.endswith("_usd") else round(float(values[k]), 2)
            for name, values in sums.items()
        }
        for k, (w, c, g) in enumerate(cells.T.tolist())
    }


def _sourced_truth(world: World, touches: TouchRows, campaigns: Campaigns, ad_spend: dict) -> dict:
    """Opportunities created per month, the marketing-sourced ones among them and their
    amounts, under the rule of fct_opportunities: the lead source's team is marketing's, or
    the first attribution touch of the opportunity's persons within the lookback before its
    creation (the earliest, then the lowest touchpoint id) is on a marketing channel."""
    specs, state, leads = world.specs, world.state, world.leads
    rules = _seed("marketing_credit_rules")
    created_day = specs.created // DAY
    rule = np.zeros(len(specs), dtype=np.int64)
    for r, row in enumerate(rules):
        start, end = (epoch_day(date.fromisoformat(row[k])) for k in ("valid_from", "valid_to"))
        rule[(created_day >= start) & (created_day < end)] = r
    lookback = np.array([int(row["influence_lookback_days"]) for row in rules])[rule]
    marketing = np.array([row["marketing_team"] for row in rules], dtype=object)[rule]
    team_of = {row["channel"]: row["team"] for row in _mapping("lead_source_channels")}

    pair_opp, pair_lead, _ = _opportunity_persons(world)
    key, own = _person_attribution_touches(world, touches)
    low = pair_lead * 2**32 + (created_day[pair_opp] - lookback[pair_opp]) * DAY
    first = _path_touch(world, touches, lookback, earliest=True)
    channel_team = np.full(len(specs), None, dtype=object)
    channel_team[first >= 0] = [
        team_of.get(touches.channels[c]) for c in touches.channel[first[first >= 0]].tolist()
    ]
    # influenced: any attribution touch of its persons on a channel of the marketing team
    # from the lookback before its creation to its close date (the as-of date while open)
    end_day = np.where(state.is_closed, state.close_day, epoch_day(world.config.end_date))
    influenced = np.zeros(len(specs), bool)
    touch_team = np.array([team_of.get(c) for c in touches.channels], dtype=object)
    for team in set(marketing.tolist()):
        on_team = touch_team[touches.channel[own]] == team
        team_key = key[on_team]
        pairs = marketing[pair_opp] == team
        at = np.searchsorted(team_key, low[pairs], "left")
        found = at < len(team_key)
        found[found] = team_key[at[found]] < (
            pair_lead[pairs][found] * 2**32 + (end_day[pair_opp[pairs][found]] + 1) * DAY
        )
        influenced[pair_opp[pairs][found]] = True
    # an opportunity without a lead source (source -1) takes the last entry: no team
    source_team = np.array([team for _, _, _, team in leads.sources] + [None], dtype=object)
    sourced = (source_team[specs.source] == marketing) | (channel_team == marketing)
    by_touch_only = sourced & (source_team[specs.source] != marketing)

    usd = _reported_usd(world)
    months: dict[str, dict] = {}
    exists = np.flatnonzero(state.exists)
    month = signals.month_index(specs.created[exists])
    for i, m in zip(exists.tolist(), month.tolist(), strict=True):
        row = months.setdefault(
            signals.month_start(m).isoformat(),
            {
                "created": 0,
                "sourced": 0,
                "sourced_by_touch_only": 0,
                "sourced_usd": 0.0,
                "influenced": 0,
            },
        )
        row["created"] += 1
        row["influenced"] += int(influenced[i])
        if sourced[i]:
            row["sourced"] += 1
            row["sourced_by_touch_only"] += int(by_touch_only[i])
            row["sourced_usd"] += float(usd[i])
    for row in months.values():
        row["sourced_usd"] = round(row["sourced_usd"], 2)
    return {
        "definitions": {
            "weeks": "key created week (Monday)|channel of the opportunity's lead source "
            "(None without one)|account segment: opportunities created, and the sourced and "
            "influenced ones, as months counts them, each with its amount in USD",
            "months": "key created month: opportunities created (every type), the "
            "marketing-sourced ones (lead source's team, or the first attribution touch of "
            "the opportunity's persons within the marketing_credit_rules lookback before its "
            "creation on a channel of that team), those sourced by the touch alone, and the "
            "sourced amount in USD (closed at the close day's rate, open at end_date's), and "
            "the influenced ones (an attribution touch of its persons on a channel of that "
            "team from the lookback before its creation to its close date, end_date while "
            "open)",
            "attribution_months": "pipeline: key attribution model|created month|channel of "
            "the credited touch|its campaign id (None: unattributed, or no campaign), for "
            "every model of the attribution_models seed: the opportunity credits and the "
            "amount in USD (as months reports it) they carry; bookings: the same for won "
            "opportunities by close month; spend: key spend month|channel|campaign id of the "
            "ad platform campaigns: spend in USD. Paths and weights: "
            "truth._attribution_months",
        },
        "weeks": _created_weeks(world, usd, sourced, influenced),
        "months": dict(sorted(months.items())),
        "attribution_months": _attribution_months(world, touches, campaigns, ad_spend),
    }


def _billing_truth(world: World, subs: Subscriptions) -> dict:
    months = subs.months
    last = len(months) - 1
    day = np.array([epoch_day(m) for m in months])[subs.month]
    usd = _usd(world, subs.mrr, subs.account, day)
    ending = usd[subs.month == last].sum()
    nrr = None
    if last >= 12:
        cohort = np.unique(subs.account[(subs.month == last - 12) & (subs.mrr > 0)])
        start = usd[(subs.month == last - 12) & np.isin(subs.account, cohort)].sum()
        end = usd[(subs.month == last) & np.isin(subs.account, cohort)].sum()
        nrr = _rate(end, start)
    return {
        "definitions": {
            "ending_mrr_usd": "sum of mrr in the last month, converted at that month's rate",
            "nrr_12m": "MRR (USD) in the last month of accounts that had MRR > 0 twelve months "
            "earlier / their MRR then",
        },
        "ending_month": date.isoformat(months[last]),
        "ending_mrr_usd": round(float(ending), 2),
        "customers_at_end": int(((subs.month == last) & (subs.mrr > 0)).sum()),
        "nrr_12m": nrr,
    }


def ground_truth(config: DemoConfig, facts: dict, exports: dict[tuple[str, str], Export]) -> dict:
    world: World = facts["world"]
    d = world.definitions
    return {
        "as_of": f"{config.end_date.isoformat()}T23:00:00Z",
        "parameters": {
            "config": config.as_dict(),
            "sla_terms": [dict(t.values) for t in d.sla_terms],
            "mql_rules": [dict(r.values) for r in d.mql_rules],
            "sql_rate_of_accepted": handoff_model.SQL_RATE,
        },
        "handoffs": _handoff_truth(world),
        "funnel": _funnel_truth(world),
        "sourced": _sourced_truth(world, facts["touches"], facts["campaigns"], facts["ad_spend"]),
        "billing": _billing_truth(world, facts["subscriptions"]),
        "signals": signals_truth(world, facts["campaigns"], facts["touches"]),
        "unit_economics": _unit_economics_truth(
            world, facts["subscriptions"], facts["expenses"], facts["ad_spend"]
        ),
        "clean_row_counts": {f"{s}.{t}": e.first.num_rows for (s, t), e in sorted(exports.items())},
    }


def _opportunity_crm_id(world: World, index: int) -> str:
    if world.specs.crm[index] == SALESFORCE:
        return f"006{index:015d}"
    return str(index + DEAL_ID_OFFSET)


def _pause_truth(world: World) -> dict:
    """Monthly rejection rate per (source_system, lead_source) and the pause rule."""
    h, leads = world.handoffs, world.leads
    disposed = world.visible(h.time) & world.visible(h.disposition_time)
    source = leads.source[h.lead[disposed]]
    month = signals.month_index(h.disposition_time[disposed])
    rejected = h.outcome[disposed] != handoff_model.ACCEPTED
    cells: dict[tuple[int, int], list[int]] = {}
    for s, m, r in zip(source.tolist(), month.tolist(), rejected.tolist(), strict=True):
        cell = cells.setdefault((s, m), [0, 0])
        cell[0] += 1
        cell[1] += int(r)
    rows, flagged = [], []
    for (s, m), (n, r) in sorted(cells.items()):
        system, lead_source, _, _ = leads.sources[s]
        rows.append(
            {
                "source_system": system,
                "lead_source": lead_source,
                "month_start": signals.month_start(m).isoformat(),
                "dispositioned": n,
                "rejected": r,
                "rejection_rate": _rate(r, n),
            }
        )

    def breaches(s: int, m: int) -> bool:
        n, r = cells.get((s, m), (0, 0))
        return n >= signals.PAUSE_MIN_DISPOSITIONED and r / n > signals.PAUSE_REJECTION_THRESHOLD

    for s, m in sorted(cells):
        run = range(m - signals.PAUSE_CONSECUTIVE_MONTHS + 1, m + 1)
        if all(breaches(s, month) for month in run):
            system, lead_source, _, _ = leads.sources[s]
            flagged.append(
                {
                    "source_system": system,
                    "lead_source": lead_source,
                    "month_start": signals.month_start(m).isoformat(),
                }
            )
    months = world.rejection_plan.months
    return {
        "planted_source": {
            "source_system": signals.PLANTED_SOURCE[0],
            "lead_source": signals.PLANTED_SOURCE[1],
            "months": [signals.month_start(m).isoformat() for m in months] if months else [],
            "burst_leads": len(world.trade_show_leads),
        },
        "flagged": flagged,
        "source_months": rows,
    }


def _rising_truth(world: World) -> dict:
    """Company-wide weekly rejection rate and the rising-rejections rule."""
    h = world.handoffs
    disposed = world.visible(h.time) & world.visible(h.disposition_time)
    week = signals.week_index(h.disposition_time[disposed])
    rejected = h.outcome[disposed] != handoff_model.ACCEPTED
    weeks = np.unique(week)
    n = {int(k): int(c) for k, c in zip(*np.unique(week, return_counts=True), strict=True)}
    r = {
        int(k): int(c) for k, c in zip(*np.unique(week[rejected], return_counts=True), strict=True)
    }
    rate = {k: r.get(k, 0) / n[k] for k in n}
    length = signals.RISING_CONSECUTIVE_WEEKS
    flagged = [
        signals.week_start(k).isoformat()
        for k in weeks.tolist()
        if all(k - j in rate for j in range(length + 1))
        and all(rate[k - j] > rate[k - j - 1] for j in range(length))
    ]
    ramp = world.rejection_plan.ramp_weeks
    return {
        "planted_week": signals.week_start(int(ramp[-1])).isoformat() if len(ramp) else None,
        "planted_weeks": [signals.week_start(int(k)).isoformat() for k in ramp],
        "flagged_weeks": flagged,
        "weeks": [
            {
                "week_start": signals.week_start(k).isoformat(),
                "dispositioned": n[k],
                "rejected": r.get(k, 0),
                "rejection_rate": _rate(r.get(k, 0), n[k]),
            }
            for k in sorted(n)
        ],
    }


def _stuck_truth(world: World) -> dict:
    """Open opportunities at the as-of date held in their stage at least
    STUCK_DAYS_PAST_MEDIAN days past the stage's trailing median."""
    hist = world.history
    n_open = len(world.stages) - 2
    opp, stage, entered, exited = signals.visit_days(
        hist.opportunity, hist.time, hist.stage, world.as_of
    )
    day = epoch_day(world.config.end_date)
    medians = signals.trailing_medians(stage, entered, exited, day, len(world.stages))
    current = (exited < 0) & (stage < n_open)
    days = day - entered
    past = days - medians[stage]
    stuck = current & ~np.isnan(past) & (past >= signals.STUCK_DAYS_PAST_MEDIAN)

    def row(i: int) -> dict:
        index = int(opp[i])
        return {
            "opportunity_crm_id": _opportunity_crm_id(world, index),
            "source_system": "salesforce" if world.specs.crm[index] == SALESFORCE else "hubspot",
            "stage_key": world.stages[int(stage[i])],
            "entered_date": date.fromordinal(719163 + int(entered[i])).isoformat(),
            "days_in_stage": int(days[i]),
            "stage_median_days": float(medians[stage[i]]),
            "days_past_median": float(past[i]),
        }

    planted = set(world.stuck_opportunities.tolist())
    return {
        "as_of_date": world.config.end_date.isoformat(),
        "stage_median_days": {
            key: (None if np.isnan(medians[i]) else float(medians[i]))
            for i, key in enumerate(world.stages[:n_open])
        },
        "planted": [row(i) for i in np.flatnonzero(current & np.isin(opp, list(planted)))],
        "stuck": [row(i) for i in np.flatnonzero(stuck)],
    }


def _stuck_weeks(world: World) -> dict[str, dict]:
    """Key week start|stage: the opportunities open in that stage at the week's end (its
    Sunday, the as-of date for the running week), their days in the stage summed, the stage's
    trailing median at that day and how many are stuck past it (see definitions)."""
    hist = world.history
    n_open = len(world.stages) - 2
    _, stage, entered, exited = signals.visit_days(
        hist.opportunity, hist.time, hist.stage, world.as_of
    )
    as_of_day = epoch_day(world.config.end_date)
    out: dict[str, dict] = {}
    if not len(entered):
        return out
    first, last = signals.week_index(np.array([entered.min(), as_of_day]) * DAY).tolist()
    for week in range(first, last + 1):
        day = min(week * 7 - 3 + 6, as_of_day)  # the week's Sunday, in epoch days
        current = (entered <= day) & ((exited < 0) | (exited > day)) & (stage < n_open)
        medians = signals.trailing_medians(stage, entered, exited, day, len(world.stages))
        days = day - entered
        past = days - medians[stage]
        stuck = current & ~np.isnan(past) & (past >= signals.STUCK_DAYS_PAST_MEDIAN)
        for s in np.unique(stage[current]).tolist():
            at = current & (stage == s)
            out[f"{signals.week_start(week).isoformat()}|{world.stages[s]}"] = {
                "open": int(at.sum()),
                "days_in_stage": int(days[at].sum()),
                "stage_median_days": None if np.isnan(medians[s]) else float(medians[s]),
                "stuck": int((stuck & at).sum()),
            }
    return out


def _experiment_truth(world: World, campaigns: Campaigns, touches: TouchRows) -> dict:
    """Per campaign experiment and arm: persons touched, persons who became MQL within the
    window after their first touch of the arm, the rate, lift and a two-proportion z."""
    window = campaign_experiment_window_days()
    h = world.handoffs
    handed = world.visible(h.time)
    mql_lead, mql_time = h.lead[handed], h.time[handed]
    out = []
    for control, test in sorted(campaigns.test_of_control.items()):
        arms = {}
        for arm, campaign in (("test", test), ("control", control)):
            rows = (touches.campaign == campaign) & (touches.lead >= 0)
            lead, first = np.unique(touches.lead[rows], return_index=True)
            first_time = touches.time[rows][first]
            converted = 0
            if len(lead):  # an arm nobody was touched by (a small company) converts nobody
                position = np.minimum(np.searchsorted(lead, mql_lead), len(lead) - 1)
                match = (
                    (lead[position] == mql_lead)
                    & (mql_time >= first_time[position])
                    & (mql_time <= first_time[position] + window * DAY)
                )
                converted = len(np.unique(mql_lead[match]))
            arms[arm] = {
                "campaign_id": f"701{campaign:015d}",
                "persons_touched": len(lead),
                "persons_converted": int(converted),
                "conversion_rate": _rate(converted, len(lead)),
            }
        t, c = arms["test"], arms["control"]
        n1, n2 = t["persons_touched"], c["persons_touched"]
        x1, x2 = t["persons_converted"], c["persons_converted"]
        lift = round((x1 / n1) / (x2 / n2) - 1, 6) if n1 and n2 and x2 else None
        pooled = (x1 + x2) / (n1 + n2) if n1 + n2 else 0.0
        se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)) ** 0.5 if n1 and n2 else 0.0
        out.append(
            {
                "experiment_id": campaigns.experiment[control],
                "start_date": campaigns.quarter_start[control].isoformat(),
                "end_date": (campaigns.quarter_end[control] - timedelta(days=1)).isoformat(),
                "conversion_window_days": window,
                "test": t,
                "control": c,
                "lift": lift,
                "z_score": round((x1 / n1 - x2 / n2) / se, 6) if se else None,
            }
        )
    return {
        "planted": {
            "test_response_rate": signals.TEST_RESPONSE_RATE,
            "test_response_days": list(signals.TEST_RESPONSE_DAYS),
            "test_arm_share": signals.TEST_ARM_SHARE,
        },
        "experiments": out,
    }


def signals_truth(world: World, campaigns: Campaigns, touches: TouchRows) -> dict:
    return {
        "definitions": {
            "rejection_rate": "handoffs dispositioned by the export with a rejection "
            "(disqualified or recycled) / handoffs dispositioned, counted in the UTC "
            "calendar month (pause) or ISO week (rising) of the disposition",
            "pause.flagged": "(source_system, lead_source, month) where the lead source's "
            f"rejection rate was > {signals.PAUSE_REJECTION_THRESHOLD} with at least "
            f"{signals.PAUSE_MIN_DISPOSITIONED} dispositioned handoffs in each of "
            f"{signals.PAUSE_CONSECUTIVE_MONTHS} consecutive months ending in that month; "
            "lead source = the person's lead source",
            "rising.flagged_weeks": "ISO weeks (Monday) completing "
            f"{signals.RISING_CONSECUTIVE_WEEKS} consecutive strict week-over-week rises of the "
            "company-wide weekly rejection rate (consecutive calendar weeks, each with at least "
            "one disposition); planted_week is the planted run's last week",
            "stuck.stuck": "opportunities open at the as-of date whose days in the current "
            "stage (as_of_date - date entered) minus the stage's median days in stage "
            "(completed visits, exited date - entered date, exited in the "
            f"{signals.STUCK_TRAILING_DAYS} days up to the as-of date: as_of_date - "
            f"{signals.STUCK_TRAILING_DAYS} < exited date <= as_of_date) is >= "
            f"{signals.STUCK_DAYS_PAST_MEDIAN}; a visit = a stage save until the next save",
            "stuck_weeks": "key week start|open stage: as stuck.stuck, at the end of every "
            "week (its Sunday; the as-of date for the running week) instead of the as-of "
            "date: the visits entered by that day and not exited by it, their days in stage "
            "summed, the stage's trailing median at that day, and the stuck ones",
            "experiments": "persons_touched: persons with a touchpoint of the arm's campaign "
            "by the export; persons_converted: of those, persons with an MQL handoff at or "
            "after their first touch of the arm and at most conversion_window_days later "
            "(campaign_experiment_rules); conversion_rate = converted / touched; lift = test "
            "rate / control rate - 1; z_score = two-proportion z with the pooled rate",
        },
        "parameters": {
            "pause_rejection_threshold": signals.PAUSE_REJECTION_THRESHOLD,
            "pause_min_dispositioned": signals.PAUSE_MIN_DISPOSITIONED,
            "pause_consecutive_months": signals.PAUSE_CONSECUTIVE_MONTHS,
            "rising_consecutive_weeks": signals.RISING_CONSECUTIVE_WEEKS,
            "stuck_days_past_median": signals.STUCK_DAYS_PAST_MEDIAN,
            "stuck_trailing_days": signals.STUCK_TRAILING_DAYS,
            "base_rejection_by_priority": dict(
                zip(handoff_model.PRIORITIES, signals.BASE_REJECTION, strict=True)
            ),
            "max_base_rejection": signals.MAX_BASE_REJECTION,
            "planted_rejection": signals.PLANTED_REJECTION,
        },
        "pause": _pause_truth(world),
        "rising": _rising_truth(world),
        "stuck": _stuck_truth(world),
        "stuck_weeks": _stuck_weeks(world),
        "campaign_experiments": _experiment_truth(world, campaigns, touches),
    }


def _dated_seed(name: str, column: str) -> list[tuple[date, date, float]]:
    return [
        (date.fromisoformat(r["valid_from"]), date.fromisoformat(r["valid_to"]), float(r[column]))
        for r in _seed(name)
    ]


def _in_force(rules: list[tuple[date, date, float]], day: date) -> float:
    return next(value for start, end, value in rules if start <= day < end)


def _unit_economics_truth(
    world: World, subs: Subscriptions, expenses: dict, ad_spend: dict
) -> dict:
    """CAC by segment, NRR/GRR and cohort paybacks from the generator's own arrays."""
    months = subs.months
    n_months, last = len(months), len(months) - 1
    segments = [key for key, _, _ in world.definitions.segments]
    day = np.array([epoch_day(m) for m in months])
    usd = np.zeros((world.accounts.n, n_months))
    usd[subs.account, subs.month] = _usd(world, subs.mrr, subs.account, day[subs.month])
    margin = np.array([_in_force(_dated_seed("gross_margins", "gross_margin"), m) for m in months])
    window = int(
        _in_force(_dated_seed("unit_economics_windows", "retention_lookback_months"), months[last])
    )
    paying = usd > 0
    ever = paying.cumsum(axis=1) > 0
    first = np.where(ever.any(axis=1), ever.argmax(axis=1), n_months)
    new = (first > 0) & (
        first < n_months
    )  # the first month of billing history is the opening balance
    segment = world.accounts.segment
    flags = _category_flags()
    month_of = np.searchsorted(day, np.asarray(expenses["month_start"]), "right") - 1
    amount = np.asarray(expenses["amount"])
    category = expenses["category"].to_pylist()
    direct = np.array([flags[c]["advertising"] for c in category])

    def monthly(kind: str, rows: np.ndarray) -> np.ndarray:
        mask = rows & np.array([flags[c][kind] for c in category])
        return np.bincount(month_of[mask], weights=amount[mask], minlength=n_months)

    # each kind's direct cost (advertising categories) and shared cost (every other one)
    split = {
        kind: (monthly(kind, direct), monthly(kind, ~direct))
        for kind in ("fully_loaded", "marketing", "advertising")
    }
    expense = {kind: parts[0] + parts[1] for kind, parts in split.items()}
    new_count = np.bincount(first[new], minlength=n_months + 1)[:n_months]
    by_segment = np.zeros((len(segments), n_months))
    for s in range(len(segments)):
        by_segment[s] = np.bincount(first[new & (segment == s)], minlength=n_months + 1)[:n_months]
    share = np.divide(by_segment, new_count, out=np.zeros_like(by_segment), where=new_count > 0)
    allocated = share * expense["fully_loaded"]
    period = slice(last - 11, last + 1)
    cac_by_segment = {
        name: _rate(allocated[s, period].sum(), by_segment[s, period].sum())
        for s, name in enumerate(segments)
    }
    cohort = paying[:, last - window] if last >= window else np.zeros(world.accounts.n, bool)
    then, now = usd[cohort, last - window], usd[cohort, last]
    retention = {"company": (now.sum(), np.minimum(now, then).sum(), then.sum())}
    for s, name in enumerate(segments):
        mask = segment[cohort] == s
        retention[name] = (
            now[mask].sum(),
            np.minimum(now[mask], then[mask]).sum(),
            then[mask].sum(),
        )

    def payback(members: np.ndarray, cost: float, start: int) -> int | None:
        gross = (usd[members, start:].sum(axis=0) * margin[start:]).cumsum()
        reached = np.flatnonzero(gross >= cost)
        return int(reached[0]) + 1 if len(reached) else None

    cohorts = {}
    for m in range(1, n_months):
        members = new & (first == m)
        if members.any():
            cohorts[f"{months[m].isoformat()}|all"] = payback(
                members, expense["fully_loaded"][m], m
            )
        for s, name in enumerate(segments):
            if (members & (segment == s)).any():
                cohorts[f"{months[m].isoformat()}|{name}"] = payback(
                    members & (segment == s), allocated[s, m], m
                )
    paybacks: dict[str, float | None] = {}
    for m in range(1, n_months):
        for s, name in [(None, "all"), *enumerate(segments)]:
            members = new & (first == m) & (True if s is None else segment == s)
            part = 1.0 if s is None else share[s, m]
            new_mrr = usd[members, m].sum()
            paybacks[f"{months[m].isoformat()}|{name}"] = (
                round(float(expense["fully_loaded"][m - 1] * part / (new_mrr * margin[m])), 6)
                if new_mrr > 0
                else None
            )
    churn_window = int(
        _in_force(_dated_seed("unit_economics_windows", "churn_window_months"), months[last])
    )
    trailing = slice(max(1, last - churn_window), last)  # the months before the last
    lifetime_value = {}
    for s, name in [(None, "company"), *enumerate(segments)]:
        mask = np.ones(world.accounts.n, bool) if s is None else segment == s
        at_end = paying[mask, last]
        at_start = paying[mask][:, trailing.start - 1 : trailing.stop - 1]
        churned = at_start & ~paying[mask][:, trailing]
        mrr, paying_count = usd[mask, last][at_end].sum(), at_end.sum()
        churned_count, start_count = churned.sum(), at_start.sum()
        lifetime_value[name] = {
            "arpa": _rate(mrr, paying_count),
            "trailing_churn_rate": _rate(churned_count, start_count),
            "ltv": (
                round(float(mrr / paying_count * margin[last] * start_count / churned_count), 2)
                if paying_count and churned_count
                else None
            ),
        }
    magic_number = _magic_number_quarters(world, months, usd, paying, expense["fully_loaded"])
    # company NRR and GRR of every month with the lookback month in the billing history
    retention_months = {}
    for m in range(window, n_months):
        was = paying[:, m - window]
        then, now = usd[was, m - window], usd[was, m]
        kept = np.minimum(now, then)
        retention_months[months[m].isoformat()] = {
            "nrr": _rate(now.sum(), then.sum()),
            "grr": _rate(kept.sum(), then.sum()),
            "segments": {
                name: {
                    "nrr": _rate(now[mask].sum(), then[mask].sum()),
                    "grr": _rate(kept[mask].sum(), then[mask].sum()),
                }
                for s, name in enumerate(segments)
                for mask in [segment[was] == s]
                if mask.any()
            },
        }
    cac_months = {
        months[m].isoformat(): {
            "new_customers": int(new_count[m]),
            **{f"{kind}_expense": round(float(expense[kind][m]), 2) for kind in expense},
        }
        for m in range(n_months)
    }
    cac_channel_months = _cac_channel_months(
        world, months, first[new], _acquisition_channels(world)[new], split, ad_spend
    )
    return {
        "definitions": {
            "new_customer": "an account counted once, in its first month of MRR > 0 after the "
            "first month of billing history (which is the opening balance)",
            "cac": "go-to-market expense (USD) of the period in the expense_categories flagged "
            "for the kind / new customers of the period; by segment, each month's fully "
            "loaded expense is allocated by the segment's share of that month's new customers "
            "(a month without new customers allocates nothing)",
            "cac_period": "the twelve months ending with ending_month",
            "nrr/grr": "accounts with MRR > 0 retention_lookback_months before ending_month: "
            "their MRR (USD at each month's rate) in ending_month / their MRR then; GRR caps each "
            "account at its MRR then",
            "cohort_payback_month": "key cohort month|segment ('all' = every segment): the first "
            "month (1 = the cohort's first billed month) in which the cohort's cumulative MRR x "
            "gross margin (gross_margins seed of each month) reaches its acquisition cost (the "
            "cohort month's fully loaded expense allocated to it); null while it has not",
            "cac_payback_months": "key month|segment ('all' = the company), period form: the "
            "previous month's fully loaded expense (by segment, allocated by the segment's "
            "share of this month's new customers) / (this month's new customers' MRR x the "
            "month's gross margin); null for a month without new MRR",
            "lifetime_value": "in ending_month, for the company and each segment: arpa = MRR "
            "(USD) / accounts paying; trailing_churn_rate = accounts that stopped paying in "
            "each of the churn_window_months months before ending_month / accounts paying at "
            "the start of each, summed; ltv = arpa x gross margin / trailing_churn_rate",
            "retention_months": "key month: the company's NRR and GRR, as nrr/grr but ending "
            "with that month, for every month retention_lookback_months after the first; "
            "segments: the same for each segment with an account paying then",
            "cac_months": "key month: the company's new customers and its fully loaded, "
            "marketing and advertising expense (USD)",
            "cac_channel_months": "key month|acquisition channel (the lead source channel "
            "of the account's first won opportunity; None without one): new customers and the "
            "fully loaded, marketing and advertising expense (USD) allocated to the channel: "
            "each kind's advertising categories by the channel's share of the month's ad "
            "spend (ad platform campaigns carry the generator's channel), its other "
            "categories by the channel's share of the month's new customers; in a month "
            "without ad spend the advertising categories follow new customers too, and in a "
            "month without new customers what they would allocate stays with None. Cells "
            "with no customer and no cost are left out",
            "magic_number": "key quarter start: revenue = the sum of the quarter's monthly MRR "
            "(USD at each month's rate), expense = its fully loaded expense, "
            "paying_account_months = the account-months summed; magic_number = (revenue - "
            "the previous quarter's) x 4 / the previous quarter's expense, for a quarter "
            "whose three months and its previous quarter's are billed and ended by end_date",
        },
        "ending_month": months[last].isoformat(),
        "cac_period": [months[last - 11].isoformat(), months[last].isoformat()],
        "new_customers_in_cac_period": int(new_count[period].sum()),
        "new_customers_by_segment_in_cac_period": {
            name: int(by_segment[s, period].sum()) for s, name in enumerate(segments)
        },
        "cac_fully_loaded": _rate(expense["fully_loaded"][period].sum(), new_count[period].sum()),
        "cac_marketing": _rate(expense["marketing"][period].sum(), new_count[period].sum()),
        "cac_advertising": _rate(expense["advertising"][period].sum(), new_count[period].sum()),
        "cac_fully_loaded_by_segment": cac_by_segment,
        "retention_lookback_months": window,
        "retention_start_month": months[last - window].isoformat() if last >= window else None,
        "nrr": {key: _rate(v[0], v[2]) for key, v in retention.items()},
        "grr": {key: _rate(v[1], v[2]) for key, v in retention.items()},
        "cohort_payback_month": cohorts,
        "cac_payback_months": paybacks,
        "churn_window_months": churn_window,
        "lifetime_value": lifetime_value,
        "magic_number": magic_number,
        "cac_channel_months": cac_channel_months,
        "retention_months": retention_months,
        "cac_months": cac_months,
    }


def _acquisition_channels(world: World) -> np.ndarray:
    """Per account: the lead source channel of its first won opportunity (earliest close
    day, then the lowest id), None without one or without a lead source."""
    specs, state = world.specs, world.state
    won = np.flatnonzero(state.is_won)
    won = won[np.lexsort((won, state.close_day[won], specs.account[won]))]
    account = specs.account[won]
    first = np.concatenate([[True], account[1:] != account[:-1]]) if len(won) else []
    channels = np.array([c for _, _, c, _ in world.leads.sources] + [None], dtype=object)
    out = np.full(world.accounts.n, None, dtype=object)
    out[account[first]] = channels[specs.source[won[first]]]
    return out


def _cac_channel_months(
    world: World,
    months: list,
    first: np.ndarray,
    channel: np.ndarray,
    split: dict[str, tuple[np.ndarray, np.ndarray]],
    ad_spend: dict,
) -> dict[str, dict]:
    """Key month|channel: the new customers (first billed month `first`, acquisition
    `channel`) and each kind's expense allocated to the channel (see cac_channel_months)."""
    platform_channel = {(unit, platform): c for (unit, c), platform in AD_PLATFORMS.items()}
    spend_channel = [
        platform_channel[tuple(reversed(account.rsplit("-", 1)))]
        for account in ad_spend["ad_account_id"].to_pylist()
    ]
    spend_month = signals.month_index(np.asarray(ad_spend["spend_date"], dtype=np.int64) * DAY)
    month_index = {signals.month_of(m): i for i, m in enumerate(months)}
    # the channels, then None (no acquisition channel) last
    names = [*sorted({c for c in channel.tolist() if c is not None} | set(spend_channel)), None]
    customers = np.zeros((len(names), len(months)))
    spend = np.zeros((len(names), len(months)))
    np.add.at(customers, ([names.index(c) for c in channel.tolist()], first), 1)
    in_months = np.array([m in month_index for m in spend_month.tolist()], bool)
    np.add.at(
        spend,
        (
            [names.index(c) for c, kept in zip(spend_channel, in_months, strict=True) if kept],
            [month_index[m] for m in spend_month[in_months].tolist()],
        ),
        np.asarray(ad_spend["spend"])[in_months],
    )

    def shares(basis: np.ndarray) -> np.ndarray:
        total = basis.sum(axis=0)
        unallocated = np.zeros_like(basis)
        unallocated[-1] = 1.0  # the None row keeps a month's cost without a basis
        return np.where(total > 0, basis / np.where(total > 0, total, 1), unallocated)

    shared = shares(customers)
    direct = np.where(spend.sum(axis=0) > 0, shares(spend), shared)
    allocated = {kind: d * direct + s * shared for kind, (d, s) in split.items()}
    out = {}
    for c, name in enumerate(names):
        for m, month in enumerate(months):
            cell = {f"{kind}_expense": round(float(a[c, m]), 2) for kind, a in allocated.items()}
            if customers[c, m] or any(cell.values()):
                out[f"{month.isoformat()}|{name}"] = {
                    "new_customers": int(customers[c, m]),
                    **cell,
                }
    return dict(sorted(out.items()))


def _magic_number_quarters(
    world: World, months: list, usd: np.ndarray, paying: np.ndarray, expense: np.ndarray
) -> dict[str, dict]:
    """Key quarter start: revenue, expense and the magic number (see its definition)."""
    quarters: dict[date, list[int]] = {}
    for m, month in enumerate(months):
        quarters.setdefault(date(month.year, (month.month - 1) // 3 * 3 + 1, 1), []).append(m)
    out: dict[str, dict] = {}
    previous = None
    for start, members in sorted(quarters.items()):
        end = date(start.year + start.month // 10, (start.month + 2) % 12 + 1, 1)
        complete = len(members) == 3 and end <= world.config.end_date + timedelta(days=1)
        revenue, spent = float(usd[:, members].sum()), float(expense[members].sum())
        magic = None
        if complete and previous is not None and previous["complete"] and previous["expense"]:
            magic = round((revenue - previous["revenue"]) * 4 / previous["expense"], 6)
        out[start.isoformat()] = {
            "revenue": round(revenue, 2),
            "expense": round(spent, 2),
            "paying_account_months": int(paying[:, members].sum()),
            "magic_number": magic,
        }
        previous = {"complete": complete, "revenue": revenue, "expense": spent}
    return out


def _category_flags() -> dict[str, dict[str, bool]]:
    return {
        r["category"]: {
            "fully_loaded": r["is_fully_loaded_cac"] == "true",
            "marketing": r["is_marketing_cac"] == "true",
            "advertising": r["is_advertising_cac"] == "true",
        }
        for r in _seed("expense_categories")
    }
