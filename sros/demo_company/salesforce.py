"""The Salesforce export (business unit "core") built from the simulated world.

Picklist values come from crm_stage_mappings: a lead's status and its Status history are the
mapped values of its lifecycle events, an opportunity's stage_name and each history save the
mapped values of its stages. Everything is cut at the export time.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sros.demo_company.arrays import DAY, NULL, cat, const, epoch_day, ids
from sros.demo_company.handoffs import ACCEPTED, PRIORITIES
from sros.demo_company.lifecycle import (
    DISQUALIFIED_STATUS,
    QUEUE,
    RECYCLED_STATUS,
    SQL,
    STATUSES,
    current,
    latest_handoff,
    lead_scores,
    owner_events,
    status_events,
)
from sros.demo_company.marketing import Campaigns, TouchRows, campaign_id
from sros.demo_company.opportunities import (
    FORECAST_CATEGORY,
    OPPORTUNITY_TYPES,
    STAGE_PROBABILITY,
)
from sros.demo_company.population import BUYING_ROLES, CURRENCIES
from sros.demo_company.rates import month_starts, monthly_rates
from sros.demo_company.revenue import Subscriptions
from sros.demo_company.users import SALESFORCE
from sros.demo_company.world import World

ACCOUNT_TYPES = ["Prospect", "Customer", "Former Customer"]
CONTACT_ROLES = ["Economic Buyer", "Champion", "Technical Evaluator", "User", "Influencer"]
FAR_FUTURE_DAY = 2_932_896  # 9999-12-31


def status_vocabulary(world: World) -> list[str]:
    """Salesforce lead status value for each lifecycle status (nurture = second 'lead' value)."""
    values = world.definitions.crm_values("salesforce", "lead", "status")
    out = []
    for status in STATUSES:
        key = "lead" if status == "nurture" else status
        options = values.get(key)
        if not options:
            raise KeyError(f"crm_stage_mappings.csv has no Salesforce lead status for {key!r}")
        out.append(options[1] if status == "nurture" and len(options) > 1 else options[0])
    return out


def stage_vocabulary(world: World, system: str, crm_object: str, field: str) -> list[str]:
    return [world.definitions.crm_value(system, crm_object, field, key) for key in world.stages]


def _rep_ids(world: World, rep: np.ndarray, queue: str) -> pa.Array:
    reps = world.org.reps
    assert reps is not None
    vocabulary = [*list(reps.ids), queue]
    return cat(vocabulary, np.where(rep >= 0, rep, len(reps.ids)))


def lead_tables(world: World) -> dict[str, dict]:
    leads, accounts = world.leads, world.accounts
    statuses = status_events(world)
    owners = owner_events(world)
    status, status_time = current(statuses, leads.n, 0)
    owner, owner_time = current(owners, leads.n, QUEUE)
    latest = latest_handoff(world)
    h = world.handoffs
    score = lead_scores(world)
    rows = np.flatnonzero((leads.crm == SALESFORCE) & world.visible(leads.created))
    vocabulary = status_vocabulary(world)
    latest_rows = latest[rows]
    has_handoff = latest_rows >= 0
    priority = np.where(has_handoff, h.priority[np.maximum(latest_rows, 0)], NULL)
    rejected = np.isin(status[rows], [RECYCLED_STATUS, DISQUALIFIED_STATUS])
    reason = np.where(rejected & has_handoff, h.reason[np.maximum(latest_rows, 0)], NULL)
    converted = status[rows] == SQL
    contact = np.where(converted, world.contact_of_lead[rows], NULL)
    opportunity = np.where(converted, world.opportunity_of_lead[rows], NULL)
    account = leads.account[rows]
    modified = np.maximum.reduce([leads.created[rows], status_time[rows], owner_time[rows]])
    reasons = [code for code, _ in world.definitions.rejection_reasons]
    rating = np.select([score[rows] >= 70, score[rows] >= 40], [0, 1], 2)
    n = len(rows)
    lead = {
        "id": ids("00Q", rows),
        "is_deleted": np.zeros(n, bool),
        "master_record_id": pa.nulls(n, pa.string()),
        "first_name": leads.first_name.take(pa.array(rows)),
        "last_name": leads.last_name.take(pa.array(rows)),
        "email": leads.email.take(pa.array(rows)),
        "phone": leads.phone.take(pa.array(rows)),
        "title": cat([t for t, _, _ in world.definitions.titles], leads.title[rows]),
        "company": accounts.name.take(pa.array(account)),
        "industry": cat([i for i, _ in world.definitions.industries], accounts.industry[account]),
        "number_of_employees": accounts.employees[account],
        "country": cat(
            [c for c, _ in world.definitions.country_regions], accounts.country[account]
        ),
        "lead_source": cat([s[1] for s in leads.sources], leads.source[rows]),
        "status": cat(vocabulary, status[rows]),
        "rating": cat(["Hot", "Warm", "Cold"], rating),
        "owner_id": _rep_ids(world, owner[rows], world.org.marketing_queue_user),
        "lead_score_c": score[rows],
        "lead_priority_c": cat(PRIORITIES, priority),
        "rejection_reason_c": cat(reasons, reason),
        "account_id_c": ids("001", account),
        "is_converted": converted,
        "converted_date": np.where(converted, status_time[rows] // DAY, NULL),
        "converted_account_id": ids("001", np.where(converted, account, NULL)),
        "converted_contact_id": ids("003", contact),
        "converted_opportunity_id": ids("006", opportunity),
        "created_date": leads.created[rows],
        "last_modified_date": modified,
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }
    # Field history: Status and Owner changes of Salesforce leads.
    s_rows = np.flatnonzero(leads.crm[statuses.lead] == SALESFORCE)
    o_rows = np.flatnonzero(leads.crm[owners.lead] == SALESFORCE)
    queue = world.org.marketing_queue_user
    n_s, n_o = len(s_rows), len(o_rows)
    actor = np.concatenate([statuses.actor[s_rows], owners.actor[o_rows]])
    history = {
        "id": ids("017", np.arange(n_s + n_o)),
        "lead_id": ids("00Q", np.concatenate([statuses.lead[s_rows], owners.lead[o_rows]])),
        "created_by_id": _rep_ids(world, actor, queue),
        "created_date": np.concatenate([statuses.time[s_rows], owners.time[o_rows]]),
        "field": pa.concat_arrays([const("Status", n_s), const("Owner", n_o)]),
        "data_type": pa.concat_arrays([const("Picklist", n_s), const("EntityId", n_o)]),
        "old_value": pa.concat_arrays(
            [cat(vocabulary, statuses.old[s_rows]), _rep_ids(world, owners.old[o_rows], queue)]
        ),
        "new_value": pa.concat_arrays(
            [cat(vocabulary, statuses.new[s_rows]), _rep_ids(world, owners.new[o_rows], queue)]
        ),
        "is_deleted": np.zeros(n_s + n_o, bool),
        "_fivetran_synced": np.full(n_s + n_o, world.as_of),
    }
    return {"lead": lead, "lead_history": history}


def account_table(world: World, subs: Subscriptions) -> dict:
    a = world.accounts
    rows = np.flatnonzero((a.crm == SALESFORCE) & world.visible(a.created))
    first_lead = np.full(a.n, NULL, dtype=np.int64)
    unique, first = np.unique(world.leads.account, return_index=True)
    first_lead[unique] = world.leads.source[first]
    n = len(rows)
    return {
        "id": ids("001", rows),
        "is_deleted": np.zeros(n, bool),
        "master_record_id": pa.nulls(n, pa.string()),
        "name": a.name.take(pa.array(rows)),
        "website": pc.binary_join_element_wise("https://www.", a.domain.take(pa.array(rows)), ""),
        "industry": cat([i for i, _ in world.definitions.industries], a.industry[rows]),
        "number_of_employees": a.employees[rows],
        "annual_revenue": a.annual_revenue[rows],
        "billing_country": cat([c for c, _ in world.definitions.country_regions], a.country[rows]),
        "type": cat(ACCOUNT_TYPES, subs.status[rows]),
        "account_source": cat([s[1] for s in world.leads.sources], first_lead[rows]),
        "owner_id": _rep_ids(world, a.owner[rows], ""),
        "parent_id": pa.nulls(n, pa.string()),
        "created_date": a.created[rows],
        "last_modified_date": a.created[rows],
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }


def contact_table(world: World) -> dict:
    c = world.contacts
    rows = np.flatnonzero(world.visible(c.created))
    titles = [t for t, _, _ in world.definitions.titles]
    department = [
        "IT"
        if ("IT" in t or "Engineer" in t or "Technology" in t)
        else "Marketing"
        if "Marketing" in t
        else "Sales"
        if ("Sales" in t or "Revenue" in t)
        else "Executive"
        if ("Chief" in t or "VP" in t)
        else "Operations"
        for t in titles
    ]
    account = c.account[rows]
    n = len(rows)
    return {
        "id": ids("003", rows),
        "is_deleted": np.zeros(n, bool),
        "master_record_id": pa.nulls(n, pa.string()),
        "account_id": ids("001", account),
        "first_name": c.first_name.take(pa.array(rows)),
        "last_name": c.last_name.take(pa.array(rows)),
        "email": c.email.take(pa.array(rows)),
        "phone": c.phone.take(pa.array(rows)),
        "title": cat(titles, c.title[rows]),
        "department": cat(department, c.title[rows]),
        "buying_role_c": cat(BUYING_ROLES, c.buying_role[rows]),
        "lead_source": cat([s[1] for s in world.leads.sources], c.source[rows]),
        "owner_id": _rep_ids(world, world.accounts.owner[account], ""),
        "mailing_country": cat(
            [code for code, _ in world.definitions.country_regions], world.accounts.country[account]
        ),
        "created_date": c.created[rows],
        "last_modified_date": c.created[rows],
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }


def opportunity_tables(world: World, campaigns: Campaigns, touches: TouchRows) -> dict[str, dict]:
    specs, state, history = world.specs, world.state, world.history
    rows = np.flatnonzero((specs.crm == SALESFORCE) & state.exists)
    vocabulary = stage_vocabulary(world, "salesforce", "opportunity", "stage_name")
    probability = np.array([STAGE_PROBABILITY.get(key, 0) for key in world.stages], dtype=float)
    forecast = [FORECAST_CATEGORY.get(key, "Pipeline") for key in world.stages]
    # Primary campaign: the campaign of the originating lead's creation touch, if any.
    lead_campaign = np.full(world.leads.n, NULL, dtype=np.int64)
    creation = (touches.lead >= 0) & (touches.campaign >= 0) & touches.known
    lead_campaign[touches.lead[creation][::-1]] = touches.campaign[creation][::-1]
    origin = specs.origin_lead[rows]
    campaign = np.where(origin >= 0, lead_campaign[np.maximum(origin, 0)], NULL)
    account = specs.account[rows]
    n = len(rows)
    name = pc.binary_join_element_wise(
        world.accounts.name.take(pa.array(account)), cat(OPPORTUNITY_TYPES, specs.kind[rows]), " - "
    )
    opportunity = {
        "id": ids("006", rows),
        "is_deleted": np.zeros(n, bool),
        "account_id": ids("001", account),
        "name": name,
        "type": cat(OPPORTUNITY_TYPES, specs.kind[rows]),
        "stage_name": cat(vocabulary, state.stage[rows]),
        "amount": state.amount[rows],
        "currency_iso_code": cat(CURRENCIES, world.accounts.currency[account]),
        "probability": probability[state.stage[rows]],
        "forecast_category": cat(forecast, state.stage[rows]),
        "close_date": state.close_day[rows],
        "is_closed": state.is_closed[rows],
        "is_won": state.is_won[rows],
        "lead_source": cat([s[1] for s in world.leads.sources], specs.source[rows]),
        "campaign_id": campaign_id(campaign),
        "owner_id": _rep_ids(world, specs.owner[rows], ""),
        "originating_lead_id_c": ids("00Q", origin),
        "created_date": specs.created[rows],
        "last_modified_date": state.last_modified[rows],
        "_fivetran_synced": np.full(n, world.as_of),
        "_fivetran_deleted": np.zeros(n, bool),
    }
    saves = np.flatnonzero(
        (specs.crm[history.opportunity] == SALESFORCE) & world.visible(history.time)
    )
    opp = history.opportunity[saves]
    stage = history.stage[saves]
    m = len(saves)
    opportunity_history = {
        "id": ids("008", saves),
        "is_deleted": np.zeros(m, bool),
        "opportunity_id": ids("006", opp),
        "created_by_id": _rep_ids(world, specs.owner[opp], ""),
        "created_date": history.time[saves],
        "stage_name": cat(vocabulary, stage),
        "amount": history.amount[saves],
        "expected_revenue": np.round(history.amount[saves] * probability[stage] / 100, 2),
        "close_date": history.close_day[saves],
        "probability": probability[stage],
        "forecast_category": cat(forecast, stage),
        "_fivetran_synced": np.full(m, world.as_of),
    }
    role_opp, role_contact, primary = world.contact_roles
    c_created = world.contacts.created[role_contact]
    created = np.maximum(specs.created[role_opp], c_created)
    keep = (specs.crm[role_opp] == SALESFORCE) & state.exists[role_opp] & world.visible(created)
    k = int(keep.sum())
    roles = {
        "id": ids("00K", np.flatnonzero(keep)),
        "is_deleted": np.zeros(k, bool),
        "opportunity_id": ids("006", role_opp[keep]),
        "contact_id": ids("003", role_contact[keep]),
        "role": cat(CONTACT_ROLES, world.contacts.buying_role[role_contact[keep]]),
        "is_primary": primary[keep],
        "created_date": created[keep],
        "_fivetran_synced": np.full(k, world.as_of),
    }
    return {
        "opportunity": opportunity,
        "opportunity_history": opportunity_history,
        "opportunity_contact_role": roles,
    }


def activity_tables(world: World) -> dict[str, dict]:
    """Tasks (first and follow-up sales touches on leads, opportunity calls and emails) and
    events (discovery meetings of accepted leads, opportunity meetings)."""
    rng = np.random.default_rng([world.config.seed, 19])
    h, specs, state = world.handoffs, world.specs, world.state
    sf = world.leads.crm[h.lead] == SALESFORCE
    first = np.flatnonzero(sf & world.visible(h.first_touch_time))
    follow = np.flatnonzero(sf & world.visible(h.follow_up_time))
    opps = np.flatnonzero((specs.crm == SALESFORCE) & state.exists)
    per_opp = rng.integers(1, 4, len(opps))
    task_opp = np.repeat(opps, per_opp)
    end = np.where(state.is_closed[task_opp], state.closed_time[task_opp], world.as_of)
    task_time = specs.created[task_opp] + (
        rng.random(len(task_opp)) * np.maximum(end - specs.created[task_opp], 0)
    ).astype(np.int64)
    role_opp, role_contact, primary = world.contact_roles
    primary_contact = np.full(len(specs), NULL, dtype=np.int64)
    primary_contact[role_opp[primary]] = role_contact[primary]
    who_contact = primary_contact[task_opp]
    who_visible = (who_contact >= 0) & (
        world.contacts.created[np.maximum(who_contact, 0)] <= task_time
    )
    lead_who = np.concatenate([h.lead[first], h.lead[follow]])
    n_lead, n_opp = len(lead_who), len(task_opp)
    time = np.concatenate([h.first_touch_time[first], h.follow_up_time[follow], task_time])
    owner = np.concatenate(
        [h.first_touch_owner[first], h.first_touch_owner[follow], specs.owner[task_opp]]
    )
    is_call = rng.random(n_lead + n_opp) < 0.55
    who = pa.concat_arrays(
        [ids("00Q", lead_who), ids("003", np.where(who_visible, who_contact, NULL))]
    )
    n = n_lead + n_opp
    task = {
        "id": ids("00T", np.arange(n)),
        "is_deleted": np.zeros(n, bool),
        "who_id": who,
        "what_id": pa.concat_arrays([pa.nulls(n_lead, pa.string()), ids("006", task_opp)]),
        "account_id": pa.concat_arrays(
            [pa.nulls(n_lead, pa.string()), ids("001", specs.account[task_opp])]
        ),
        "owner_id": _rep_ids(world, owner, ""),
        "subject": cat(["Email", "Call"], is_call.astype(np.int64)),
        "type": cat(["Email", "Call"], is_call.astype(np.int64)),
        "task_subtype": cat(["Email", "Call"], is_call.astype(np.int64)),
        "status": const("Completed", n),
        "activity_date": time // DAY,
        "completed_date_time": time,
        "call_duration_in_seconds": pa.array(rng.integers(45, 1500, n), mask=~is_call),
        "created_date": time,
        "_fivetran_synced": np.full(n, world.as_of),
    }
    # Events: a discovery meeting a few days after a lead is accepted, one per opportunity.
    accepted = np.flatnonzero(sf & (h.outcome == ACCEPTED))
    meet_lead_time = h.disposition_time[accepted] + rng.integers(DAY, 5 * DAY, len(accepted))
    meet_opp_time = specs.created[opps] + rng.integers(DAY, 10 * DAY, len(opps))
    opp_contact = primary_contact[opps]
    contact_ok = (opp_contact >= 0) & (
        world.contacts.created[np.maximum(opp_contact, 0)] <= meet_opp_time
    )
    start = np.concatenate([meet_lead_time, meet_opp_time])
    visible = world.visible(start)
    duration = np.where(rng.random(len(start)) < 0.5, 30, 60)
    who_event = pa.concat_arrays(
        [ids("00Q", h.lead[accepted]), ids("003", np.where(contact_ok, opp_contact, NULL))]
    )
    what_event = pa.concat_arrays([pa.nulls(len(accepted), pa.string()), ids("006", opps)])
    account_event = pa.concat_arrays(
        [pa.nulls(len(accepted), pa.string()), ids("001", specs.account[opps])]
    )
    event_owner = np.concatenate([h.first_touch_owner[accepted], specs.owner[opps]])
    keep = pa.array(visible)
    e = int(visible.sum())
    event = {
        "id": ids("00U", np.flatnonzero(visible)),
        "is_deleted": np.zeros(e, bool),
        "who_id": who_event.filter(keep),
        "what_id": what_event.filter(keep),
        "account_id": account_event.filter(keep),
        "owner_id": _rep_ids(world, event_owner[visible], ""),
        "subject": const("Meeting", e),
        "type": const("Meeting", e),
        "event_subtype": const("Event", e),
        "start_date_time": start[visible],
        "end_date_time": start[visible] + duration[visible] * 60,
        "duration_in_minutes": duration[visible],
        "created_date": start[visible] - DAY,
        "_fivetran_synced": np.full(e, world.as_of),
    }
    return {"task": task, "event": event}


def campaign_member_table(world: World, campaigns: Campaigns, touches: TouchRows) -> dict:
    sf = (touches.lead >= 0) & touches.known & (touches.campaign >= 0)
    sf &= world.leads.crm[np.maximum(touches.lead, 0)] == SALESFORCE
    lead, campaign, time = touches.lead[sf], touches.campaign[sf], touches.time[sf]
    key = lead * len(campaigns.bu) + campaign
    order = np.lexsort((time, key))
    _, first = np.unique(key[order], return_index=True)
    rows = order[first]
    lead, campaign, time = lead[rows], campaign[rows], time[rows]
    contact = world.contact_of_lead[lead]
    converted = contact >= 0
    converted[converted] = world.visible(world.contacts.created[contact[converted]])
    n = len(rows)
    return {
        "id": ids("00v", np.arange(n)),
        "is_deleted": np.zeros(n, bool),
        "campaign_id": campaign_id(campaign),
        "lead_id": ids("00Q", lead),
        "contact_id": ids("003", np.where(converted, contact, NULL)),
        "status": const("Responded", n),
        "has_responded": np.ones(n, bool),
        "first_responded_date": time // DAY,
        "created_date": time,
        "_fivetran_synced": np.full(n, world.as_of),
    }


def org_tables(world: World) -> dict[str, dict]:
    users = world.org.sf_users
    n = len(users)
    user = {
        key: pa.array([u[key] for u in users])
        for key in (
            "id",
            "name",
            "first_name",
            "last_name",
            "email",
            "title",
            "department",
            "user_role_id",
            "manager_id",
            "region_c",
            "time_zone_sid_key",
        )
    }
    user.update(
        {
            "is_active": np.array([u["is_active"] for u in users]),
            "created_date": np.array([u["created_date"] for u in users]),
            "last_modified_date": np.array([u["created_date"] for u in users]),
            "_fivetran_synced": np.full(n, world.as_of),
            "_fivetran_deleted": np.zeros(n, bool),
        }
    )
    roles = world.org.sf_roles
    role = {
        key: pa.array([r[key] for r in roles], type=pa.string())
        for key in ("id", "name", "developer_name", "parent_role_id", "rollup_description")
    }
    role["_fivetran_synced"] = np.full(len(roles), world.as_of)
    role["_fivetran_deleted"] = np.zeros(len(roles), bool)
    return {"user": user, "user_role": role}


def conversion_rate_table(world: World) -> dict:
    months = month_starts(world.config.start_date, world.config.end_date)
    rates = monthly_rates(
        world.config.start_date,
        world.config.end_date,
        np.random.default_rng([world.config.seed, 23]),
    )
    start = np.array([epoch_day(m) for m in months])
    following = np.concatenate([start[1:], [FAR_FUTURE_DAY]])
    codes = np.repeat(np.arange(len(CURRENCIES)), len(months))
    n = len(codes)
    return {
        "id": ids("04w", np.arange(n)),
        "is_deleted": np.zeros(n, bool),
        "iso_code": cat(CURRENCIES, codes),
        "conversion_rate": np.concatenate([rates[c] for c in CURRENCIES]),
        "start_date": np.tile(start, len(CURRENCIES)),
        "next_start_date": np.tile(following, len(CURRENCIES)),
        "created_date": np.tile(start, len(CURRENCIES)) * DAY,
        "_fivetran_synced": np.full(n, world.as_of),
    }


def salesforce_tables(
    world: World,
    subs: Subscriptions,
    campaigns: Campaigns,
    touches: TouchRows,
    campaign_table: dict,
) -> dict[str, dict]:
    tables = {}
    tables.update(lead_tables(world))
    tables["account"] = account_table(world, subs)
    tables["contact"] = contact_table(world)
    tables.update(opportunity_tables(world, campaigns, touches))
    tables.update(activity_tables(world))
    tables["campaign"] = campaign_table
    tables["campaign_member"] = campaign_member_table(world, campaigns, touches)
    tables.update(org_tables(world))
    tables["dated_conversion_rate"] = conversion_rate_table(world)
    return tables
