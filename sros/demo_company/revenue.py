"""Billing: one subscription per customer account, with monthly MRR and its movement.

A won new-business deal starts the subscription the month after it closes (MRR = amount / 12);
later won new-business or expansion deals add their amount / 12 (expansion); a lost renewal
churns the account the month after it closes (MRR 0 in the churn month, no rows after); now and
then a customer trims seats (contraction).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sros.demo_company.arrays import (
    DAY,
    NULL,
    cat,
    cumsum_in_group,
    epoch_day,
    group_starts,
    numeric_ids,
    position_in_group,
)
from sros.demo_company.arrays import ids as make_ids
from sros.demo_company.opportunities import EXPANSION, NEW_BUSINESS, RENEWAL
from sros.demo_company.population import CURRENCIES
from sros.demo_company.rates import month_starts
from sros.demo_company.users import SALESFORCE
from sros.demo_company.world import World

MOVEMENTS = ["new", "expansion", "contraction", "churn", "flat"]
NEW, EXPANDED, CONTRACTED, CHURNED, FLAT = range(len(MOVEMENTS))
PLANS = ["starter", "growth", "enterprise"]
COMPANY_ID_OFFSET = 3_000_001


@dataclass
class Subscriptions:
    account: np.ndarray
    month: np.ndarray  # index into months
    mrr: np.ndarray  # account currency
    movement: np.ndarray
    months: list
    status: np.ndarray  # per account: 0 never a customer, 1 customer, 2 former customer


def account_ids(world: World, account: np.ndarray) -> pa.Array:
    sf = make_ids("001", account)
    hs = numeric_ids(account, COMPANY_ID_OFFSET)
    return pc.if_else(pa.array(world.accounts.crm[account] == SALESFORCE), sf, hs)


def build_subscriptions(world: World) -> Subscriptions:
    rng = np.random.default_rng([world.config.seed, 17])
    months = month_starts(world.config.start_date, world.config.end_date)
    month_days = np.array([epoch_day(m) for m in months])
    state, specs = world.state, world.specs

    def month_after(time: np.ndarray) -> np.ndarray:
        return np.searchsorted(month_days, time // DAY, side="right")

    grows = state.is_won & np.isin(specs.kind, [NEW_BUSINESS, EXPANSION])
    churns = state.is_closed & ~state.is_won & (specs.kind == RENEWAL)
    g_acc, g_month = specs.account[grows], month_after(state.closed_time[grows])
    g_delta = specs.amount[grows] / 12.0
    first_month = np.full(world.accounts.n, len(months), dtype=np.int64)
    np.minimum.at(first_month, g_acc, g_month)
    c_acc, c_month = specs.account[churns], month_after(state.closed_time[churns])
    churn_month = np.full(world.accounts.n, len(months), dtype=np.int64)
    valid = c_month >= first_month[c_acc]
    np.minimum.at(churn_month, c_acc[valid], c_month[valid])

    customer = np.flatnonzero(first_month < len(months))
    last = np.minimum(churn_month[customer], len(months) - 1)
    sizes = last - first_month[customer] + 1
    slot = np.full(world.accounts.n, NULL, dtype=np.int64)
    slot[customer] = np.arange(len(customer))
    starts = group_starts(sizes)
    total = int(sizes.sum())
    delta = np.zeros(total)
    keep = (g_month <= last[slot[g_acc]]) if len(g_acc) else np.zeros(0, bool)
    np.add.at(
        delta, starts[slot[g_acc[keep]]] + g_month[keep] - first_month[g_acc[keep]], g_delta[keep]
    )
    account = np.repeat(customer, sizes)
    position = position_in_group(sizes)
    base = np.repeat(delta[starts], sizes)
    contract = (position > 2) & (delta == 0) & (rng.random(total) < 0.02)
    delta = delta - np.where(contract, 0.15 * base, 0.0)
    mrr = np.round(np.maximum(cumsum_in_group(delta, sizes), 0.0), 2)
    month = first_month[account] + position
    churned = month == churn_month[account]
    mrr = np.where(churned, 0.0, mrr)
    movement = np.select(
        [position == 0, churned, delta > 0, delta < 0],
        [NEW, CHURNED, EXPANDED, CONTRACTED],
        FLAT,
    )
    status = np.zeros(world.accounts.n, dtype=np.int64)
    status[customer] = np.where(churn_month[customer] < len(months), 2, 1)
    return Subscriptions(
        account=account, month=month, mrr=mrr, movement=movement, months=months, status=status
    )


def subscription_table(world: World, subs: Subscriptions) -> dict:
    acc = subs.account
    plan = np.select([subs.mrr < 1500, subs.mrr < 6000], [0, 1], 2)
    return {
        "subscription_id": make_ids("sub_", acc, 10),
        "account_id": account_ids(world, acc),
        "source_system": cat(["salesforce", "hubspot"], world.accounts.crm[acc]),
        "month_start": np.array([epoch_day(m) for m in subs.months])[subs.month],
        "plan": cat(PLANS, plan),
        "mrr": subs.mrr,
        "currency": cat(CURRENCIES, world.accounts.currency[acc]),
        "movement": cat(MOVEMENTS, subs.movement),
    }
