"""The MQL handoff: routing to an SDR, first sales touch on the business calendar of the
owner's region, reassignment of leads left untouched, and the sales disposition.

Delays to the first touch are drawn in business minutes (each rep has a typical speed; high
intent leads are worked faster) and turned into wall-clock times by walking the region's
business calendar, so a lead arriving on Friday night is touched on Monday morning. A handoff
still untouched when the SLA term's reassignment window ends is reassigned to another SDR of
the region, who then touches it. Which handoffs sales rejects is decided by quota per lead
source and disposition month (signals.RejectionPlan: the rate depends on the lead source's
quality; the planted trade-show burst is rejected far more); the reason mix depends on the
lead source's quality; the status a rejection leads to (disqualified or recycled) is the reason
code's `disposition` in the rejection_reasons seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sros.demo_company.arrays import DAY, NULL, choice_rows
from sros.demo_company.calendar import RegionCalendars
from sros.demo_company.population import Accounts, Leads, rule_in_force, rule_starts
from sros.demo_company.seeds import Definitions
from sros.demo_company.signals import RejectionPlan
from sros.demo_company.users import SDR, Org

HIGH_INTENT, WARM = 0, 1
PRIORITIES = ["high_intent", "warm"]
ACCEPTED, DISQUALIFIED, RECYCLED = 0, 1, 2
HIGH_INTENT_SPEEDUP = 0.35  # high-intent leads are worked about three times faster
SQL_RATE = 0.6  # accepted leads that qualify to an opportunity
# Rejection reason weights for the poorest and the best lead sources.
REASONS_POOR_SOURCE = {
    "wrong_company_size": 0.22,
    "wrong_industry": 0.14,
    "no_authority": 0.12,
    "no_budget": 0.06,
    "no_timeline": 0.08,
    "competitor_lock_in": 0.03,
    "bad_contact_data": 0.22,
    "unresponsive": 0.13,
}
REASONS_GOOD_SOURCE = {
    "wrong_company_size": 0.05,
    "wrong_industry": 0.04,
    "no_authority": 0.10,
    "no_budget": 0.22,
    "no_timeline": 0.28,
    "competitor_lock_in": 0.14,
    "bad_contact_data": 0.04,
    "unresponsive": 0.13,
}


@dataclass
class Handoffs:
    """One row per MQL handoff (a lead may have two: recycled leads can re-qualify)."""

    lead: np.ndarray
    cycle: np.ndarray  # 1 or 2
    time: np.ndarray
    priority: np.ndarray  # HIGH_INTENT or WARM
    sla_term: np.ndarray  # index into definitions.sla_terms
    owner: np.ndarray  # rep index
    reassigned: np.ndarray
    reassign_time: np.ndarray  # -1 when not reassigned
    second_owner: np.ndarray  # rep index, -1 when not reassigned
    first_touch_time: np.ndarray
    first_touch_owner: np.ndarray
    first_touch_minutes: np.ndarray  # business minutes, owner's region calendar
    follow_up_time: np.ndarray  # a second sales touch, -1 when none
    outcome: np.ndarray  # ACCEPTED, DISQUALIFIED or RECYCLED
    reason: np.ndarray  # index into definitions.rejection_reasons, -1 when accepted
    disposition_time: np.ndarray
    sql_time: np.ndarray  # -1 unless the accepted lead converted

    @staticmethod
    def concat(parts: list[Handoffs]) -> Handoffs:
        fields = Handoffs.__dataclass_fields__
        return Handoffs(
            **{name: np.concatenate([getattr(p, name) for p in parts]) for name in fields}
        )


def sla_term_index(definitions: Definitions, priority: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The SLA term in force at each handoff time for its priority."""
    out = np.zeros(len(t), dtype=np.int64)
    for code, name in enumerate(PRIORITIES):
        terms = [
            i
            for i, term in enumerate(definitions.sla_terms)
            if term.values["lead_priority"] == name
        ]
        starts = rule_starts(tuple(definitions.sla_terms[i] for i in terms))
        rows = priority == code
        out[rows] = np.asarray(terms)[rule_in_force(starts, t[rows])]
    return out


def _term_values(definitions: Definitions, column: str) -> np.ndarray:
    return np.array([float(term.values[column]) for term in definitions.sla_terms])


