"""The HubSpot export (business unit "velocity") built from the simulated world.

HubSpot has no lead object: the person is a contact from the start, and its lifecycle lives in
contact_property_history (lifecyclestage, hs_lead_status, hubspot_owner_id) with the values
crm_stage_mappings maps. Deals carry their stage history in the history-mode deal_stage table.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sros.demo_company.arrays import DAY, NULL, cat, const, numeric_ids
from sros.demo_company.handoffs import ACCEPTED, PRIORITIES
from sros.demo_company.lifecycle import (
    DISQUALIFIED_STATUS,
    LEAD,
    QUEUE,
    RECYCLED_STATUS,
    SQL,
    STATUSES,
    Events,
    current,
    latest_handoff,
    lead_scores,
    owner_events,
    status_events,
)
from sros.demo_company.opportunities import STAGE_PROBABILITY
from sros.demo_company.population import BUYING_ROLES, CURRENCIES
from sros.demo_company.revenue import COMPANY_ID_OFFSET, Subscriptions
from sros.demo_company.users import HUBSPOT
from sros.demo_company.world import World

CONTACT_ID_OFFSET = 1_000_001
DEAL_ID_OFFSET = 8_000_001
ENGAGEMENT_ID_OFFSET = 6_000_001
PIPELINE_ID = "default"
DEAL_TYPES = ["newbusiness", "existingbusiness", "renewal"]
DEAL_TO_COMPANY, DEAL_TO_CONTACT = 5, 3  # HubSpot association type ids
FAR_FUTURE = 253_402_300_799  # 9999-12-31T23:59:59Z
LIFECYCLE = ["lead", "mql", "sql", "opportunity", "customer"]  # generator's lifecycle steps


def _owner_ids(world: World, rep: np.ndarray) -> pa.Array:
    reps = world.org.reps
    assert reps is not None
    vocabulary = [*list(reps.ids), world.org.hubspot_marketing_owner]
    return cat(vocabulary, np.where(rep >= 0, rep, len(reps.ids)))


def contact_tables(world: World) -> dict[str, dict]:
    d, leads, h = world.definitions, world.leads, world.handoffs
    lead_status = d.crm_values("hubspot", "contact", "hs_lead_status")
    lifecycle = d.crm_values("hubspot", "contact", "lifecyclestage")
    # hs_lead_status per lifecycle status; SQL and nurture keep the previous value (-1).
    status_value = [lead_status.get(key, [None])[0] for key in STATUSES]
    status_value[STATUSES.index("nurture")] = None
    status_value[SQL] = None
    lifecycle_value = [
        lifecycle["lead"][0],
        lifecycle["mql"][0],
        lifecycle["sql"][0],
        lifecycle["sql"][-1],
        lifecycle["closed_won"][0],
    ]
    statuses, owners = status_events(world), owner_events(world)

    # Lifecycle stage changes: creation, MQL, SQL, deal created, deal won.
    specs, state, history = world.specs, world.state, world.history
    hs_leads = np.flatnonzero((leads.crm == HUBSPOT) & world.visible(leads.created))
    visible_mql = world.visible(h.time)
    mql_time = np.full(leads.n, np.iinfo(np.int64).max)
    np.minimum.at(mql_time, h.lead[visible_mql], h.time[visible_mql])
    deals = np.flatnonzero((specs.crm == HUBSPOT) & (specs.origin_lead >= 0) & state.exists)
    origin = specs.origin_lead[deals]
    won_deals = deals[state.is_won[deals]]
    l_lead = np.concatenate(
        [
            hs_leads,
            np.flatnonzero(mql_time < np.iinfo(np.int64).max),
            origin,
            origin,
            specs.origin_lead[won_deals],
        ]
    )
    l_time = np.concatenate(
        [
            leads.created[hs_leads],
            mql_time[mql_time < np.iinfo(np.int64).max],
            specs.created[deals] - 60,
            specs.created[deals],
            state.closed_time[won_deals],
        ]
    )
    l_step = np.concatenate(
        [
            np.zeros(len(hs_leads), np.int64),
            np.ones(int((mql_time < np.iinfo(np.int64).max).sum()), np.int64),
            np.full(len(deals), 2),
            np.full(len(deals), 3),
            np.full(len(won_deals), 4),
        ]
    )
    keep = (leads.crm[l_lead] == HUBSPOT) & world.visible(l_time)
    l_lead, l_time, l_step = l_lead[keep], l_time[keep], l_step[keep]
    order = np.lexsort((l_step, l_time, l_lead))
    l_lead, l_time, l_step = l_lead[order], l_time[order], l_step[order]
    # A lifecycle stage only moves forward: keep the rows that raise it.
    starts = (
        np.concatenate([[True], l_lead[1:] != l_lead[:-1]]) if len(l_lead) else np.zeros(0, bool)
    )
    best = _running_max_in_group(l_step, starts)
    raises = starts | (l_step > np.concatenate([[-1], best[:-1]]))
    l_lead, l_time, l_step = l_lead[raises], l_time[raises], l_step[raises]
    life_now = np.zeros(leads.n, dtype=np.int64)
    life_now[l_lead] = l_step  # sorted by time within each contact: the last write wins

    s_rows = np.flatnonzero(
        (leads.crm[statuses.lead] == HUBSPOT)
        & np.array([v is not None for v in status_value])[statuses.new]
    )
    o_rows = np.flatnonzero(leads.crm[owners.lead] == HUBSPOT)
    status_now, status_time = current(_subset_events(statuses, s_rows), leads.n, LEAD)
    owner_now, owner_time = current(owners, leads.n, QUEUE)
    # Creation rows: initial status NEW and the marketing owner.
    created_rows = hs_leads
    n_new = len(created_rows)
    status_names = [v if v is not None else "" for v in status_value]
    history = {
        "contact_id": numeric_ids(
            np.concatenate(
                [l_lead, created_rows, statuses.lead[s_rows], created_rows, owners.lead[o_rows]]
            ),
            CONTACT_ID_OFFSET,
        ),
        "name": pa.concat_arrays(
            [
                const("lifecyclestage", len(l_lead)),
                const("hs_lead_status", n_new + len(s_rows)),
                const("hubspot_owner_id", n_new + len(o_rows)),
            ]
        ),
        "timestamp": np.concatenate(
            [
                l_time,
                leads.created[created_rows],
                statuses.time[s_rows],
                leads.created[created_rows],
                owners.time[o_rows],
            ]
        ),
        "value": pa.concat_arrays(
            [
                cat(lifecycle_value, l_step),
                const(status_names[LEAD], n_new),
                cat(status_names, statuses.new[s_rows]),
                _owner_ids(world, np.full(n_new, QUEUE)),
                _owner_ids(world, owners.new[o_rows]),
            ]
        ),
        "source": pa.concat_arrays(
            [
                const("CRM_UI", len(l_lead)),
                const("FORM", n_new),
                const("CRM_UI", len(s_rows)),
                const("AUTOMATION_PLATFORM", n_new),
                const("AUTOMATION_PLATFORM", len(o_rows)),
            ]
        ),
    }
    total = len(history["timestamp"])
    history["source_id"] = pa.nulls(total, pa.string())
    history["_fivetran_synced"] = np.full(total, world.as_of)

    latest = latest_handoff(world)
    score = lead_scores(world)
    rows = hs_leads
    latest_rows = latest[rows]
    has_handoff = latest_rows >= 0
    rejected = np.isin(status_now[rows], [RECYCLED_STATUS, DISQUALIFIED_STATUS])
    reasons = [code for code, _ in d.rejection_reasons]
    account = leads.account[rows]
    n = len(rows)
    modified = np.maximum.reduce([leads.created[rows], status_time[rows], owner_time[rows]])
    contact = {
        "id": numeric_ids(rows, CONTACT_ID_OFFSET),
        "is_deleted": np.zeros(n, bool),
        "property_email": leads.email.take(pa.array(rows)),
        "property_firstname": leads.first_name.take(pa.array(rows)),
        "property_lastname": leads.last_name.take(pa.array(rows)),
        "property_phone": leads.phone.take(pa.array(rows)),
        "property_jobtitle": cat([t for t, _, _ in d.titles], leads.title[rows]),
        "property_company": world.accounts.name.take(pa.array(account)),
        "property_country": cat([c for c, _ in d.country_regions], world.accounts.country[account]),
        "property_associatedcompanyid": numeric_ids(account, COMPANY_ID_OFFSET),
        "property_lifecyclestage": cat(lifecycle_value, life_now[rows]),
        "property_hs_lead_status": cat(status_names, status_now[rows]),
        "property_hubspotscore": score[rows],
        "property_lead_priority": cat(
            PRIORITIES, np.where(has_handoff, h.priority[np.maximum(latest_rows, 0)], NULL)
        ),
        "property_rejection_reason": cat(
            reasons, np.where(rejected & has_handoff, h.reason[np.maximum(latest_rows, 0)], NULL)
        ),
        "property_hs_analytics_source": cat([s[1] for s in leads.sources], leads.source[rows]),
        "property_hubspot_owner_id": _owner_ids(world, owner_now[rows]),
        "property_buying_role": cat(BUYING_ROLES, leads.buying_role[rows]),
        "property_hs_merged_object_ids": pa.nulls(n, pa.string()),
        "property_createdate": leads.created[rows],
        "property_lastmodifieddate": modified,
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }
    return {"contact": contact, "contact_property_history": history}


def _running_max_in_group(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running maximum restarting at each group start (values small non-negative ints)."""
    group = np.cumsum(starts)
    offset = group * (int(values.max(initial=0)) + 1)
    return np.maximum.accumulate(values + offset) - offset


