"""The simulated company as parallel arrays, before it is written as CRM exports.

`build_world` runs the domains in causal order: organisation, accounts, leads and their
touches, MQL handoffs (and second handoffs of recycled leads that re-qualify), conversions to
contacts and opportunities, sales-sourced and customer (expansion/renewal) opportunities, and
the opportunity lifecycles. Every event is generated in full and cut at the export time
(`as_of`), so whatever is exported is exactly what had happened by then. The known signals of
signals.py are planted along the way: the trade-show burst (leads, their touches, and the
rejection plan), the experiment responses (touches before qualification) and the stuck deals
(first opportunity lifecycles, before expansions and renewals are derived from them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pyarrow as pa

from sros.demo_company.arrays import DAY, NULL, choice, epoch, rng_for
from sros.demo_company.calendar import RegionCalendars
from sros.demo_company.config import DemoConfig
from sros.demo_company.handoffs import ACCEPTED, RECYCLED, Handoffs, simulate_handoffs
from sros.demo_company.names import emails, person_names, phones
from sros.demo_company.opportunities import (
    EXPANSION,
    NEW_BUSINESS,
    RENEWAL,
    OpportunityHistory,
    OpportunitySpecs,
    OpportunityState,
    simulate_opportunities,
    stage_keys,
    state_as_of,
)
from sros.demo_company.population import (
    BUYING_ROLES,
    CURRENCIES,
    Accounts,
    Leads,
    build_accounts,
    build_leads,
    icp_fit,
    rule_in_force,
    rule_starts,
)
from sros.demo_company.rates import BASE_RATES
from sros.demo_company.seeds import Definitions, load_definitions
from sros.demo_company.signals import (
    RejectionPlan,
    burst_touches,
    experiment_arms,
    experiment_response_touches,
    experiment_touch_mask,
    plant_stuck_deals,
    plant_trade_show,
    planted_months,
    planted_source_index,
)
from sros.demo_company.touches import SCORE_CAP, Touches, build_touches, qualify
from sros.demo_company.users import SALESFORCE, Org, build_org

MEDIAN_ACV_USD = (12_000.0, 45_000.0, 160_000.0)  # by segment index
RE_ENGAGEMENT_TOUCHES = {
    "pricing_page_view": 0.4,
    "webinar_attended": 0.3,
    "demo_request": 0.15,
    "content_download": 0.15,
}
RE_MQL_RATE = 0.35  # recycled leads whose later touch brings them back as an MQL
EXPORT_HOUR = 23


@dataclass
class Contacts:
    """Salesforce contacts: converted leads plus buying-group members added by sales."""

    account: np.ndarray
    created: np.ndarray
    title: np.ndarray
    buying_role: np.ndarray
    lead: np.ndarray  # converted lead, -1 when added by sales
    source: np.ndarray  # index into Leads.sources, -1 when none
    first_name: pa.Array
    last_name: pa.Array
    email: pa.Array
    phone: pa.Array


@dataclass
class World:
    config: DemoConfig
    definitions: Definitions
    as_of: int
    org: Org
    calendars: RegionCalendars
    accounts: Accounts
    leads: Leads
    touches: Touches
    handoffs: Handoffs
    specs: OpportunitySpecs
    history: OpportunityHistory
    state: OpportunityState
    stages: list[str]
    contacts: Contacts
    contact_of_lead: np.ndarray  # per lead: its contact index once converted, else -1
    opportunity_of_lead: np.ndarray  # per lead: the opportunity it converted into, else -1
    contact_roles: tuple[np.ndarray, np.ndarray, np.ndarray]  # opportunity, contact, is_primary
    trade_show_leads: np.ndarray  # the planted trade-show burst (signals.plant_trade_show)
    rejection_plan: RejectionPlan  # the planted months and rising ramp weeks
    stuck_opportunities: np.ndarray  # opportunities planted as stuck deals
    experiment_arm_test: np.ndarray  # per lead: in the test arm of campaign experiments

    def visible(self, t: np.ndarray) -> np.ndarray:
        return (t >= 0) & (t <= self.as_of)


def _amounts(
    rng: np.random.Generator, accounts: Accounts, account: np.ndarray, segment: np.ndarray
) -> np.ndarray:
    usd = np.array(MEDIAN_ACV_USD)[segment] * rng.lognormal(0, 0.5, len(account))
    rate = np.array([BASE_RATES[code] for code in CURRENCIES])[accounts.currency[account]]
    return np.round(usd * rate, -2)


def _re_engage(
    definitions: Definitions,
    accounts: Accounts,
    leads: Leads,
    touches: Touches,
    first: Handoffs,
    rng: np.random.Generator,
) -> tuple[Touches, np.ndarray, np.ndarray, np.ndarray]:
    """Recycled leads that come back: a new touch which makes them an MQL again under the rule
    in force then. Returns the touches with the new ones and the second handoffs' inputs."""
    candidates = np.flatnonzero(
        (first.outcome == RECYCLED) & (rng.random(len(first.lead)) < RE_MQL_RATE)
    )
    lead = first.lead[candidates]
    time = first.disposition_time[candidates] + rng.uniform(30 * DAY, 150 * DAY, len(lead)).astype(
        np.int64
    )
    kinds = [kind for kind, _, _ in definitions.touch_types]
    kind = np.array([kinds.index(k) for k in RE_ENGAGEMENT_TOUCHES])[
        choice(rng, len(lead), list(RE_ENGAGEMENT_TOUCHES.values()))
    ]
    points = np.array([score for _, _, score in definitions.touch_types])
    sizes = np.bincount(touches.lead, minlength=leads.n)
    cumulative = np.cumsum(points[touches.kind])
    key = touches.lead * (1 << 32) + touches.time
    last = np.searchsorted(key, lead * (1 << 32) + time, side="right") - 1
    start = np.concatenate([[0], np.cumsum(sizes)])[lead]
    before = np.where(start > 0, cumulative[np.maximum(start - 1, 0)], 0)
    score = np.minimum(cumulative[last] - before + points[kind], SCORE_CAP)
    rule = rule_in_force(rule_starts(definitions.mql_rules), time)
    threshold = np.array([float(r.values["score_threshold"]) for r in definitions.mql_rules])
    keep = (score >= threshold[rule]) & icp_fit(definitions, accounts, leads, rule, lead)
    high = np.array([level == "high" for _, level, _ in definitions.touch_types])
    lead, time, kind = lead[keep], time[keep], kind[keep]
    all_lead = np.concatenate([touches.lead, lead])
    all_time = np.concatenate([touches.time, time])
    order = np.lexsort((all_time, all_lead))
    merged = Touches(
        lead=all_lead[order],
        time=all_time[order],
        kind=np.concatenate([touches.kind, kind])[order],
        known=np.concatenate([touches.known, np.ones(len(lead), bool)])[order],
        creation=np.concatenate([touches.creation, np.zeros(len(lead), bool)])[order],
    )
    return merged, lead, time, high[kind]


