"""Campaigns, marketing touchpoints, identity resolution and daily ad spend.

A touch's channel is its lead source's channel for the touch that created the lead, and
follows from its type otherwise (an ad click is paid search or paid social, an email click is
email...). Touches on a channel that runs campaigns belong to that business unit's campaign of
the quarter, whose utm_campaign the touch, the CRM campaign and the ad platform spend share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sros.demo_company.arrays import (
    DAY,
    NULL,
    cat,
    choice,
    epoch,
    epoch_day,
    ids,
    join,
    shard_tagged,
)
from sros.demo_company.signals import EXPERIMENT_CHANNEL, experiment_quarters, quarters
from sros.demo_company.users import SALESFORCE
from sros.demo_company.world import World

BUSINESS_UNITS = ["core", "velocity"]  # indexed by CRM code
# Campaign channels per business unit, with the CRM campaign type.
CAMPAIGN_TYPES = {
    "paid_search": "Paid Search",
    "paid_social": "Paid Social",
    "webinar": "Webinar",
    "email": "Email",
    "content_syndication": "Content",
    "events": "Event",
    "review_sites": "Paid Search",
    "partner": "Partner",
}
VELOCITY_CHANNELS = ("paid_search", "paid_social", "email", "webinar")
# Where touches of a type come from (channel weights), when not the lead's creation touch.
TYPE_CHANNELS = {
    "demo_request": {"organic_web": 0.5, "paid_search": 0.3, "organic_search": 0.2},
    "pricing_page_view": {"organic_web": 0.6, "organic_search": 0.25, "paid_search": 0.15},
    "form_fill": {"organic_web": 0.5, "paid_social": 0.25, "organic_search": 0.25},
    "webinar_attended": {"webinar": 1.0},
    "content_download": {"content_syndication": 0.5, "organic_search": 0.3, "paid_social": 0.2},
    "email_click": {"email": 1.0},
    "ad_click": {"paid_search": 0.6, "paid_social": 0.3, "review_sites": 0.1},
    "web_visit": {"organic_search": 0.5, "organic_web": 0.35, "organic_social": 0.15},
}
UTM = {  # channel -> (utm_source, utm_medium) for core; velocity swaps some sources
    "paid_search": ("google", "cpc"),
    "paid_social": ("linkedin", "paid_social"),
    "email": ("marketo", "email"),
    "webinar": ("on24", "webinar"),
    "content_syndication": ("techtarget", "syndication"),
    "events": ("event", "offline"),
    "review_sites": ("capterra", "cpc"),
    "partner": ("partner", "referral"),
    "organic_search": ("google", "organic"),
    "organic_social": ("linkedin", "social"),
}
VELOCITY_UTM = {"paid_social": ("facebook", "paid_social"), "email": ("hubspot", "email")}
AD_PLATFORMS = {
    ("core", "paid_search"): "google_ads",
    ("core", "paid_social"): "linkedin_ads",
    ("core", "review_sites"): "capterra",
    ("velocity", "paid_search"): "google_ads",
    ("velocity", "paid_social"): "meta_ads",
}
COST_PER_CLICK = {"google_ads": 6.5, "linkedin_ads": 9.0, "meta_ads": 2.5, "capterra": 14.0}
PAGES = {
    "demo_request": "/demo",
    "pricing_page_view": "/pricing",
    "form_fill": "/contact",
    "webinar_attended": "/webinars",
    "content_download": "/resources",
    "web_visit": "/",
    "ad_click": "/lp",
    "email_click": "/blog",
}
ANONYMOUS_VISITORS_PER_LEAD = 0.5


@dataclass
class Campaigns:
    bu: list[int]
    channel: list[str]
    quarter_start: list[date]
    quarter_end: list[date]
    utm_campaign: list[str]
    index: dict[tuple[int, str, int], int]  # (bu, channel, quarter number) -> campaign
    # Campaign experiments: per campaign its experiment id and arm (None outside one), and
    # the test-arm campaign of each control campaign.
    experiment: list[str | None] = field(default_factory=list)
    arm: list[str | None] = field(default_factory=list)
    test_of_control: dict[int, int] = field(default_factory=dict)


def build_campaigns(world: World) -> Campaigns:
    spans = quarters(world.config.start_date, world.config.end_date)
    campaigns = Campaigns([], [], [], [], [], {})
    for number, (start, end) in enumerate(spans):
        for bu, unit in enumerate(BUSINESS_UNITS):
            channels = CAMPAIGN_TYPES if unit == "core" else VELOCITY_CHANNELS
            for channel in channels:
                campaigns.index[(bu, channel, number)] = len(campaigns.bu)
                campaigns.bu.append(bu)
                campaigns.channel.append(channel)
                campaigns.quarter_start.append(start)
                campaigns.quarter_end.append(end)
                quarter = (start.month - 1) // 3 + 1
                campaigns.utm_campaign.append(
                    shard_tagged(f"{unit}_{channel}_{start.year}q{quarter}")
                )
                campaigns.experiment.append(None)
                campaigns.arm.append(None)
    # Each experiment's control is the quarter's core campaign of the experiment channel; the
    # test arm is a new campaign (appended, so the other campaigns keep their ids).
    for number in experiment_quarters(world.config.start_date, world.config.end_date):
        control = campaigns.index[(0, EXPERIMENT_CHANNEL, number)]
        start = spans[number][0]
        label = f"{start.year}q{(start.month - 1) // 3 + 1}"
        experiment = shard_tagged(f"exp_{BUSINESS_UNITS[0]}_{EXPERIMENT_CHANNEL}_{label}")
        campaigns.experiment[control] = experiment
        campaigns.arm[control] = "control"
        campaigns.test_of_control[control] = len(campaigns.bu)
        campaigns.bu.append(0)
        campaigns.channel.append(EXPERIMENT_CHANNEL)
        campaigns.quarter_start.append(start)
        campaigns.quarter_end.append(spans[number][1])
        campaigns.utm_campaign.append(f"{campaigns.utm_campaign[control]}_test")
        campaigns.experiment.append(experiment)
        campaigns.arm.append("test")
    return campaigns


@dataclass
class TouchRows:
    """All touchpoints to export (lead touches and anonymous visitors), sorted by time."""

    lead: np.ndarray  # -1 for visitors who never identified
    visitor: np.ndarray  # anonymous id number, -1 when the touch carried no cookie
    time: np.ndarray
    kind: np.ndarray
    known: np.ndarray
    channel: np.ndarray  # index into CHANNELS
    campaign: np.ndarray  # -1 when none
    bu: np.ndarray
    channels: list[str]


def touch_rows(world: World, campaigns: Campaigns) -> TouchRows:
    rng = np.random.default_rng([world.config.seed, 11])
    t, leads = world.touches, world.leads
    kinds = [kind for kind, _, _ in world.definitions.touch_types]
    channels = sorted(
        {c for m in TYPE_CHANNELS.values() for c in m} | {row[2] for row in leads.sources}
    )
    channel = np.zeros(len(t.lead), dtype=np.int64)
    for k, kind in enumerate(kinds):
        rows = np.flatnonzero(t.kind == k)
        weights = TYPE_CHANNELS.get(kind, {"organic_web": 1.0})
        options = np.array([channels.index(c) for c in weights])
        channel[rows] = options[choice(rng, len(rows), list(weights.values()))]
    source_channel = np.array([channels.index(row[2]) for row in leads.sources])
    channel[t.creation] = source_channel[leads.source[t.lead[t.creation]]]
    has_cookie = np.zeros(leads.n, dtype=bool)
    has_cookie[t.lead[~t.known]] = True
    visitor = np.where(has_cookie[t.lead], t.lead, NULL)

    n_visitors = int(leads.n * ANONYMOUS_VISITORS_PER_LEAD)
    per_visitor = 1 + rng.poisson(0.8, n_visitors)
    v_id = np.repeat(leads.n + np.arange(n_visitors), per_visitor)
    span = (world.config.end_date - world.config.start_date).days * DAY
    v_time = epoch(world.config.start_date) + rng.integers(0, span, len(v_id))
    anon_kinds = ["web_visit", "ad_click", "pricing_page_view"]
    v_kind = np.array([kinds.index(k) for k in anon_kinds])[
        choice(rng, len(v_id), [0.65, 0.3, 0.05])
    ]
    v_channel = np.zeros(len(v_id), dtype=np.int64)
    for k in np.unique(v_kind):
        rows = np.flatnonzero(v_kind == k)
        weights = TYPE_CHANNELS[kinds[k]]
        options = np.array([channels.index(c) for c in weights])
        v_channel[rows] = options[choice(rng, len(rows), list(weights.values()))]
    v_bu = np.where(rng.random(n_visitors) < world.config.salesforce_share, 0, 1)[v_id - leads.n]

    time = np.concatenate([t.time, v_time])
    bu = np.concatenate([leads.crm[t.lead], v_bu])
    channel = np.concatenate([channel, v_channel])
    spans = quarters(world.config.start_date, world.config.end_date)
    starts = np.array([epoch(start) for start, _ in spans])
    quarter = np.searchsorted(starts, time, side="right") - 1
    lookup = np.full((2, len(channels), len(spans)), NULL, dtype=np.int64)
    for (b, c, q), index in campaigns.index.items():
        lookup[b, channels.index(c), q] = index
    in_range = (quarter >= 0) & (quarter < len(spans))
    campaign = np.where(in_range, lookup[bu, channel, np.clip(quarter, 0, len(spans) - 1)], NULL)
    # Persons of the test arm get the experiment's test campaign instead of its control.
    test_of = np.arange(len(campaigns.bu))
    for control, test in campaigns.test_of_control.items():
        test_of[control] = test
    lead_all = np.concatenate([t.lead, np.full(len(v_id), NULL)])
    arm_test = np.concatenate([world.experiment_arm_test, [False]])[lead_all]
    campaign = np.where((campaign >= 0) & arm_test, test_of[np.maximum(campaign, 0)], campaign)
    keep = world.visible(time)
    order = np.argsort(time[keep], kind="stable")

    def pick(values: np.ndarray) -> np.ndarray:
        return values[keep][order]

    return TouchRows(
        lead=pick(np.concatenate([t.lead, np.full(len(v_id), NULL)])),
        visitor=pick(np.concatenate([visitor, v_id])),
        time=pick(time),
        kind=pick(np.concatenate([t.kind, v_kind])),
        known=pick(np.concatenate([t.known, np.zeros(len(v_id), bool)])),
        channel=pick(channel),
        campaign=pick(campaign),
        bu=pick(bu),
        channels=channels,
    )


def campaign_id(campaign: np.ndarray) -> pa.Array:
    return ids("701", campaign)


def touchpoint_table(world: World, campaigns: Campaigns, rows: TouchRows) -> dict:
    kinds = [kind for kind, _, _ in world.definitions.touch_types]
    utm_source = [UTM.get(c, (None, None))[0] for c in rows.channels]
    utm_medium = [UTM.get(c, (None, None))[1] for c in rows.channels]
    velocity_source = [VELOCITY_UTM.get(c, UTM.get(c, (None, None)))[0] for c in rows.channels]
    velocity_medium = [VELOCITY_UTM.get(c, UTM.get(c, (None, None)))[1] for c in rows.channels]
    core = rows.bu == SALESFORCE
    source_names = sorted(set(utm_source + velocity_source) - {None})
    medium_names = sorted(set(utm_medium + velocity_medium) - {None})

    def code(names: list[str], values: list[str | None]) -> np.ndarray:
        return np.array([names.index(v) if v is not None else NULL for v in values])

    source = np.where(
        core,
        code(source_names, utm_source)[rows.channel],
        code(source_names, velocity_source)[rows.channel],
    )
    medium = np.where(
        core,
        code(medium_names, utm_medium)[rows.channel],
        code(medium_names, velocity_medium)[rows.channel],
    )
    has_utm = rows.campaign >= 0
    email = world.leads.email.take(pa.array(np.maximum(rows.lead, 0)))
    email = pc.if_else(pa.array(~rows.known), pa.scalar(None, pa.string()), email)
    return {
        "touchpoint_id": ids("tp_", np.arange(len(rows.time)), 12),
        "occurred_at": rows.time,
        "anonymous_id": ids("anon_", rows.visitor, 10),
        "email": email,
        "touch_type": cat(kinds, rows.kind),
        "channel": cat(rows.channels, rows.channel),
        "campaign_id": campaign_id(rows.campaign),
        "utm_source": cat(source_names, np.where(source >= 0, source, NULL)),
        "utm_medium": cat(medium_names, medium),
        "utm_campaign": cat(campaigns.utm_campaign, np.where(has_utm, rows.campaign, NULL)),
        "utm_content": cat(kinds, np.where(has_utm, rows.kind, NULL)),
        "utm_term": pa.nulls(len(rows.time), pa.string()),
        "page_url": join(
            "https://www.sros-demo.example.com", cat([PAGES.get(k, "/") for k in kinds], rows.kind)
        ),
        "business_unit": cat(BUSINESS_UNITS, rows.bu),
    }


def identity_table(world: World, rows: TouchRows) -> dict:
    """Cookies seen on a known touch are identified at the person's first known touch."""
    identified = (rows.lead >= 0) & rows.known & (rows.visitor >= 0)
    lead = rows.lead[identified]
    time = rows.time[identified]
    unique, first = np.unique(lead, return_index=True)
    return {
        "anonymous_id": ids("anon_", unique, 10),
        "email": world.leads.email.take(pa.array(unique)),
        "identified_at": time[first],
    }