def simulate_handoffs(
    definitions: Definitions,
    org: Org,
    calendars: RegionCalendars,
    accounts: Accounts,
    leads: Leads,
    lead: np.ndarray,
    time: np.ndarray,
    high_intent: np.ndarray,
    cycle: int,
    rng: np.random.Generator,
    plan: RejectionPlan,
) -> Handoffs:
    reps = org.reps
    assert reps is not None
    n = len(lead)
    priority = np.where(high_intent, HIGH_INTENT, WARM)
    term = sla_term_index(definitions, priority, time)
    reassign_after = _term_values(definitions, "reassign_after_business_minutes")[term]

    owner = np.zeros(n, dtype=np.int64)
    second = np.full(n, NULL, dtype=np.int64)
    crm, region = leads.crm[lead], accounts.region[leads.account[lead]]
    for crm_code in np.unique(crm):
        for region_code in np.unique(region):
            rows = np.flatnonzero((crm == crm_code) & (region == region_code))
            if not len(rows):
                continue
            pool = reps.pool(int(crm_code), SDR, int(region_code))
            pick = rng.integers(0, len(pool), len(rows))
            owner[rows] = pool[pick]
            second[rows] = pool[
                (pick + 1 + rng.integers(0, max(1, len(pool) - 1), len(rows))) % len(pool)
            ]
    owner_region = reps.region[owner]
    speed = np.where(priority == HIGH_INTENT, HIGH_INTENT_SPEEDUP, 1.0)
    minutes = reps.median_minutes[owner] * speed * rng.lognormal(0, 0.9, n)
    left_untouched = rng.random(n) < reps.p_untouched[owner]
    reassigned = left_untouched | (minutes > reassign_after)
    minutes = np.maximum(minutes, 1.0)
    direct_touch = calendars.add_minutes(owner_region, time, minutes)
    reassign_time = calendars.add_minutes(owner_region, time, reassign_after)
    second_minutes = np.maximum(
        reps.median_minutes[second] * HIGH_INTENT_SPEEDUP * rng.lognormal(0, 0.6, n), 1.0
    )
    escalated_touch = calendars.add_minutes(owner_region, reassign_time, second_minutes)
    first_touch = np.where(reassigned, escalated_touch, direct_touch)
    first_minutes = calendars.minutes_between(owner_region, time, first_touch)

    follow_up = np.where(
        rng.random(n) < 0.6,
        calendars.add_minutes(owner_region, first_touch, rng.uniform(240, 2400, n)),
        NULL,
    )

    hours = rng.lognormal(np.log(3), 1.0, n) + np.where(
        rng.random(n) < 0.1, rng.uniform(48, 200, n), 0.0
    )
    disposition_time = first_touch + (hours * 3600).astype(np.int64)
    accepted = ~plan.decide(lead, disposition_time, priority, cycle, rng)

    codes = [code for code, _ in definitions.rejection_reasons]
    poor = np.array([REASONS_POOR_SOURCE.get(code, 0.1) for code in codes])
    good = np.array([REASONS_GOOD_SOURCE.get(code, 0.1) for code in codes])
    poorness = np.clip((1.2 - leads.quality[lead]) / 0.65, 0, 1)[:, None]
    mix = poorness * poor / poor.sum() + (1 - poorness) * good / good.sum()
    reason = np.where(accepted, NULL, choice_rows(rng, mix))
    recycles = np.array(
        [disposition == "recycled" for _, disposition in definitions.rejection_reasons]
    )
    outcome = np.where(
        accepted, ACCEPTED, np.where(recycles[np.maximum(reason, 0)], RECYCLED, DISQUALIFIED)
    )
    converts = accepted & (rng.random(n) < SQL_RATE)
    sql_time = np.where(
        converts, disposition_time + rng.uniform(1 * DAY, 25 * DAY, n).astype(np.int64), NULL
    )
    return Handoffs(
        lead=lead,
        cycle=np.full(n, cycle),
        time=time,
        priority=priority,
        sla_term=term,
        owner=owner,
        reassigned=reassigned,
        reassign_time=np.where(reassigned, reassign_time, NULL),
        second_owner=np.where(reassigned, second, NULL),
        first_touch_time=first_touch,
        first_touch_owner=np.where(reassigned, second, owner),
        first_touch_minutes=first_minutes,
        follow_up_time=follow_up,
        outcome=outcome,
        reason=reason,
        disposition_time=disposition_time,
        sql_time=sql_time,
    )