def _contacts(
    config: DemoConfig,
    definitions: Definitions,
    accounts: Accounts,
    leads: Leads,
    sql_lead: np.ndarray,
    sql_time: np.ndarray,
    sales_opps: OpportunitySpecs,
    sales_opp_ids: np.ndarray,
    rng: np.random.Generator,
) -> tuple[Contacts, tuple]:
    """Contacts of converted Salesforce leads, and buying-group members sales adds to each
    new-business opportunity (the first one the economic buyer)."""
    extra = np.array([1, 2, 3])[sales_opps.segment]
    opp_of_extra = np.repeat(np.arange(len(sales_opps)), extra)
    first_extra = (
        np.concatenate([[True], opp_of_extra[1:] != opp_of_extra[:-1]])
        if len(opp_of_extra)
        else np.zeros(0, bool)
    )
    n_extra = len(opp_of_extra)
    buyer_titles = [
        i
        for i, (_, seniority, _) in enumerate(definitions.titles)
        if seniority in ("c_level", "vp")
    ]
    title = np.where(
        first_extra,
        np.asarray(buyer_titles)[rng.integers(0, len(buyer_titles), n_extra)],
        rng.integers(0, len(definitions.titles), n_extra),
    )
    lead_roles = leads.buying_role
    role_of_title = {}
    for lead_title, role in zip(leads.title, lead_roles, strict=False):
        role_of_title.setdefault(int(lead_title), int(role))
        if len(role_of_title) == len(definitions.titles):
            break
    roles = np.array(
        [
            role_of_title.get(i, BUYING_ROLES.index("influencer"))
            for i in range(len(definitions.titles))
        ]
    )
    extra_role = np.where(first_extra, BUYING_ROLES.index("economic_buyer"), roles[title])
    extra_account = sales_opps.account[opp_of_extra]
    extra_created = sales_opps.created[opp_of_extra] + rng.integers(0, 5 * DAY, n_extra)
    first, last = person_names(rng, n_extra)
    domain = accounts.domain.take(pa.array(extra_account))
    contacts = Contacts(
        account=np.concatenate([leads.account[sql_lead], extra_account]),
        created=np.concatenate([sql_time, extra_created]),
        title=np.concatenate([leads.title[sql_lead], title]),
        buying_role=np.concatenate([leads.buying_role[sql_lead], extra_role]),
        lead=np.concatenate([sql_lead, np.full(n_extra, NULL)]),
        source=np.concatenate([leads.source[sql_lead], sales_opps.source[opp_of_extra]]),
        first_name=pa.concat_arrays([leads.first_name.take(pa.array(sql_lead)), first]),
        last_name=pa.concat_arrays([leads.last_name.take(pa.array(sql_lead)), last]),
        email=pa.concat_arrays(
            [
                leads.email.take(pa.array(sql_lead)),
                emails(first, last, config.n_leads + np.arange(n_extra), domain),
            ]
        ),
        phone=pa.concat_arrays([leads.phone.take(pa.array(sql_lead)), phones(rng, n_extra)]),
    )
    extra_index = len(sql_lead) + np.arange(n_extra)
    roles_out = (sales_opp_ids[opp_of_extra], extra_index, first_extra)
    return contacts, roles_out