def _subset_events(events: Events, rows: np.ndarray) -> Events:
    return Events(
        lead=events.lead[rows],
        time=events.time[rows],
        old=events.old[rows],
        new=events.new[rows],
        actor=events.actor[rows],
    )


def deal_tables(world: World) -> dict[str, dict]:
    d, specs, state, history = world.definitions, world.specs, world.state, world.history
    vocabulary = [d.crm_value("hubspot", "deal", "dealstage", key) for key in world.stages]
    rows = np.flatnonzero((specs.crm == HUBSPOT) & state.exists)
    n = len(rows)
    account = specs.account[rows]
    # The originating contact: the converted lead, or the parent deal's for customer deals.
    origin = specs.origin_lead.copy()
    customer = specs.parent >= 0
    origin[customer] = specs.origin_lead[specs.parent[customer]]
    deal = {
        "deal_id": numeric_ids(rows, DEAL_ID_OFFSET),
        "is_deleted": np.zeros(n, bool),
        "deal_pipeline_id": const(PIPELINE_ID, n),
        "deal_pipeline_stage_id": cat(vocabulary, state.stage[rows]),
        "owner_id": _owner_ids(world, specs.owner[rows]),
        "property_dealname": world.accounts.name.take(pa.array(account)),
        "property_dealtype": cat(DEAL_TYPES, specs.kind[rows]),
        "property_amount": state.amount[rows],
        "property_deal_currency_code": cat(CURRENCIES, world.accounts.currency[account]),
        "property_closedate": state.close_day[rows] * DAY,
        "property_createdate": specs.created[rows],
        "property_hs_analytics_source": cat(
            [s[1] for s in world.leads.sources], specs.source[rows]
        ),
        "property_originating_contact_id": numeric_ids(origin[rows], CONTACT_ID_OFFSET),
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }
    with_contact = rows[origin[rows] >= 0]
    deal_company = {
        "deal_id": numeric_ids(rows, DEAL_ID_OFFSET),
        "company_id": numeric_ids(account, COMPANY_ID_OFFSET),
        "type_id": np.full(n, DEAL_TO_COMPANY),
        "_fivetran_synced": np.full(n, world.as_of),
    }
    deal_contact = {
        "deal_id": numeric_ids(with_contact, DEAL_ID_OFFSET),
        "contact_id": numeric_ids(origin[with_contact], CONTACT_ID_OFFSET),
        "type_id": np.full(len(with_contact), DEAL_TO_CONTACT),
        "_fivetran_synced": np.full(len(with_contact), world.as_of),
    }
    saves = np.flatnonzero(
        (specs.crm[history.opportunity] == HUBSPOT) & world.visible(history.time)
    )
    deal_of = history.opportunity[saves]
    time = history.time[saves]
    last = (
        np.concatenate([deal_of[1:] != deal_of[:-1], [True]]) if len(saves) else np.zeros(0, bool)
    )
    following = np.concatenate([time[1:], [FAR_FUTURE]]) if len(saves) else time
    m = len(saves)
    deal_stage = {
        "deal_id": numeric_ids(deal_of, DEAL_ID_OFFSET),
        "date_entered": time,
        "value": cat(vocabulary, history.stage[saves]),
        "source": const("CRM_UI", m),
        "source_id": pa.nulls(m, pa.string()),
        "_fivetran_start": time,
        "_fivetran_end": np.where(last, FAR_FUTURE, following),
        "_fivetran_active": last,
        "_fivetran_synced": np.full(m, world.as_of),
    }
    probability = [STAGE_PROBABILITY.get(key, 0) / 100 for key in world.stages]
    k = len(vocabulary)
    pipeline_stage = {
        "stage_id": pa.array(vocabulary),
        "pipeline_id": const(PIPELINE_ID, k),
        "label": pa.array([value.title() for value in vocabulary]),
        "display_order": np.arange(k),
        "probability": np.array(probability),
        "closed_won": np.array([key == "closed_won" for key in world.stages]),
        "active": np.ones(k, bool),
        "_fivetran_synced": np.full(k, world.as_of),
        "_fivetran_deleted": np.zeros(k, bool),
    }
    pipeline = {
        "pipeline_id": pa.array([PIPELINE_ID]),
        "label": pa.array(["Velocity Sales Pipeline"]),
        "display_order": np.zeros(1, np.int64),
        "active": np.ones(1, bool),
        "_fivetran_synced": np.full(1, world.as_of),
        "_fivetran_deleted": np.zeros(1, bool),
    }
    return {
        "deal": deal,
        "deal_company": deal_company,
        "deal_contact": deal_contact,
        "deal_stage": deal_stage,
        "deal_pipeline_stage": pipeline_stage,
        "deal_pipeline": pipeline,
    }


