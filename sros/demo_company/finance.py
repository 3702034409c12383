"""Go-to-market expenses by month, category and business unit, and third-party intent.

Expense categories come from the expense_categories seed. Advertising equals the month's ad
platform spend, commissions follow the month's won amounts; the other categories (salaries,
programs, tools, travel, recruiting) are budgeted per lead the business unit takes in that month
(COST_PER_LEAD, +-10% noise), so the cost of acquiring a customer stays the same at any scale.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from sros.demo_company.arrays import DAY, NULL, epoch, epoch_day, shard_tagged
from sros.demo_company.marketing import BUSINESS_UNITS
from sros.demo_company.population import CURRENCIES
from sros.demo_company.rates import BASE_RATES, month_starts
from sros.demo_company.world import World

COST_PER_LEAD = {
    "marketing_programs": 60.0,
    "marketing_salaries": 75.0,
    "sales_salaries": 90.0,
    "tools": 18.0,
    "travel": 18.0,
    "recruiting": 9.0,
}
MIN_LEADS_BUDGETED = 5  # a month with fewer leads still carries this many leads' budget
COMMISSION_RATE = 0.1
INTENT_TOPICS = ["revenue operations", "sales engagement", "marketing attribution"]
INTENT_SHARE = 0.3  # share of account domains the intent provider covers
INTENT_REPORTED_FROM = 25.0  # the provider reports a week only when the score reaches this


def expense_table(world: World, ad_spend: dict) -> dict:
    rng = np.random.default_rng([world.config.seed, 31])
    months = month_starts(world.config.start_date, world.config.end_date)
    month_days = np.array([epoch_day(m) for m in months])
    lead_month = np.searchsorted(month_days, world.leads.created // DAY, "right") - 1
    leads_seen = world.visible(world.leads.created)
    spend_month = np.searchsorted(month_days, np.asarray(ad_spend["spend_date"]), "right") - 1
    unit = np.array([0 if "core" in a else 1 for a in ad_spend["ad_account_id"].to_pylist()])
    won = world.state.is_won & world.visible(world.state.closed_time)
    won_month = np.searchsorted(month_days, world.state.closed_time[won] // DAY, "right") - 1
    usd = (
        world.state.amount[won]
        / np.array([BASE_RATES[c] for c in CURRENCIES])[
            world.accounts.currency[world.specs.account[won]]
        ]
    )
    rows: dict[str, list] = {
        key: [] for key in ("expense_id", "month_start", "category", "business_unit", "amount")
    }
    for m, month in enumerate(months):
        if epoch(month) > world.as_of:
            break
        for bu, name in enumerate(BUSINESS_UNITS):
            leads = int(((lead_month == m) & leads_seen & (world.leads.crm == bu)).sum())
            for category, _ in world.definitions.expense_categories:
                if category == "advertising":
                    amount = float(
                        np.asarray(ad_spend["spend"])[(spend_month == m) & (unit == bu)].sum()
                    )
                elif category == "commissions":
                    mask = (won_month == m) & (world.specs.crm[won] == bu)
                    amount = COMMISSION_RATE * float(usd[mask].sum())
                else:
                    amount = COST_PER_LEAD.get(category, 9.0) * max(leads, MIN_LEADS_BUDGETED)
                    amount *= rng.uniform(0.9, 1.1)
                rows["expense_id"].append(shard_tagged(f"{month:%Y%m}-{category}-{name}"))
                rows["month_start"].append(epoch_day(month))
                rows["category"].append(category)
                rows["business_unit"].append(name)
                rows["amount"].append(round(amount, 2))
    n = len(rows["expense_id"])
    return {
        "expense_id": pa.array(rows["expense_id"]),
        "month_start": np.array(rows["month_start"], dtype=np.int64),
        "category": pa.array(rows["category"]),
        "business_unit": pa.array(rows["business_unit"]),
        "amount": np.array(rows["amount"]),
        "currency": pa.array(["USD"] * n),
    }


def intent_table(world: World) -> dict:
    """Weekly intent per covered domain and topic: background noise, and a surge in the eight
    weeks before each opportunity at the account."""
    rng = np.random.default_rng([world.config.seed, 37])
    a = world.accounts
    first_week = epoch_day(world.config.start_date)
    first_week -= (first_week + 3) % 7  # epoch day 0 was a Thursday: back to Monday
    weeks = np.arange(first_week, epoch_day(world.config.end_date) + 1, 7)
    covered = np.flatnonzero(rng.random(a.n) < INTENT_SHARE)
    topic = rng.integers(0, len(INTENT_TOPICS), len(covered))
    slot = np.full(a.n, NULL, dtype=np.int64)
    slot[covered] = np.arange(len(covered))
    score = rng.gamma(2.0, 7.0, (len(covered), len(weeks)))
    opps = np.flatnonzero(world.visible(world.specs.created) & (slot[world.specs.account] >= 0))
    opp_week = np.searchsorted(weeks, world.specs.created[opps] // DAY, "right") - 1
    for lag in range(1, 9):
        week = opp_week - lag
        ok = week >= 0
        np.maximum.at(
            score,
            (slot[world.specs.account[opps[ok]]], week[ok]),
            rng.uniform(55, 95, int(ok.sum())) * (1 - lag / 12),
        )
    score = np.round(np.minimum(score, 100.0), 1)
    row, week = np.nonzero(score >= INTENT_REPORTED_FROM)
    return {
        "domain": a.domain.take(pa.array(covered[row])),
        "topic": pa.array(INTENT_TOPICS).take(pa.array(topic[row])),
        "week_start": weeks[week],
        "intent_score": score[row, week],
    }
