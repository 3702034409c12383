"""Currency conversion rates: monthly dated rates (units of each currency per US dollar, the
corporate currency) as Salesforce advanced currency management stores them."""

from __future__ import annotations

from datetime import date

import numpy as np

from sros.demo_company.arrays import epoch_day

BASE_RATES = {"USD": 1.0, "EUR": 0.92, "GBP": 0.79, "AUD": 1.52, "CAD": 1.36}


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from the month of `first` to the month of `last`."""
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def monthly_rates(first: date, last: date, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A random walk of each currency's monthly rate around its base (USD stays 1)."""
    n = len(month_starts(first, last))
    out = {}
    for code, base in BASE_RATES.items():
        if code == "USD":
            out[code] = np.ones(n)
        else:
            out[code] = np.round(base * np.exp(np.cumsum(rng.normal(0, 0.012, n))), 6)
    return out


def rate_lookup(
    months: list[date],
    rates: dict[str, np.ndarray],
    currencies: list[str],
    currency: np.ndarray,
    day: np.ndarray,
) -> np.ndarray:
    """Rate (units per USD) of each row's currency in force on its epoch day."""
    starts = np.array([epoch_day(m) for m in months])
    index = np.clip(np.searchsorted(starts, day, side="right") - 1, 0, len(months) - 1)
    table = np.stack([rates[code] for code in currencies])
    return table[currency, index]