def build_world(config: DemoConfig) -> World:
    definitions = load_definitions()
    as_of = epoch(config.end_date) + EXPORT_HOUR * 3600
    org = build_org(config, definitions, rng_for(config.seed, "org"))
    calendars = RegionCalendars(
        org.regions,
        definitions.business_hours,
        config.start_date - timedelta(days=10),
        config.end_date + timedelta(days=400),
    )
    accounts = build_accounts(config, definitions, org, rng_for(config.seed, "accounts"))
    leads = build_leads(config, definitions, org, accounts, rng_for(config.seed, "leads"))
    signal_rng = rng_for(config.seed, "signals")
    trade_show = plant_trade_show(
        config.start_date, config.end_date, config.n_leads, definitions, accounts, leads, signal_rng
    )
    touches = build_touches(definitions, accounts, leads, rng_for(config.seed, "touches"))
    touches = burst_touches(definitions, touches, leads, trade_show, signal_rng)
    arm_test = experiment_arms(leads.n, rng_for(config.seed, "experiment-arms"))
    in_experiment, _ = experiment_touch_mask(touches, config.start_date, config.end_date)
    email_source = np.array([row[2] == "email" for row in leads.sources])[leads.source]
    kinds = [kind for kind, _, _ in definitions.touch_types]
    email_touch = in_experiment & (
        (touches.kind == kinds.index("email_click"))
        | (touches.creation & email_source[touches.lead])
    )
    touches = experiment_response_touches(
        definitions, touches, leads, email_touch, arm_test, rng_for(config.seed, "experiments")
    )
    qualification = qualify(definitions, accounts, leads, touches)
    plan = RejectionPlan(
        source=leads.source,
        quality=leads.quality,
        as_of=as_of,
        planted_source=planted_source_index(leads),
        months=planted_months(config.start_date, config.end_date),
    )

    rng = rng_for(config.seed, "handoffs")
    mql = np.flatnonzero(qualification.mql_time >= 0)
    first = simulate_handoffs(
        definitions,
        org,
        calendars,
        accounts,
        leads,
        mql,
        qualification.mql_time[mql],
        qualification.high_intent[mql],
        1,
        rng,
        plan,
    )
    touches, lead2, time2, high2 = _re_engage(definitions, accounts, leads, touches, first, rng)
    second = simulate_handoffs(
        definitions,
        org,
        calendars,
        accounts,
        leads,
        lead2,
        time2,
        high2 | qualification.high_intent[lead2],
        2,
        rng,
        plan,
    )
    handoffs = Handoffs.concat([first, second])

    # Conversions: accepted leads that qualify become opportunities (and contacts in Salesforce).
    rng = rng_for(config.seed, "opportunities")
    converted = np.flatnonzero((handoffs.outcome == ACCEPTED) & (handoffs.sql_time >= 0))
    sql_lead, sql_time = handoffs.lead[converted], handoffs.sql_time[converted]
    lead_account = leads.account[sql_lead]
    win = dict(config.win_rates)
    segment_keys = [key for key, _, _ in definitions.segments]
    win_rate = np.array([win.get(key, 0.25) for key in segment_keys])
    inbound = OpportunitySpecs(
        account=lead_account,
        crm=leads.crm[sql_lead],
        created=sql_time,
        kind=np.full(len(sql_lead), NEW_BUSINESS),
        owner=accounts.owner[lead_account],
        amount=_amounts(rng, accounts, lead_account, accounts.segment[lead_account]),
        segment=accounts.segment[lead_account],
        origin_lead=sql_lead,
        source=leads.source[sql_lead],
        win_probability=win_rate[accounts.segment[lead_account]],
        parent=np.full(len(sql_lead), NULL),
    )
    core_accounts = np.flatnonzero(accounts.crm == SALESFORCE)
    n_outbound = int(np.round(config.outbound_ratio * (inbound.crm == SALESFORCE).sum()))
    outbound_account = core_accounts[rng.integers(0, len(core_accounts), n_outbound)]
    outbound_sources = [
        i
        for i, (system, _, channel, team) in enumerate(leads.sources)
        if system == "salesforce" and team == "sales" and channel == "outbound"
    ]
    span = (config.end_date - config.start_date).days * DAY
    outbound = OpportunitySpecs(
        account=outbound_account,
        crm=np.full(n_outbound, SALESFORCE),
        created=epoch(config.start_date) + rng.integers(0, span, n_outbound),
        kind=np.full(n_outbound, NEW_BUSINESS),
        owner=accounts.owner[outbound_account],
        amount=_amounts(rng, accounts, outbound_account, accounts.segment[outbound_account]),
        segment=accounts.segment[outbound_account],
        origin_lead=np.full(n_outbound, NULL),
        source=np.asarray(outbound_sources)[rng.integers(0, len(outbound_sources), n_outbound)]
        if outbound_sources
        else np.full(n_outbound, NULL),
        win_probability=win_rate[accounts.segment[outbound_account]] * 0.8,
        parent=np.full(n_outbound, NULL),
    )
    stages = stage_keys(definitions)
    n_open = len(stages) - 2
    first_specs = OpportunitySpecs.concat([inbound, outbound])
    first_history = simulate_opportunities(first_specs, n_open, rng)
    stuck = plant_stuck_deals(
        first_history.opportunity,
        first_history.time,
        first_history.stage,
        first_history.close_day,
        stages,
        n_open,
        as_of,
        rng_for(config.seed, "stuck-deals"),
    )
    won = first_history.stage == n_open
    won_opp, won_time = first_history.opportunity[won], first_history.time[won]
    expands = rng.random(len(won_opp)) < 0.4
    exp_parent, exp_time = (
        won_opp[expands],
        won_time[expands] + rng.integers(90 * DAY, 300 * DAY, int(expands.sum())),
    )
    ren_parent, ren_time = won_opp, won_time + 320 * DAY
    parents = np.concatenate([exp_parent, ren_parent])
    customer = OpportunitySpecs(
        account=first_specs.account[parents],
        crm=first_specs.crm[parents],
        created=np.concatenate([exp_time, ren_time]),
        kind=np.concatenate(
            [np.full(len(exp_parent), EXPANSION), np.full(len(ren_parent), RENEWAL)]
        ),
        owner=first_specs.owner[parents],
        amount=np.round(
            first_specs.amount[parents]
            * np.concatenate([rng.uniform(0.15, 0.5, len(exp_parent)), np.ones(len(ren_parent))]),
            -2,
        ),
        segment=first_specs.segment[parents],
        origin_lead=np.full(len(parents), NULL),
        source=np.full(len(parents), NULL),
        win_probability=np.concatenate(
            [np.full(len(exp_parent), 0.55), np.full(len(ren_parent), 0.85)]
        ),
        parent=parents,
    )
    second_history = simulate_opportunities(customer, n_open, rng)
    specs = OpportunitySpecs.concat([first_specs, customer])
    history = OpportunityHistory(
        opportunity=np.concatenate(
            [first_history.opportunity, second_history.opportunity + len(first_specs)]
        ),
        **{
            name: np.concatenate([getattr(first_history, name), getattr(second_history, name)])
            for name in ("time", "stage", "amount", "close_day")
        },
    )
    state = state_as_of(history, len(specs), as_of, n_open)

    # Salesforce contacts and contact roles (HubSpot persons are its contacts already).
    sf_sql = leads.crm[sql_lead] == SALESFORCE
    sales_new = np.flatnonzero((specs.crm == SALESFORCE) & (specs.kind == NEW_BUSINESS))
    contacts, (role_opp, role_contact, role_primary) = _contacts(
        config,
        definitions,
        accounts,
        leads,
        sql_lead[sf_sql],
        sql_time[sf_sql],
        _subset(specs, sales_new),
        sales_new,
        rng_for(config.seed, "contacts"),
    )
    contact_of_lead = np.full(leads.n, NULL, dtype=np.int64)
    contact_of_lead[sql_lead[sf_sql]] = np.arange(int(sf_sql.sum()))
    opportunity_of_lead = np.full(leads.n, NULL, dtype=np.int64)
    opportunity_of_lead[sql_lead] = np.arange(len(sql_lead))
    # The converted lead's contact is the primary contact of its opportunity; a sales-sourced
    # opportunity's primary is its economic buyer; a customer opportunity reuses its parent's.
    inbound_sf = np.flatnonzero(sf_sql)
    has_lead_contact = np.isin(role_opp, inbound_sf)
    role_primary = role_primary & ~has_lead_contact
    role_opp = np.concatenate([inbound_sf, role_opp])
    role_contact = np.concatenate([contact_of_lead[sql_lead[sf_sql]], role_contact])
    role_primary = np.concatenate([np.ones(len(inbound_sf), bool), role_primary])
    primary_of = np.full(len(specs), NULL, dtype=np.int64)
    primary_of[role_opp[role_primary]] = role_contact[role_primary]
    sf_customer = np.flatnonzero((specs.crm == SALESFORCE) & (specs.parent >= 0))
    carried = primary_of[specs.parent[sf_customer]] >= 0
    role_opp = np.concatenate([role_opp, sf_customer[carried]])
    role_contact = np.concatenate([role_contact, primary_of[specs.parent[sf_customer[carried]]]])
    role_primary = np.concatenate([role_primary, np.ones(int(carried.sum()), bool)])

    # Accounts exist before anything happens at them.
    first_seen = np.full(accounts.n, as_of, dtype=np.int64)
    np.minimum.at(first_seen, leads.account, leads.created)
    np.minimum.at(first_seen, specs.account, specs.created)
    accounts.created = first_seen - rng_for(config.seed, "accounts-created").integers(
        DAY, 200 * DAY, accounts.n
    )
    return World(
        config=config,
        definitions=definitions,
        as_of=as_of,
        org=org,
        calendars=calendars,
        accounts=accounts,
        leads=leads,
        touches=touches,
        handoffs=handoffs,
        specs=specs,
        history=history,
        state=state,
        stages=stages,
        contacts=contacts,
        contact_of_lead=contact_of_lead,
        opportunity_of_lead=opportunity_of_lead,
        contact_roles=(role_opp, role_contact, role_primary),
        trade_show_leads=trade_show,
        rejection_plan=plan,
        stuck_opportunities=stuck,
        experiment_arm_test=arm_test,
    )


def _subset(specs: OpportunitySpecs, rows: np.ndarray) -> OpportunitySpecs:
    return OpportunitySpecs(
        **{name: getattr(specs, name)[rows] for name in OpportunitySpecs.__dataclass_fields__}
    )