def company_table(world: World, subs: Subscriptions) -> dict:
    a, d = world.accounts, world.definitions
    rows = np.flatnonzero((a.crm == HUBSPOT) & world.visible(a.created))
    lifecycle = d.crm_values("hubspot", "contact", "lifecyclestage")
    stage = [lifecycle["lead"][-1], lifecycle["closed_won"][0], lifecycle["closed_won"][0]]
    n = len(rows)
    return {
        "id": numeric_ids(rows, COMPANY_ID_OFFSET),
        "is_deleted": np.zeros(n, bool),
        "property_name": a.name.take(pa.array(rows)),
        "property_domain": a.domain.take(pa.array(rows)),
        "property_industry": cat([i for i, _ in d.industries], a.industry[rows]),
        "property_numberofemployees": a.employees[rows],
        "property_annualrevenue": a.annual_revenue[rows],
        "property_country": cat([c for c, _ in d.country_regions], a.country[rows]),
        "property_lifecyclestage": cat(stage, subs.status[rows]),
        "property_hubspot_owner_id": _owner_ids(world, a.owner[rows]),
        "property_createdate": a.created[rows],
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }


def engagement_tables(world: World) -> dict[str, dict]:
    """Sales touches on contacts (first touch, follow-up, meeting after acceptance) and a
    meeting per deal."""
    rng = np.random.default_rng([world.config.seed, 29])
    h, specs, state = world.handoffs, world.specs, world.state
    hs = world.leads.crm[h.lead] == HUBSPOT
    first = np.flatnonzero(hs & world.visible(h.first_touch_time))
    follow = np.flatnonzero(hs & world.visible(h.follow_up_time))
    accepted = np.flatnonzero(hs & (h.outcome == ACCEPTED))
    meeting_time = h.disposition_time[accepted] + rng.integers(DAY, 5 * DAY, len(accepted))
    deals = np.flatnonzero((specs.crm == HUBSPOT) & state.exists & (specs.origin_lead >= 0))
    deal_time = specs.created[deals] + rng.integers(DAY, 10 * DAY, len(deals))
    time = np.concatenate(
        [h.first_touch_time[first], h.follow_up_time[follow], meeting_time, deal_time]
    )
    contact = np.concatenate(
        [h.lead[first], h.lead[follow], h.lead[accepted], specs.origin_lead[deals]]
    )
    owner = np.concatenate(
        [
            h.first_touch_owner[first],
            h.first_touch_owner[follow],
            h.first_touch_owner[accepted],
            specs.owner[deals],
        ]
    )
    n_touch = len(first) + len(follow)
    kind = np.concatenate(
        [np.where(rng.random(n_touch) < 0.55, 0, 1), np.full(len(accepted) + len(deals), 2)]
    )
    deal_of = np.concatenate([np.full(n_touch + len(accepted), NULL), deals])
    visible = world.visible(time)
    time, contact, owner, kind, deal_of = (
        x[visible] for x in (time, contact, owner, kind, deal_of)
    )
    n = len(time)
    engagement_id = numeric_ids(np.arange(n), ENGAGEMENT_ID_OFFSET)
    with_deal = deal_of >= 0
    return {
        "engagement": {
            "id": engagement_id,
            "type": cat(["CALL", "EMAIL", "MEETING"], kind),
            "owner_id": _owner_ids(world, owner),
            "timestamp": time,
            "created_at": time,
            "active": np.ones(n, bool),
            "_fivetran_synced": np.full(n, world.as_of),
            "_fivetran_deleted": np.zeros(n, bool),
        },
        "engagement_contact": {
            "engagement_id": engagement_id,
            "contact_id": numeric_ids(contact, CONTACT_ID_OFFSET),
            "_fivetran_synced": np.full(n, world.as_of),
        },
        "engagement_deal": {
            "engagement_id": engagement_id.filter(pa.array(with_deal)),
            "deal_id": numeric_ids(deal_of[with_deal], DEAL_ID_OFFSET),
            "_fivetran_synced": np.full(int(with_deal.sum()), world.as_of),
        },
    }


