"""Opportunity lifecycles: stage progression with stalls, regressions, close-date pushes and
pull-ins, amount changes, and a won/lost outcome by segment win rate.

Each opportunity is a run of "saves" (one OpportunityHistory row each): the creation in the
first stage, every stage change (including a step back), and the close. Amount and close date
can change at any save; a lost deal keeps its last open amount. Saves after the export time are
cut, so deals still in progress are open at the end date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sros.demo_company.arrays import (
    DAY,
    choice,
    cumsum_in_group,
    group_starts,
    position_in_group,
)
from sros.demo_company.seeds import Definitions

NEW_BUSINESS, EXPANSION, RENEWAL = 0, 1, 2
OPPORTUNITY_TYPES = ["New Business", "Expansion", "Renewal"]
WON, LOST = "closed_won", "closed_lost"
STAGE_PROBABILITY = {
    "discovery": 10,
    "solution": 25,
    "proposal": 50,
    "negotiation": 75,
    WON: 100,
    LOST: 0,
}
FORECAST_CATEGORY = {
    "discovery": "Pipeline",
    "solution": "Pipeline",
    "proposal": "Best Case",
    "negotiation": "Commit",
    WON: "Closed",
    LOST: "Omitted",
}
CYCLE_DAYS = (35.0, 70.0, 140.0)  # typical sales cycle by segment index (smb, mid, enterprise)
TYPE_CYCLE_FACTOR = (1.0, 0.6, 0.5)


def stage_keys(definitions: Definitions) -> list[str]:
    """Opportunity stage keys in funnel order: the open stages, then won, then lost."""
    mapped = definitions.crm_values("salesforce", "opportunity", "stage_name")
    open_keys = sorted(
        (key for key in mapped if key not in (WON, LOST)),
        key=lambda key: definitions.stage_order[key],
    )
    return [*open_keys, WON, LOST]


@dataclass
class OpportunitySpecs:
    """Opportunities to simulate, as parallel arrays."""

    account: np.ndarray
    crm: np.ndarray
    created: np.ndarray
    kind: np.ndarray  # NEW_BUSINESS, EXPANSION or RENEWAL
    owner: np.ndarray  # rep index
    amount: np.ndarray  # in the account's currency
    segment: np.ndarray
    origin_lead: np.ndarray  # converted lead, -1 when sales-sourced or on a customer
    source: np.ndarray  # index into Leads.sources, -1 when none
    win_probability: np.ndarray
    parent: np.ndarray  # the won new-business opportunity an expansion/renewal grows, or -1

    @staticmethod
    def concat(parts: list[OpportunitySpecs]) -> OpportunitySpecs:
        return OpportunitySpecs(
            **{
                name: np.concatenate([getattr(part, name) for part in parts])
                for name in OpportunitySpecs.__dataclass_fields__
            }
        )

    def __len__(self) -> int:
        return len(self.account)


@dataclass
class OpportunityHistory:
    """All saves of all opportunities (sorted by opportunity, time), uncensored."""

    opportunity: np.ndarray
    time: np.ndarray
    stage: np.ndarray  # index into stage_keys()
    amount: np.ndarray
    close_day: np.ndarray  # epoch day


def simulate_opportunities(
    specs: OpportunitySpecs, n_open_stages: int, rng: np.random.Generator
) -> OpportunityHistory:
    n = len(specs)
    won = rng.random(n) < specs.win_probability
    reached = np.where(
        won, n_open_stages, 1 + choice(rng, n, [0.35, 0.3, 0.2, 0.15][:n_open_stages])
    )
    regress = (reached >= 2) & (rng.random(n) < 0.12)
    regress_at = 2 + (rng.random(n) * np.maximum(reached - 1, 1)).astype(np.int64)
    regress_at = np.minimum(regress_at, reached)
    steps = reached + 2 * regress + 1
    opp = np.repeat(np.arange(n), steps)
    p = position_in_group(steps)
    k, r, j = reached[opp], regress[opp], regress_at[opp]
    stage_number = np.where(r & (p == j), j - 1, np.where(r & (p > j), p - 1, p + 1))
    closed = p == steps[opp] - 1
    stage = np.where(
        closed,
        np.where(won[opp], n_open_stages, n_open_stages + 1),
        np.minimum(stage_number, k) - 1,
    )

    cycle = np.array(CYCLE_DAYS)[specs.segment] * np.array(TYPE_CYCLE_FACTOR)[specs.kind]
    step_mean = cycle[opp] / np.maximum(steps[opp] - 1, 1)
    stall = np.where(rng.random(len(opp)) < 0.1, rng.uniform(3, 5, len(opp)), 1.0)
    duration = np.where(
        p == 0, 0.0, 3600 + rng.exponential(1.0, len(opp)) * step_mean * stall * DAY
    )
    time = specs.created[opp] + cumsum_in_group(duration, steps).astype(np.int64)

    change = (p > 0) & ~closed & (rng.random(len(opp)) < 0.15)
    factor = np.where(change, rng.uniform(0.75, 1.3, len(opp)), 1.0)
    amount = specs.amount[opp] * np.exp(cumsum_in_group(np.log(factor), steps))
    amount = np.round(amount, 2)

    planned = specs.created // DAY + (cycle * rng.uniform(0.7, 1.3, n)).astype(np.int64)
    push = (p > 0) & (rng.random(len(opp)) < 0.18)
    pull = (p > 0) & ~push & (rng.random(len(opp)) < 0.06)
    shift = np.where(push, rng.integers(14, 61, len(opp)), 0) - np.where(
        pull, rng.integers(7, 22, len(opp)), 0
    )
    close_day = planned[opp] + cumsum_in_group(shift, steps)
    today = time // DAY
    # A close date that has passed while the deal is open gets pushed out by the rep.
    close_day = np.where(close_day < today, today + 14, close_day)
    close_day = np.where(closed, today, close_day)
    return OpportunityHistory(
        opportunity=opp, time=time, stage=stage, amount=amount, close_day=close_day.astype(np.int64)
    )


@dataclass
class OpportunityState:
    """Each opportunity as of the export time (opportunities created later are excluded by the
    caller through `exists`)."""

    exists: np.ndarray
    stage: np.ndarray
    amount: np.ndarray
    close_day: np.ndarray
    is_closed: np.ndarray
    is_won: np.ndarray
    last_modified: np.ndarray
    closed_time: np.ndarray  # -1 when open


def state_as_of(history: OpportunityHistory, n: int, as_of: int, n_open: int) -> OpportunityState:
    visible = history.time <= as_of
    sizes = np.bincount(history.opportunity[visible], minlength=n)
    exists = sizes > 0
    last = group_starts(sizes) + sizes - 1
    rows = np.flatnonzero(visible)[np.where(exists, last, 0)]
    stage = np.where(exists, history.stage[rows], -1)
    is_closed = exists & (stage >= n_open)
    return OpportunityState(
        exists=exists,
        stage=stage,
        amount=history.amount[rows],
        close_day=history.close_day[rows],
        is_closed=is_closed,
        is_won=exists & (stage == n_open),
        last_modified=history.time[rows],
        closed_time=np.where(is_closed, history.time[rows], -1),
    )
