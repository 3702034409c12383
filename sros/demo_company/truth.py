"""ground_truth.json: the parameters the company was generated with and the rates it actually
realised, computed from the generated (clean) records as of the export time.

Each block carries a `definitions` entry saying exactly how its numbers are computed, so a test
can rebuild them from the marts. Ratios are ratios of sums.
"""

from __future__ import annotations

import csv
from datetime import date

import numpy as np

from sros.demo_company import handoffs as handoff_model
from sros.demo_company.arrays import DAY, epoch_day
from sros.demo_company.config import DemoConfig
from sros.demo_company.dirty import Export
from sros.demo_company.opportunities import OPPORTUNITY_TYPES
from sros.demo_company.population import CURRENCIES
from sros.demo_company.rates import month_starts, monthly_rates, rate_lookup
from sros.demo_company.revenue import Subscriptions
from sros.demo_company.world import World
from sros.paths import SEEDS_DIR


def _rate(numerator: float, denominator: float) -> float | None:
    return round(float(numerator) / float(denominator), 6) if denominator else None


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
            "base_acceptance_by_priority": dict(
                zip(handoff_model.PRIORITIES, handoff_model.BASE_ACCEPTANCE, strict=True)
            ),
            "sql_rate_of_accepted": handoff_model.SQL_RATE,
        },
        "handoffs": _handoff_truth(world),
        "funnel": _funnel_truth(world),
        "billing": _billing_truth(world, facts["subscriptions"]),
        "unit_economics": _unit_economics_truth(world, facts["subscriptions"], facts["expenses"]),
        "clean_row_counts": {f"{s}.{t}": e.first.num_rows for (s, t), e in sorted(exports.items())},
    }


def _dated_seed(name: str, column: str) -> list[tuple[date, date, float]]:
    with (SEEDS_DIR / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
        return [
            (
                date.fromisoformat(r["valid_from"]),
                date.fromisoformat(r["valid_to"]),
                float(r[column]),
            )
            for r in csv.DictReader(handle)
        ]


def _in_force(rules: list[tuple[date, date, float]], day: date) -> float:
    return next(value for start, end, value in rules if start <= day < end)


def _unit_economics_truth(world: World, subs: Subscriptions, expenses: dict) -> dict:
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
    categories = {key: flag for key, flag in _category_flags().items()}
    month_of = np.searchsorted(day, np.asarray(expenses["month_start"]), "right") - 1
    amount = np.asarray(expenses["amount"])
    category = np.asarray(expenses["category"].to_pylist())
    expense = {
        kind: np.bincount(
            month_of[np.array([categories[c][kind] for c in category])],
            weights=amount[np.array([categories[c][kind] for c in category])],
            minlength=n_months,
        )
        for kind in ("fully_loaded", "marketing", "advertising")
    }
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
    }


def _category_flags() -> dict[str, dict[str, bool]]:
    with (SEEDS_DIR / "expense_categories.csv").open(newline="", encoding="utf-8") as handle:
        return {
            r["category"]: {
                "fully_loaded": r["is_fully_loaded_cac"] == "true",
                "marketing": r["is_marketing_cac"] == "true",
                "advertising": r["is_advertising_cac"] == "true",
            }
            for r in csv.DictReader(handle)
        }
