"""Accounts (firmographics, territory, currency) and the leads who arrive from them.

Industries come from icp_industries, employee bands from segments, countries and regions from
country_regions, titles from title_seniorities and lead sources from lead_source_channels. The
draws are tilted towards the ideal customer profile so that a realistic share of leads fits it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

from sros.demo_company.arrays import DAY, choice, epoch
from sros.demo_company.config import DemoConfig
from sros.demo_company.names import company_names, emails, person_names, phones
from sros.demo_company.seeds import Definitions
from sros.demo_company.users import AE, HUBSPOT, SALESFORCE, Org

CORPORATE_CURRENCY = "USD"
CURRENCIES = ["USD", "EUR", "GBP", "AUD", "CAD"]
COUNTRY_CURRENCY = {
    "CA": "CAD",
    "GB": "GBP",
    "IE": "EUR",
    "DE": "EUR",
    "AT": "EUR",
    "CH": "EUR",
    "AU": "AUD",
    "NZ": "AUD",
}
# Employee range drawn (log-uniformly) inside each segment; the enterprise band is open-ended
# in the seed, so it is capped here.
EMPLOYEE_CAP = 50_000
SMB_FLOOR = 5
# How often each channel brings a lead, and how good its leads are (scales acceptance).
CHANNEL_VOLUME = {
    "organic_web": 1.2,
    "organic_search": 1.5,
    "paid_search": 1.3,
    "paid_social": 1.0,
    "webinar": 0.8,
    "content_syndication": 0.9,
    "email": 0.8,
    "events": 0.6,
    "review_sites": 0.5,
    "outbound": 0.5,
    "partner": 0.4,
    "referral": 0.4,
    "organic_social": 0.6,
}
CHANNEL_QUALITY = {
    "content_syndication": 0.55,
    "paid_social": 0.75,
    "review_sites": 0.85,
    "events": 0.9,
    "partner": 1.15,
    "referral": 1.2,
    "organic_search": 1.05,
    "organic_web": 1.05,
}
ICP_TILT = 2.0  # target industries and ICP seniorities are this much more likely
BUYING_ROLES = ["economic_buyer", "champion", "technical_evaluator", "user", "influencer"]
SENIORITY_ROLE = {
    "c_level": 0,
    "vp": 0,
    "director": 1,
    "manager": 1,
    "individual_contributor": 3,
    "other": 4,
}


@dataclass
class Accounts:
    n: int
    crm: np.ndarray  # SALESFORCE (business unit core) or HUBSPOT (velocity)
    segment: np.ndarray  # index into definitions.segments
    employees: np.ndarray
    industry: np.ndarray  # index into definitions.industries
    region: np.ndarray  # territory: index into org.regions
    country: np.ndarray  # index into definitions.country_regions
    currency: np.ndarray  # index into CURRENCIES
    owner: np.ndarray  # rep index (account executive)
    annual_revenue: np.ndarray
    name: pa.Array
    domain: pa.Array
    created: np.ndarray  # set once the first lead or opportunity is known


@dataclass
class Leads:
    n: int
    account: np.ndarray
    crm: np.ndarray
    created: np.ndarray  # ascending
    title: np.ndarray  # index into definitions.titles
    source: np.ndarray  # index into Leads.sources
    sources: list[tuple[str, str, str, str]]  # (system, lead_source, channel, team)
    quality: np.ndarray  # acceptance multiplier of the lead's channel
    buying_role: np.ndarray  # index into BUYING_ROLES
    first_name: pa.Array
    last_name: pa.Array
    email: pa.Array
    phone: pa.Array


def _segment_employees(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    low = max(low, SMB_FLOOR)
    high = min(high, EMPLOYEE_CAP)
    return np.exp(rng.uniform(np.log(low), np.log(high + 1), n)).astype(np.int64)


def build_accounts(
    config: DemoConfig, definitions: Definitions, org: Org, rng: np.random.Generator
) -> Accounts:
    n = max(20, int(np.ceil(config.n_leads / config.leads_per_account)))
    crm = np.where(rng.random(n) < config.salesforce_share, SALESFORCE, HUBSPOT)
    segment_keys = [segment for segment, _, _ in definitions.segments]
    core_mix, velocity_mix = dict(config.segments), dict(config.velocity_segments)
    segment = np.where(
        crm == SALESFORCE,
        choice(rng, n, [core_mix.get(key, 0.0) for key in segment_keys]),
        choice(rng, n, [velocity_mix.get(key, 0.0) for key in segment_keys]),
    )
    employees = np.zeros(n, dtype=np.int64)
    for index, (_, low, high) in enumerate(definitions.segments):
        rows = segment == index
        employees[rows] = _segment_employees(rng, low, high, int(rows.sum()))
    industry = choice(rng, n, [ICP_TILT if target else 1.0 for _, target in definitions.industries])
    region_mix = dict(config.regions)
    core_region = choice(rng, n, [region_mix.get(region, 0.0) for region in org.regions])
    velocity_region = np.where(
        rng.random(n) < 0.55, org.regions.index("na_east"), org.regions.index("na_west")
    )
    region = np.where(crm == SALESFORCE, core_region, velocity_region)
    country = np.zeros(n, dtype=np.int64)
    for index, name in enumerate(org.regions):
        rows = np.flatnonzero(region == index)
        candidates = _region_countries(definitions, name)
        weights = [4.0 if position == 0 else 1.0 for position in range(len(candidates))]
        country[rows] = np.asarray(candidates)[choice(rng, len(rows), weights)]
    codes = [code for code, _ in definitions.country_regions]
    currency = (
        np.array(
            [CURRENCIES.index(COUNTRY_CURRENCY.get(codes[c], CORPORATE_CURRENCY)) for c in country]
        )
        if n
        else np.zeros(0, dtype=np.int64)
    )
    owner = np.zeros(n, dtype=np.int64)
    reps = org.reps
    assert reps is not None
    for crm_code in (SALESFORCE, HUBSPOT):
        for index in range(len(org.regions)):
            rows = np.flatnonzero((crm == crm_code) & (region == index))
            if len(rows):
                pool = reps.pool(crm_code, AE, index)
                owner[rows] = pool[rng.integers(0, len(pool), len(rows))]
    name, domain = company_names(n)
    return Accounts(
        n=n,
        crm=crm,
        segment=segment,
        employees=employees,
        industry=industry,
        region=region,
        country=country,
        currency=currency,
        owner=owner,
        annual_revenue=np.round(employees * rng.uniform(80_000, 260_000, n), -3),
        name=name,
        domain=domain,
        created=np.zeros(n, dtype=np.int64),
    )


def _region_countries(definitions: Definitions, region: str) -> list[int]:
    """Countries of a region; a territory no country maps to (North America West) takes the
    countries of its sibling territories (same prefix)."""
    rows = [i for i, (_, name) in enumerate(definitions.country_regions) if name == region]
    if rows:
        return rows
    prefix = region.split("_")[0]
    return [
        i for i, (_, name) in enumerate(definitions.country_regions) if name.split("_")[0] == prefix
    ]


def _creation_times(
    config: DemoConfig,
    org: Org,
    definitions: Definitions,
    region: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Lead arrival times: growth over the years, a yearly season, quiet weekends, and arrival
    mostly during the local working day of the account's territory."""
    days = (config.end_date - config.start_date).days + 1
    offsets = np.arange(days)
    day_dates = [config.start_date + timedelta(days=int(d)) for d in offsets]
    months = np.array([d.month for d in day_dates])
    weekdays = np.array([d.isoweekday() for d in day_dates])
    weights = (
        config.yearly_growth ** (offsets / 365.0)
        * (1 + config.seasonality * np.cos(2 * np.pi * (months - 3) / 12))
        * np.where(weekdays >= 6, 0.3, 1.0)
    )
    day = choice(rng, len(region), weights)
    utc_offset = np.array(
        [
            ZoneInfo(definitions.business_hours[name].time_zone)
            .utcoffset(datetime(config.start_date.year, 1, 15))
            .total_seconds()
            / 3600
            for name in org.regions
        ]
    )
    local_hour = np.where(
        rng.random(len(region)) < 0.78,
        np.clip(rng.normal(13, 3, len(region)), 0, 23.99),
        rng.uniform(0, 24, len(region)),
    )
    seconds = ((local_hour - utc_offset[region]) * 3600).astype(np.int64)
    return epoch(config.start_date) + day * DAY + seconds


