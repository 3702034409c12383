"""Known signals planted in the demo company, and the shared rules that find them.

The KPI marts must find these, so the generator plants them on purpose and `truth.py` records
them, computed from the generator's arrays with the rules below (independently of the SQL):

- a lead source to pause: a trade-show burst (Salesforce lead source of the `events` channel)
  of ICP-fit badge scans with no buying intent, rejected well above the pause threshold in two
  consecutive months, while every other source's monthly rejection rate stays at or below it;
- a rising-rejections alarm: inside the burst, five consecutive ISO weeks whose company-wide
  rejection rates rise strictly (the rule fires in the fifth week);
- stuck deals: a few open opportunities held in a mid-funnel stage 45-90 days past that
  stage's trailing median at the export;
- campaign experiments: the core email campaign of the first quarter of each half-year is
  split into a control and a test arm (persons assigned at random); the test messaging makes
  some touched persons ask for a demo, which lifts the share who become MQL within the
  `campaign_experiment_rules` window.

Rejections are not independent coin flips, which at a few handoffs per source and month would
flag sources by chance. Along each lead source's handoffs in disposition order, a handoff is
rejected when the running sum of the rejection probabilities (from a random start in [0, 1))
crosses an integer (systematic sampling), so any month holds round-ish(sum of its
probabilities) rejections, off by less than one. The probabilities of unplanted sources stay
at or below MAX_BASE_REJECTION (0.15, company rate ~7%), and a month of an unplanted source
with at least PAUSE_MIN_DISPOSITIONED handoffs never rejects more than the pause threshold's
share (the few rejections past it are turned into acceptances): only the planted source-months
breach. In the five ramp weeks the unplanted handoffs are all accepted and the burst's
rejections are set per week so that the company-wide rate rises strictly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from sros.demo_company.arrays import DAY, NULL
from sros.demo_company.names import emails
from sros.demo_company.population import CHANNEL_QUALITY, SENIORITY_ROLE, Accounts, Leads
from sros.demo_company.seeds import Definitions, open_rule
from sros.demo_company.touches import Touches

# --- Rule parameters: read from the seeds the marts are judged by (the version in force at
# the end of the seed's history, valid_to 9999-12-31), never written here a second time.
_PAUSE = open_rule("alarm_rules", rule_key="source_pause")
_RISE = open_rule("alarm_rules", rule_key="rejection_rate_rise")
_PIPELINE = open_rule("pipeline_kpi_rules")
PAUSE_REJECTION_THRESHOLD = float(_PAUSE["threshold"])
PAUSE_MIN_DISPOSITIONED = int(_PAUSE["min_count"])
PAUSE_CONSECUTIVE_MONTHS = int(_PAUSE["consecutive_periods"])
RISING_CONSECUTIVE_WEEKS = int(_RISE["consecutive_periods"])
STUCK_DAYS_PAST_MEDIAN = int(_PIPELINE["stuck_days_past_median"])
STUCK_TRAILING_DAYS = int(_PIPELINE["stage_median_trailing_days"])

# --- Generation parameters (not rules: how the company behaves).
# Rejection probability of a handoff: by priority (high_intent, warm), divided by the lead
# source's quality, capped (see the module docstring for why the cap keeps sources unflagged).
BASE_REJECTION = (0.06, 0.10)
MAX_BASE_REJECTION = 0.15
PLANTED_SOURCE = ("salesforce", "Trade Show")
PLANTED_MONTH_OFFSET = 12  # the burst's first month, counted from the start month
PLANTED_REJECTION = 0.5  # rejection probability of burst handoffs outside the ramp weeks
TRADE_SHOW_LEADS_PER_MONTH = (20, 0.01)  # at least 20, or 1% of n_leads, per burst month
RAMP_TOP_SHARE = 0.9  # the last ramp week reaches 90% of the burst's smallest weekly share
STUCK_DEALS = 4
STUCK_PAST_MEDIAN_DAYS = (45, 90)
STUCK_STAGES = ("solution", "proposal")
EXPERIMENT_CHANNEL = "email"  # core (Salesforce) campaigns of this channel are split
TEST_ARM_SHARE = 0.5
TEST_RESPONSE_RATE = 0.6  # test-arm persons who request a demo after the new messaging
TEST_RESPONSE_DAYS = (1, 14)


def month_index(t: np.ndarray) -> np.ndarray:
    """Calendar month (UTC) of epoch seconds, as months since 1970-01."""
    return (
        np.asarray(t, dtype="int64")
        .astype("datetime64[s]")
        .astype("datetime64[M]")
        .astype(np.int64)
    )


def week_index(t: np.ndarray) -> np.ndarray:
    """ISO week (Monday start, UTC) of epoch seconds; 1970-01-01 was a Thursday."""
    return (np.asarray(t, dtype=np.int64) // DAY + 3) // 7


def week_start(week: int) -> date:
    return date.fromordinal(date(1970, 1, 1).toordinal() + int(week) * 7 - 3)


def month_start(month: int) -> date:
    return date(1970 + int(month) // 12, int(month) % 12 + 1, 1)


def month_of(day: date) -> int:
    return (day.year - 1970) * 12 + day.month - 1


def quarters(first: date, last: date) -> list[tuple[date, date]]:
    """Calendar quarters (start, next start) overlapping first..last."""
    out = []
    year, q = first.year, (first.month - 1) // 3
    while date(year, 3 * q + 1, 1) <= last:
        start = date(year, 3 * q + 1, 1)
        year_next, q_next = (year + 1, 0) if q == 3 else (year, q + 1)
        out.append((start, date(year_next, 3 * q_next + 1, 1)))
        year, q = year_next, q_next
    return out


def experiment_quarters(first: date, last: date) -> list[int]:
    """Quarter numbers (into `quarters`) holding an experiment: the first quarter of each
    half-year in the range."""
    seen: set[tuple[int, int]] = set()
    out = []
    for number, (start, _) in enumerate(quarters(first, last)):
        half = (start.year, (start.month - 1) // 6)
        if half not in seen:
            seen.add(half)
            out.append(number)
    return out


def planted_months(first: date, last: date) -> tuple[int, int] | None:
    """The two burst months, or None when the range is too short to hold them."""
    start, end = month_of(first), month_of(last)
    m1 = start + min(PLANTED_MONTH_OFFSET, (end - start) // 2)
    return (m1, m1 + 1) if m1 + 1 < end else None


def planted_source_index(leads: Leads) -> int:
    system, source = PLANTED_SOURCE
    for index, row in enumerate(leads.sources):
        if (row[0], row[1]) == (system, source):
            return index
    raise KeyError(f"lead_source_channels.csv has no {system} lead source {source!r}")


# --------------------------------------------------------------------------------------------
# The trade-show burst


def plant_trade_show(
    first: date,
    last: date,
    n_leads: int,
    definitions: Definitions,
    accounts: Accounts,
    leads: Leads,
    rng: np.random.Generator,
) -> np.ndarray:
    """Turn Salesforce leads created during the burst months into trade-show badge scans from
    ICP-fit accounts with ICP titles. Changes `leads` in place; returns the burst leads."""
    months = planted_months(first, last)
    if months is None:
        return np.zeros(0, dtype=np.int64)
    source = planted_source_index(leads)
    created_month = month_index(leads.created)
    low = max(int(r.values["min_employees"]) for r in definitions.mql_rules)
    high = min(int(r.values["max_employees"]) for r in definitions.mql_rules)
    target = np.array([is_target for _, is_target in definitions.industries])
    fit_accounts = np.flatnonzero(
        (accounts.crm == 0)
        & (accounts.employees >= low)
        & (accounts.employees <= high)
        & target[accounts.industry]
    )
    icp_titles = np.array([i for i, (_, _, icp) in enumerate(definitions.titles) if icp])
    per_month = max(TRADE_SHOW_LEADS_PER_MONTH[0], round(TRADE_SHOW_LEADS_PER_MONTH[1] * n_leads))
    chosen = []
    for month in months:
        # leave the burst's last days out so its dispositions stay inside the burst months
        end = (month_start(month + 1) - date(1970, 1, 1)).days * DAY - 6 * DAY
        rows = np.flatnonzero((created_month == month) & (leads.crm == 0) & (leads.created < end))
        take = min(per_month, len(rows))
        chosen.append(np.sort(rng.choice(rows, take, replace=False)))
    burst = np.concatenate(chosen)
    if not len(fit_accounts) or not len(icp_titles):
        return np.zeros(0, dtype=np.int64)
    leads.source[burst] = source
    leads.account[burst] = fit_accounts[rng.integers(0, len(fit_accounts), len(burst))]
    leads.title[burst] = icp_titles[rng.integers(0, len(icp_titles), len(burst))]
    leads.quality[burst] = CHANNEL_QUALITY.get(leads.sources[source][2], 1.0)
    seniority = [row[1] for row in definitions.titles]
    leads.buying_role[burst] = [SENIORITY_ROLE.get(seniority[t], 4) for t in leads.title[burst]]
    leads.email = emails(
        leads.first_name,
        leads.last_name,
        np.arange(leads.n),
        accounts.domain.take(pa.array(leads.account)),
    )
    return burst


def burst_touches(
    definitions: Definitions,
    touches: Touches,
    leads: Leads,
    burst: np.ndarray,
    rng: np.random.Generator,
) -> Touches:
    """A booth demo as the creation touch, then a pricing-page view and the event follow-up
    form, so each badge scan reaches the MQL score within days."""
    kinds = [kind for kind, _, _ in definitions.touch_types]
    is_burst = np.zeros(leads.n, dtype=bool)
    is_burst[burst] = True
    kind = touches.kind.copy()
    kind[touches.creation & is_burst[touches.lead]] = kinds.index("demo_request")
    created = leads.created[burst]
    extra_lead = np.concatenate([burst, burst])
    extra_time = np.concatenate(
        [
            created + rng.uniform(0.5 * DAY, 3 * DAY, len(burst)).astype(np.int64),
            created + rng.uniform(3 * DAY, 6 * DAY, len(burst)).astype(np.int64),
        ]
    )
    extra_kind = np.concatenate(
        [
            np.full(len(burst), kinds.index("pricing_page_view")),
            np.full(len(burst), kinds.index("form_fill")),
        ]
    )
    return add_touches(
        Touches(touches.lead, touches.time, kind, touches.known, touches.creation),
        extra_lead,
        extra_time,
        extra_kind,
    )


def add_touches(touches: Touches, lead: np.ndarray, time: np.ndarray, kind: np.ndarray) -> Touches:
    """Known, non-creation touches added and the arrays re-sorted by (lead, time)."""
    all_lead = np.concatenate([touches.lead, lead])
    all_time = np.concatenate([touches.time, time])
    order = np.lexsort((all_time, all_lead))
    return Touches(
        lead=all_lead[order],
        time=all_time[order],
        kind=np.concatenate([touches.kind, kind])[order],
        known=np.concatenate([touches.known, np.ones(len(lead), bool)])[order],
        creation=np.concatenate([touches.creation, np.zeros(len(lead), bool)])[order],
    )


# --------------------------------------------------------------------------------------------
# Rejections by systematic sampling, the planted source-months and the rising ramp


@dataclass
class RejectionPlan:
    """Decides which handoffs sales rejects, across the first and second handoff cycles."""

    source: np.ndarray  # per lead: index into Leads.sources
    quality: np.ndarray  # per lead
    as_of: int
    planted_source: int
    months: tuple[int, int] | None
    ramp_weeks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    offset: dict = field(default_factory=dict)  # per sequence: random start in [0, 1)
    cumulative: dict = field(default_factory=dict)  # per sequence: running probability sum
    count: dict = field(default_factory=dict)  # per month cell: handoffs so far
    rejected: dict = field(default_factory=dict)  # per month cell: rejections so far

    def decide(
        self,
        lead: np.ndarray,
        disposition_time: np.ndarray,
        priority: np.ndarray,
        cycle: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        n = len(lead)
        month, week = month_index(disposition_time), week_index(disposition_time)
        visible = disposition_time <= self.as_of
        source = self.source[lead]
        planted = (
            (source == self.planted_source) & np.isin(month, self.months) & visible
            if self.months is not None
            else np.zeros(n, dtype=bool)
        )
        if cycle == 1 and self.months is not None:
            self.ramp_weeks, targets = self._ramp(week, visible, planted)
        else:
            targets = None
        in_ramp = np.isin(week, self.ramp_weeks)
        p = np.minimum(np.array(BASE_REJECTION)[priority] / self.quality[lead], MAX_BASE_REJECTION)
        p = np.where(planted, PLANTED_REJECTION, p)
        p = np.where(in_ramp, 0.0, p)  # the ramp's rejections are set exactly, below
        out = self._quota(source, month, visible, in_ramp, planted, disposition_time, p, rng)
        if targets is not None:
            for k, target in zip(self.ramp_weeks, targets, strict=True):
                rows = np.flatnonzero(planted & (week == k))
                out[rng.choice(rows, target, replace=False)] = True
        return out

    def _ramp(
        self, week: np.ndarray, visible: np.ndarray, planted: np.ndarray
    ) -> tuple[np.ndarray, list[int]]:
        """Five weeks inside the burst months, and the burst rejections of each so that the
        company-wide weekly rate rises strictly (the first week: none)."""
        assert self.months is not None
        first_day = (month_start(self.months[0]) - date(1970, 1, 1)).days
        last_day = (month_start(self.months[1] + 1) - date(1970, 1, 1)).days - 1
        weeks = range((first_day + 3) // 7, (last_day + 3) // 7 + 1)
        inside = [k for k in weeks if k * 7 - 3 >= first_day and k * 7 + 3 <= last_day]
        length = RISING_CONSECUTIVE_WEEKS + 1
        for start in range(len(inside) - length + 1):
            run = np.array(inside[start : start + length])
            n = np.array([int((visible & (week == k)).sum()) for k in run])
            t = np.array([int((planted & (week == k)).sum()) for k in run])
            if (t[1:] == 0).any():
                continue
            top = RAMP_TOP_SHARE * float((t[1:] / n[1:]).min())
            targets, previous = [0], 0.0
            for k in range(1, length):
                x = max(round(top * k / (length - 1) * n[k]), int(np.floor(previous * n[k])) + 1)
                if x > t[k]:
                    break
                targets.append(x)
                previous = x / n[k]
            if len(targets) == length:
                return run, targets
        return np.zeros(0, dtype=np.int64), []

    def _quota(
        self,
        source: np.ndarray,
        month: np.ndarray,
        visible: np.ndarray,
        in_ramp: np.ndarray,
        planted: np.ndarray,
        time: np.ndarray,
        p: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Systematic sampling along each lead source's handoffs in disposition order (a row
        is rejected when the running sum of probabilities, from a random start, crosses an
        integer), continued across cycles; then no month cell of an unplanted source with at
        least PAUSE_MIN_DISPOSITIONED handoffs rejects more than the pause threshold's share
        (the aligned company: only the planted source breaches)."""
        out = np.zeros(len(p), dtype=bool)
        flags = [visible.astype(np.int64), in_ramp.astype(np.int64), planted.astype(np.int64)]
        sequences = np.stack([source, *flags], 1)
        unique, sequence = np.unique(sequences, axis=0, return_inverse=True)
        sequence = sequence.reshape(-1)
        for index, key in enumerate(map(tuple, unique.tolist())):
            rows = np.flatnonzero(sequence == index)
            rows = rows[np.argsort(time[rows], kind="stable")]
            offset = self.offset.setdefault(key, float(rng.random()))
            start = self.cumulative.get(key, 0.0)
            total = start + np.cumsum(p[rows])
            before = np.concatenate([[start], total[:-1]])
            out[rows] = np.floor(total + offset) > np.floor(before + offset)
            self.cumulative[key] = float(total[-1])
        cells = np.stack([source, month, *flags], 1)
        unique, cell = np.unique(cells, axis=0, return_inverse=True)
        cell = cell.reshape(-1)
        for index, key in enumerate(map(tuple, unique.tolist())):
            rows = np.flatnonzero(cell == index)
            count = self.count.get(key, 0) + len(rows)
            rejected = rows[out[rows]]
            if not key[-1] and count >= PAUSE_MIN_DISPOSITIONED:
                allowed = int(np.floor(PAUSE_REJECTION_THRESHOLD * count + 1e-9))
                allowed = max(allowed - self.rejected.get(key, 0), 0)
                rejected = rejected[np.argsort(time[rejected], kind="stable")]
                out[rejected[allowed:]] = False
                rejected = rejected[:allowed]
            self.count[key] = count
            self.rejected[key] = self.rejected.get(key, 0) + len(rejected)
        return out