def campaign_table(world: World, campaigns: Campaigns, spend: dict[int, float]) -> dict:
    n = len(campaigns.bu)
    as_of_day = epoch_day(world.config.end_date)
    start = np.array([epoch_day(d) for d in campaigns.quarter_start])
    end = np.array([epoch_day(d) for d in campaigns.quarter_end]) - 1
    actual = np.array([spend.get(i, 0.0) for i in range(n)])
    budget = np.round(np.maximum(actual, 1000.0) * 1.1, -2)
    names = [
        f"{BUSINESS_UNITS[b].title()} {CAMPAIGN_TYPES[c]} {start.year}Q{(start.month - 1) // 3 + 1}"
        + (f" ({arm})" if arm else "")
        for b, c, start, arm in zip(
            campaigns.bu, campaigns.channel, campaigns.quarter_start, campaigns.arm, strict=True
        )
    ]
    visible = np.array([epoch(d) for d in campaigns.quarter_start]) - 30 * DAY <= world.as_of
    rows = np.flatnonzero(visible)
    return {
        "id": campaign_id(rows),
        "is_deleted": np.zeros(len(rows), bool),
        "name": pa.array([names[i] for i in rows]),
        "type": pa.array([CAMPAIGN_TYPES[campaigns.channel[i]] for i in rows]),
        "status": pa.array(["Completed" if end[i] < as_of_day else "In Progress" for i in rows]),
        "parent_id": pa.nulls(len(rows), pa.string()),
        "start_date": start[rows],
        "end_date": end[rows],
        "budgeted_cost": budget[rows],
        "actual_cost": np.round(actual[rows], 2),
        "is_active": end[rows] >= as_of_day,
        "utm_campaign_c": pa.array([campaigns.utm_campaign[i] for i in rows]),
        "experiment_id_c": pa.array([campaigns.experiment[i] for i in rows], type=pa.string()),
        "experiment_arm_c": pa.array([campaigns.arm[i] for i in rows], type=pa.string()),
        "created_date": np.array([epoch(campaigns.quarter_start[i]) for i in rows]) - 30 * DAY,
    }