def build_leads(
    config: DemoConfig,
    definitions: Definitions,
    org: Org,
    accounts: Accounts,
    rng: np.random.Generator,
) -> Leads:
    n = config.n_leads
    account = rng.integers(0, accounts.n, n)
    created = _creation_times(config, org, definitions, accounts.region[account], rng)
    order = np.argsort(created, kind="stable")
    account, created = account[order], created[order]
    crm = accounts.crm[account]
    title = choice(
        rng,
        n,
        [
            (ICP_TILT if icp else 1.0) * (0.3 if seniority == "other" else 1.0)
            for _, seniority, icp in definitions.titles
        ],
    )
    sources = [
        (system, source, channel, team)
        for system in ("salesforce", "hubspot")
        for source, channel, team in definitions.lead_sources.get(system, ())
    ]
    source = np.zeros(n, dtype=np.int64)
    for crm_code, system in ((SALESFORCE, "salesforce"), (HUBSPOT, "hubspot")):
        rows = np.flatnonzero(crm == crm_code)
        options = [i for i, row in enumerate(sources) if row[0] == system]
        if len(rows) and options:
            weights = [CHANNEL_VOLUME.get(sources[i][2], 0.5) for i in options]
            source[rows] = np.asarray(options)[choice(rng, len(rows), weights)]
    quality = np.array([CHANNEL_QUALITY.get(row[2], 1.0) for row in sources])[source]
    role_of_title = np.array(
        [
            2
            if ("IT" in name or "Engineer" in name or "Technology" in name)
            else SENIORITY_ROLE.get(seniority, 4)
            for name, seniority, _ in definitions.titles
        ]
    )
    first, last = person_names(rng, n)
    return Leads(
        n=n,
        account=account,
        crm=crm,
        created=created,
        title=title,
        source=source,
        sources=sources,
        quality=quality,
        buying_role=role_of_title[title],
        first_name=first,
        last_name=last,
        email=emails(first, last, np.arange(n), accounts.domain.take(pa.array(account))),
        phone=phones(rng, n),
    )