# --------------------------------------------------------------------------------------------
# Campaign experiments


def experiment_arms(n_leads: int, rng: np.random.Generator) -> np.ndarray:
    """Per lead: True when assigned to the test arm of any experiment it is touched by."""
    return rng.random(n_leads) < TEST_ARM_SHARE


def experiment_touch_mask(
    touches: Touches, first: date, last: date
) -> tuple[np.ndarray, np.ndarray]:
    """Touches in an experiment quarter, and their quarter number (-1 elsewhere). The caller
    keeps the core email ones (email clicks and the creation touch of leads whose source is on
    the email channel: the touches marketing.touch_rows gives the email campaign)."""
    spans = quarters(first, last)
    starts = np.array([(s - date(1970, 1, 1)).days * DAY for s, _ in spans])
    quarter = np.searchsorted(starts, touches.time, side="right") - 1
    in_experiment = np.isin(quarter, experiment_quarters(first, last)) & (quarter < len(spans))
    return in_experiment, np.where(in_experiment, quarter, NULL)


def experiment_response_touches(
    definitions: Definitions,
    touches: Touches,
    leads: Leads,
    email_touch: np.ndarray,
    arm_test: np.ndarray,
    rng: np.random.Generator,
) -> Touches:
    """Test-arm persons who respond to the new messaging request a demo some days after their
    first touch of the arm."""
    kinds = [kind for kind, _, _ in definitions.touch_types]
    rows = np.flatnonzero(email_touch & arm_test[touches.lead] & (leads.crm[touches.lead] == 0))
    lead, first = np.unique(touches.lead[rows], return_index=True)
    time = touches.time[rows][first]
    respond = rng.random(len(lead)) < TEST_RESPONSE_RATE
    delay = rng.uniform(TEST_RESPONSE_DAYS[0] * DAY, TEST_RESPONSE_DAYS[1] * DAY, len(lead))
    return add_touches(
        touches,
        lead[respond],
        (time + delay.astype(np.int64))[respond],
        np.full(int(respond.sum()), kinds.index("demo_request")),
    )