def ad_spend_table(world: World, campaigns: Campaigns, rows: TouchRows) -> tuple[dict, dict]:
    """Daily spend per ad campaign, proportional to the ad clicks its touchpoints show.
    Returns the table and the total spend (USD) per campaign."""
    rng = np.random.default_rng([world.config.seed, 13])
    first_day, last_day = epoch_day(world.config.start_date), epoch_day(world.config.end_date)
    ads = [
        (i, AD_PLATFORMS[(BUSINESS_UNITS[b], c)])
        for i, (b, c) in enumerate(zip(campaigns.bu, campaigns.channel, strict=True))
        if (BUSINESS_UNITS[b], c) in AD_PLATFORMS
    ]
    touches = np.bincount(rows.campaign[rows.campaign >= 0], minlength=len(campaigns.bu))
    out: dict[str, list] = {
        k: []
        for k in (
            "platform",
            "ad_account_id",
            "ad_campaign_id",
            "ad_campaign_name",
            "utm_campaign",
            "spend_date",
            "spend",
            "impressions",
            "clicks",
        )
    }
    totals: dict[int, float] = {}
    for index, platform in ads:
        start = max(epoch_day(campaigns.quarter_start[index]), first_day)
        end = min(epoch_day(campaigns.quarter_end[index]) - 1, last_day)
        if end < start:
            continue
        days = np.arange(start, end + 1)
        clicks_total = max(20, int(touches[index] * 2.5))
        share = rng.gamma(4.0, 1.0, len(days))
        clicks = np.round(clicks_total * share / share.sum()).astype(np.int64)
        spend = np.round(clicks * COST_PER_CLICK[platform] * rng.uniform(0.8, 1.2, len(days)), 2)
        unit = BUSINESS_UNITS[campaigns.bu[index]]
        out["platform"] += [platform] * len(days)
        out["ad_account_id"] += [f"{platform}-{unit}"] * len(days)
        out["ad_campaign_id"] += [shard_tagged(f"{platform}-{index:05d}")] * len(days)
        out["ad_campaign_name"] += [campaigns.utm_campaign[index]] * len(days)
        out["utm_campaign"] += [campaigns.utm_campaign[index]] * len(days)
        out["spend_date"].append(days)
        out["spend"].append(spend)
        out["impressions"].append(clicks * rng.integers(40, 90, len(days)))
        out["clicks"].append(clicks)
        totals[index] = float(spend.sum())
    table = {
        k: (
            np.concatenate(v)
            if v and isinstance(v[0], np.ndarray)
            else pa.array(v, type=pa.string())
        )
        for k, v in out.items()
    }
    table["currency"] = pa.array(["USD"] * len(table["platform"]))
    return table, totals
