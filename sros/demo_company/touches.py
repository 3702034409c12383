"""Marketing touches of each person and the MQL moment they produce.

Every lead makes a creation touch (the form fill or demo request that made it known), later
known touches (carrying the email), and often anonymous web touches before that (cookie only,
resolved later through the identity table). The behavioural score is the sum of the seed's
touch_types.score_points over a person's touches, capped at 100; a lead becomes an MQL at the
first touch after which the MQL rule in force holds (ICP fit and score at or above the
threshold), with high_intent priority when a high-intent touch came before.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sros.demo_company.arrays import DAY, NULL, choice_rows, cumsum_in_group, first_in_group
from sros.demo_company.population import Accounts, Leads, icp_fit, rule_in_force, rule_starts
from sros.demo_company.seeds import Definitions

SCORE_CAP = 100
# How likely each touch type is for a person of low vs high buying intent (known touches).
KNOWN_TOUCH_WEIGHTS = {
    "demo_request": (0.01, 0.04),
    "pricing_page_view": (0.02, 0.05),
    "form_fill": (0.10, 0.18),
    "webinar_attended": (0.08, 0.16),
    "content_download": (0.16, 0.18),
    "email_click": (0.30, 0.16),
    "ad_click": (0.10, 0.06),
    "web_visit": (0.23, 0.12),
}
CREATION_TOUCH_WEIGHTS = {
    "demo_request": 0.12,
    "form_fill": 0.5,
    "content_download": 0.25,
    "webinar_attended": 0.13,
}
ANONYMOUS_TOUCH_WEIGHTS = {"web_visit": 0.62, "ad_click": 0.32, "pricing_page_view": 0.06}
# Channel a lead's creation touch comes through overrides its type for these channels.
CHANNEL_CREATION_TYPE = {"webinar": "webinar_attended", "content_syndication": "content_download"}


@dataclass
class Touches:
    """Touches of leads as parallel arrays, sorted by (lead, time)."""

    lead: np.ndarray
    time: np.ndarray
    kind: np.ndarray  # index into definitions.touch_types
    known: np.ndarray  # True when the touch carried the person's email
    creation: np.ndarray  # True for the touch that created the lead


@dataclass
class Qualification:
    mql_time: np.ndarray  # per lead, -1 when the lead never qualified
    high_intent: np.ndarray  # per lead: a high-intent touch at or before the MQL moment
    anonymous: np.ndarray  # per lead: has a web cookie seen before it was identified


def _weights(definitions: Definitions, table: dict[str, float]) -> np.ndarray:
    return np.array([table.get(kind, 0.0) for kind, _, _ in definitions.touch_types])


def build_touches(
    definitions: Definitions, accounts: Accounts, leads: Leads, rng: np.random.Generator
) -> Touches:
    n = leads.n
    fit_now = icp_fit(definitions, accounts, leads, np.zeros(n, dtype=np.int64), np.arange(n))
    propensity = np.clip(rng.beta(2, 3, n) + np.where(fit_now, 0.2, 0.0), 0, 1)
    n_known = 1 + rng.poisson(0.5 + 9 * propensity)
    has_anonymous = rng.random(n) < 0.6
    n_anonymous = np.where(has_anonymous, 1 + rng.poisson(1.5, n), 0)

    # Known touches: creation touch at the lead's creation, then gaps of days.
    lead_k = np.repeat(np.arange(n), n_known)
    gaps = rng.exponential(8 * DAY, len(lead_k)) / (0.5 + propensity[lead_k])
    first_row = np.zeros(len(lead_k), dtype=bool)
    first_row[np.concatenate([[0], np.cumsum(n_known)[:-1]])] = True
    offsets = cumsum_in_group(np.where(first_row, 0, gaps), n_known)
    time_k = leads.created[lead_k] + offsets.astype(np.int64)
    low, high = (
        _weights(definitions, {k: v[i] for k, v in KNOWN_TOUCH_WEIGHTS.items()}) for i in (0, 1)
    )
    p = propensity[lead_k][:, None]
    mix = (1 - p) * low + p * high
    kind_k = choice_rows(rng, mix / mix.sum(axis=1, keepdims=True))
    creation_kind = choice_rows(
        rng,
        np.tile(
            _weights(definitions, CREATION_TOUCH_WEIGHTS) / sum(CREATION_TOUCH_WEIGHTS.values()),
            (n, 1),
        ),
    )
    kinds = [kind for kind, _, _ in definitions.touch_types]
    channel = np.array([leads.sources[s][2] for s in range(len(leads.sources))])[leads.source]
    for name, kind in CHANNEL_CREATION_TYPE.items():
        creation_kind[channel == name] = kinds.index(kind)
    kind_k[first_row] = creation_kind

    # Anonymous touches before the person was identified.
    lead_a = np.repeat(np.arange(n), n_anonymous)
    back = cumsum_in_group(rng.exponential(5 * DAY, len(lead_a)), n_anonymous)
    time_a = leads.created[lead_a] - back.astype(np.int64) - 60
    kind_a = (
        choice_rows(rng, np.tile(_weights(definitions, ANONYMOUS_TOUCH_WEIGHTS), (len(lead_a), 1)))
        if len(lead_a)
        else np.zeros(0, dtype=np.int64)
    )

    lead = np.concatenate([lead_k, lead_a])
    time = np.concatenate([time_k, time_a])
    order = np.lexsort((time, lead))
    return Touches(
        lead=lead[order],
        time=time[order],
        kind=np.concatenate([kind_k, kind_a])[order],
        known=np.concatenate([np.ones(len(lead_k), bool), np.zeros(len(lead_a), bool)])[order],
        creation=np.concatenate([first_row, np.zeros(len(lead_a), bool)])[order],
    )


def qualify(
    definitions: Definitions, accounts: Accounts, leads: Leads, touches: Touches
) -> Qualification:
    """The MQL moment of every lead from its touches and the rule in force at each touch."""
    points = np.array([score for _, _, score in definitions.touch_types])[touches.kind]
    high = np.array([level == "high" for _, level, _ in definitions.touch_types])[touches.kind]
    sizes = np.bincount(touches.lead, minlength=leads.n)
    score = np.minimum(cumsum_in_group(points, sizes), SCORE_CAP)
    rule = rule_in_force(rule_starts(definitions.mql_rules), touches.time)
    threshold = np.array([float(r.values["score_threshold"]) for r in definitions.mql_rules])
    qualifies = (score >= threshold[rule]) & icp_fit(
        definitions, accounts, leads, rule, touches.lead
    )
    first = first_in_group(qualifies, touches.lead, leads.n)
    highs_so_far = cumsum_in_group(high.astype(np.int64), sizes)
    has_mql = first >= 0
    mql_time = np.full(leads.n, NULL, dtype=np.int64)
    # Routing takes a minute: the MQL moment is never the creation second itself.
    mql_time[has_mql] = np.maximum(touches.time[first[has_mql]], leads.created[has_mql] + 60)
    high_intent = np.zeros(leads.n, dtype=bool)
    high_intent[has_mql] = highs_so_far[first[has_mql]] > 0
    anonymous = np.zeros(leads.n, dtype=bool)
    anonymous[touches.lead[~touches.known]] = True
    return Qualification(mql_time=mql_time, high_intent=high_intent, anonymous=anonymous)