# --------------------------------------------------------------------------------------------
# Stuck deals


def visit_days(
    opportunity: np.ndarray, time: np.ndarray, stage: np.ndarray, as_of: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stage visits of the saves visible at `as_of`: (opportunity, stage, entered_day,
    exited_day (-1 while current)); days are epoch days (UTC dates)."""
    seen = time <= as_of
    opp, t, st = opportunity[seen], time[seen], stage[seen]
    last = np.concatenate([opp[1:] != opp[:-1], [True]]) if len(opp) else np.zeros(0, bool)
    exited = np.where(last, NULL, np.concatenate([t[1:], [0]]) if len(t) else t)
    return opp, st, t // DAY, np.where(exited >= 0, exited // DAY, NULL)


def trailing_medians(
    stage: np.ndarray, entered: np.ndarray, exited: np.ndarray, day: int, n_stages: int
) -> np.ndarray:
    """Per stage: median days in stage of completed visits exited within the trailing
    STUCK_TRAILING_DAYS days up to `day` (exited day in (day - window, day]); NaN when none."""
    done = (exited >= 0) & (exited > day - STUCK_TRAILING_DAYS) & (exited <= day)
    out = np.full(n_stages, np.nan)
    for s in range(n_stages):
        rows = done & (stage == s)
        if rows.any():
            out[s] = float(np.median(exited[rows] - entered[rows]))
    return out


def plant_stuck_deals(
    opportunity: np.ndarray,
    time: np.ndarray,
    stage: np.ndarray,
    close_day: np.ndarray,
    stages: list[str],
    n_open: int,
    as_of: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Hold a few deals in a mid-funnel stage: their saves after entering it move past the
    export, so at the export they sit 45-90 days past the stage's trailing median. Changes
    `time` and `close_day` in place; returns the planted opportunities."""
    opp, st, entered, exited = visit_days(opportunity, time, stage, as_of)
    seen_rows = np.flatnonzero(time <= as_of)
    day = as_of // DAY
    medians = trailing_medians(st, entered, exited, day, len(stages))
    chosen: list[int] = []
    planted_stage = [stages.index(s) for s in STUCK_STAGES if s in stages[:n_open]]
    for index in range(STUCK_DEALS):
        candidates = np.zeros(0, dtype=np.int64)
        for turn in range(len(planted_stage)):
            s = planted_stage[(index + turn) % len(planted_stage)]
            if np.isnan(medians[s]):
                continue
            low = day - medians[s] - STUCK_PAST_MEDIAN_DAYS[1]
            high = day - medians[s] - STUCK_PAST_MEDIAN_DAYS[0]
            candidates = np.flatnonzero(
                (st == s)
                & (entered >= low)
                & (entered <= high)
                & (exited >= 0)
                & ~np.isin(opp, chosen)
            )
            if len(candidates):
                break
        if not len(candidates):
            continue
        visit = int(candidates[rng.integers(0, len(candidates))])
        chosen.append(int(opp[visit]))
        save = int(seen_rows[visit])
        after = np.flatnonzero(opportunity == opp[visit])
        after = after[after > save]
        shift = as_of - int(time[after].min()) + int(rng.uniform(20, 60) * DAY)
        time[after] += shift
        close_day[after] += shift // DAY
    return np.array(sorted(chosen), dtype=np.int64)
