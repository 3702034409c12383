"""Lead lifecycle events (status and owner changes) shared by both CRMs.

Statuses are funnel stage keys here ("lead", "mql", "sal", "sql", "recycled", "disqualified",
plus "nurture" for a lead moved to nurturing); each CRM writes them with its own picklist
values from crm_stage_mappings. Owners are rep indices, -1 for the marketing queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sros.demo_company.arrays import DAY, NULL, group_starts
from sros.demo_company.handoffs import ACCEPTED, DISQUALIFIED, RECYCLED
from sros.demo_company.world import World

STATUSES = ["lead", "nurture", "mql", "sal", "sql", "recycled", "disqualified"]
LEAD, NURTURE, MQL, SAL, SQL, RECYCLED_STATUS, DISQUALIFIED_STATUS = range(len(STATUSES))
QUEUE = NULL


@dataclass
class Events:
    """Visible events sorted by (lead, time), with the value before each change."""

    lead: np.ndarray
    time: np.ndarray
    old: np.ndarray
    new: np.ndarray
    actor: np.ndarray  # rep index who made the change, -1 for marketing automation


def _sorted_events(
    lead: np.ndarray,
    time: np.ndarray,
    new: np.ndarray,
    actor: np.ndarray,
    initial: int,
    visible: np.ndarray,
) -> Events:
    lead, time, new, actor = lead[visible], time[visible], new[visible], actor[visible]
    order = np.lexsort((time, lead))
    lead, time, new, actor = lead[order], time[order], new[order], actor[order]
    old = np.concatenate([[initial], new[:-1]]) if len(new) else new.copy()
    starts = np.concatenate([[True], lead[1:] != lead[:-1]]) if len(lead) else np.zeros(0, bool)
    old = np.where(starts, initial, old)
    return Events(lead=lead, time=time, old=old, new=new, actor=actor)


def status_events(world: World) -> Events:
    h, leads = world.handoffs, world.leads
    rng = np.random.default_rng([world.config.seed, 7])
    never = np.ones(leads.n, dtype=bool)
    never[h.lead] = False
    nurtured = np.flatnonzero(never & (rng.random(leads.n) < 0.5))
    nurture_time = leads.created[nurtured] + rng.integers(3 * DAY, 30 * DAY, len(nurtured))
    disposition = np.select(
        [h.outcome == ACCEPTED, h.outcome == DISQUALIFIED, h.outcome == RECYCLED],
        [SAL, DISQUALIFIED_STATUS, RECYCLED_STATUS],
    )
    converts = h.sql_time >= 0
    lead = np.concatenate([nurtured, h.lead, h.lead, h.lead[converts]])
    time = np.concatenate([nurture_time, h.time, h.disposition_time, h.sql_time[converts]])
    new = np.concatenate(
        [
            np.full(len(nurtured), NURTURE),
            np.full(len(h.lead), MQL),
            disposition,
            np.full(int(converts.sum()), SQL),
        ]
    )
    actor = np.concatenate(
        [
            np.full(len(nurtured), QUEUE),
            np.full(len(h.lead), QUEUE),
            h.first_touch_owner,
            h.first_touch_owner[converts],
        ]
    )
    return _sorted_events(lead, time, new, actor, LEAD, world.visible(time))


def owner_events(world: World) -> Events:
    h = world.handoffs
    moved = h.reassigned
    lead = np.concatenate([h.lead, h.lead[moved]])
    time = np.concatenate([h.time, h.reassign_time[moved]])
    new = np.concatenate([h.owner, h.second_owner[moved]])
    actor = np.full(len(lead), QUEUE)
    return _sorted_events(lead, time, new, actor, QUEUE, world.visible(time))


def current(events: Events, n: int, initial: int) -> tuple[np.ndarray, np.ndarray]:
    """Per lead: the value after its last visible event (or `initial`), and that event's time
    (-1 when none)."""
    sizes = np.bincount(events.lead, minlength=n)
    has = sizes > 0
    last = group_starts(sizes) + sizes - 1
    value = np.full(n, initial, dtype=np.int64)
    time = np.full(n, NULL, dtype=np.int64)
    value[has] = events.new[last[has]]
    time[has] = events.time[last[has]]
    return value, time


def latest_handoff(world: World) -> np.ndarray:
    """Per lead: index of its latest visible handoff, -1 when none."""
    h = world.handoffs
    out = np.full(world.leads.n, NULL, dtype=np.int64)
    rows = np.flatnonzero(world.visible(h.time))
    order = rows[np.lexsort((h.time[rows], h.lead[rows]))]
    out[h.lead[order]] = order  # later handoffs overwrite earlier ones
    return out


def lead_scores(world: World) -> np.ndarray:
    """Behavioural score per lead: capped sum of touch points of its visible touches."""
    t = world.touches
    points = np.array([score for _, _, score in world.definitions.touch_types])[t.kind]
    visible = world.visible(t.time)
    total = np.bincount(t.lead[visible], weights=points[visible], minlength=world.leads.n)
    return np.minimum(total, 100.0)
