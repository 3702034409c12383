"""Billing: one subscription per customer account, with monthly MRR and its movement.

A won new-business deal starts the subscription the month after it closes (MRR = amount / 12);
later won new-business or expansion deals add their amount / 12 (expansion); a lost renewal
churns the account the month after it closes (MRR 0 in the churn month, no rows after).

Beyond the CRM deals, customers move by segment every month after their first: they cancel
(churn), add seats (expansion) or trim seats (contraction) with the probabilities of
MONTHLY_MOVES. The company also has an installed base: some accounts were customers before
the data starts; they have MRR from the first month with movement flat (an opening balance,
not a new customer) and move like the others.
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
    epoch_day,
    numeric_ids,
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
# Per segment: monthly probability of (churn, expansion, contraction) of a customer in a month
# without a CRM deal, and the relative size of an expansion and of a contraction.
MONTHLY_MOVES = {
    "smb": (0.030, 0.020, 0.015),
    "mid_market": (0.015, 0.035, 0.015),
    "enterprise": (0.008, 0.045, 0.010),
}
EXPANSION_SIZE, CONTRACTION_SIZE = 0.20, 0.15
# Share of exported accounts never won in the CRM that were customers before the data starts,
# and their opening MRR range (account currency) by segment.
INSTALLED_BASE_SHARE = 0.06
OPENING_MRR = {
    "smb": (400.0, 1_500.0),
    "mid_market": (1_500.0, 6_000.0),
    "enterprise": (6_000.0, 20_000.0),
}


@dataclass
class Subscriptions:
    account: np.ndarray
    month: np.ndarray  # index into months
    mrr: np.ndarray  # account currency
    movement: np.ndarray
    months: list
    status: np.ndarray  # per account: 0 never a customer, 1 customer, 2 former customer
    installed: np.ndarray  # per account: a customer before the data starts (opening balance)


def account_ids(world: World, account: np.ndarray) -> pa.Array:
    sf = make_ids("001", account)
    hs = numeric_ids(account, COMPANY_ID_OFFSET)
    return pc.if_else(pa.array(world.accounts.crm[account] == SALESFORCE), sf, hs)


def build_subscriptions(world: World) -> Subscriptions:
    rng = np.random.default_rng([world.config.seed, 17])
    months = month_starts(world.config.start_date, world.config.end_date)
    n_months = len(months)
    month_days = np.array([epoch_day(m) for m in months])
    state, specs, accounts = world.state, world.specs, world.accounts

    def month_after(time: np.ndarray) -> np.ndarray:
        return np.searchsorted(month_days, time // DAY, side="right")

    grows = state.is_won & np.isin(specs.kind, [NEW_BUSINESS, EXPANSION])
    churns = state.is_closed & ~state.is_won & (specs.kind == RENEWAL)
    g_acc, g_month = specs.account[grows], month_after(state.closed_time[grows])
    g_delta = specs.amount[grows] / 12.0
    first_month = np.full(accounts.n, n_months, dtype=np.int64)
    np.minimum.at(first_month, g_acc, g_month)
    candidates = np.flatnonzero((first_month == n_months) & world.visible(accounts.created))
    installed = np.zeros(accounts.n, bool)
    installed[candidates[rng.random(len(candidates)) < INSTALLED_BASE_SHARE]] = True
    first_month[installed] = 0
    c_acc, c_month = specs.account[churns], month_after(state.closed_time[churns])
    churn_month = np.full(accounts.n, n_months, dtype=np.int64)
    valid = c_month >= first_month[c_acc]
    np.minimum.at(churn_month, c_acc[valid], c_month[valid])

    customer = np.flatnonzero(first_month < n_months)
    slot = np.full(accounts.n, NULL, dtype=np.int64)
    slot[customer] = np.arange(len(customer))
    deals = np.zeros((len(customer), n_months + 1))
    np.add.at(deals, (slot[g_acc], np.minimum(g_month, n_months)), g_delta)
    segment_keys = [key for key, _, _ in world.definitions.segments]
    moves = np.array([MONTHLY_MOVES.get(key, (0.0, 0.0, 0.0)) for key in segment_keys])
    segment = accounts.segment[customer]
    p_churn, p_expand, p_contract = (moves[segment, i][:, None] for i in range(3))
    low, high = (
        np.array([OPENING_MRR.get(key, (1_000.0, 1_000.0))[i] for key in segment_keys])[segment]
        for i in range(2)
    )
    opening = np.round(low + (high - low) * rng.random(len(customer)), 2)
    draw = rng.random((len(customer), n_months))
    first, own_churn = first_month[customer], churn_month[customer]
    mrr = np.zeros((len(customer), n_months))
    movement = np.full((len(customer), n_months), FLAT)
    alive = np.zeros(len(customer), bool)
    gone = np.zeros(len(customer), bool)
    for m in range(n_months):
        previous = mrr[:, m - 1] if m else np.zeros(len(customer))
        starts = (first == m) & ~gone
        running = alive & ~starts
        deal = deals[:, m]
        random = running & (deal == 0)
        churned = running & ((own_churn == m) | (random & (draw[:, m] < p_churn[:, 0])))
        expand = random & ~churned & (draw[:, m] >= p_churn[:, 0])
        expand &= draw[:, m] < p_churn[:, 0] + p_expand[:, 0]
        contract = random & ~churned & ~expand & (draw[:, m] >= 1 - p_contract[:, 0])
        value = previous + deal
        value = np.where(expand, previous * (1 + EXPANSION_SIZE), value)
        value = np.where(contract, previous * (1 - CONTRACTION_SIZE), value)
        value = np.where(starts, np.where(installed[customer], opening, deal), value)
        value = np.where(churned | ~(alive | starts), 0.0, np.round(value, 2))
        mrr[:, m] = value
        movement[:, m] = np.select(
            [starts & installed[customer], starts, churned, value > previous, value < previous],
            [FLAT, NEW, CHURNED, EXPANDED, CONTRACTED],
            FLAT,
        )
        gone |= churned
        alive = (alive | starts) & ~churned
    shown = np.zeros_like(mrr, dtype=bool)
    for m in range(n_months):
        shown[:, m] = (first <= m) & ((mrr[:, m] > 0) | (movement[:, m] == CHURNED))
    row, month = np.nonzero(shown)
    status = np.zeros(accounts.n, dtype=np.int64)
    status[customer] = np.where(mrr[:, -1] > 0, 1, 2)
    return Subscriptions(
        account=customer[row],
        month=month.astype(np.int64),
        mrr=mrr[row, month],
        movement=movement[row, month],
        months=months,
        status=status,
        installed=installed,
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