def org_tables(world: World) -> dict[str, dict]:
    owners, teams, links = world.org.hs_owners, world.org.hs_teams, world.org.hs_owner_teams
    n = len(owners)
    owner = {
        key: pa.array([o[key] for o in owners], type=pa.string())
        for key in ("owner_id", "email", "first_name", "last_name", "user_id")
    }
    owner.update(
        {
            "is_active": np.array([o["is_active"] for o in owners]),
            "created_at": np.array([o["created_at"] for o in owners]),
            "updated_at": np.array([o["updated_at"] for o in owners]),
            "_fivetran_synced": np.full(n, world.as_of),
            "_fivetran_deleted": np.zeros(n, bool),
        }
    )
    team = {
        "id": pa.array([t["id"] for t in teams]),
        "name": pa.array([t["name"] for t in teams]),
        "_fivetran_synced": np.full(len(teams), world.as_of),
        "_fivetran_deleted": np.zeros(len(teams), bool),
    }
    owner_team = {
        "owner_id": pa.array([x["owner_id"] for x in links]),
        "team_id": pa.array([x["team_id"] for x in links]),
        "is_team_primary": np.array([x["is_team_primary"] for x in links]),
        "_fivetran_synced": np.full(len(links), world.as_of),
        "_fivetran_deleted": np.zeros(len(links), bool),
    }
    return {"owner": owner, "team": team, "owner_team": owner_team}


def hubspot_tables(world: World, subs: Subscriptions) -> dict[str, dict]:
    tables = contact_tables(world)
    tables["company"] = company_table(world, subs)
    tables.update(deal_tables(world))
    tables.update(engagement_tables(world))
    tables.update(org_tables(world))
    return tables