def icp_fit(
    definitions: Definitions,
    accounts: Accounts,
    leads: Leads,
    rule_index: np.ndarray,
    lead_index: np.ndarray,
) -> np.ndarray:
    """ICP fit of lead rows under the MQL rule given per row: employees in the rule's range,
    a target industry and an ICP seniority."""
    low = np.array([int(rule.values["min_employees"]) for rule in definitions.mql_rules])
    high = np.array([int(rule.values["max_employees"]) for rule in definitions.mql_rules])
    target = np.array([is_target for _, is_target in definitions.industries])
    senior = np.array([is_icp for _, _, is_icp in definitions.titles])
    account = leads.account[lead_index]
    employees = accounts.employees[account]
    return (
        (employees >= low[rule_index])
        & (employees <= high[rule_index])
        & target[accounts.industry[account]]
        & senior[leads.title[lead_index]]
    )


def rule_in_force(rules_from: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Index of the effective-dated rule in force at each timestamp (rules sorted by start)."""
    return np.clip(np.searchsorted(rules_from, t, side="right") - 1, 0, len(rules_from) - 1)


def rule_starts(rules: tuple) -> np.ndarray:
    return np.array(
        [
            int(
                datetime(
                    r.valid_from.year, r.valid_from.month, r.valid_from.day, tzinfo=UTC
                ).timestamp()
            )
            for r in rules
        ],
        dtype=np.int64,
    )
