"""The pipeline KPI marts (kpi_pipeline_created, kpi_win_rates, kpi_stage_aging,
kpi_pipeline_velocity) on the 2000-lead demo company: they give back the generator's ground
truth (sros/demo_company/truth.py) where it defines the number, and otherwise reconcile with
the facts they are built from, recomputed here independently in Python.

Tolerances: truth.py rounds every rate to 6 decimals (ROUNDING); the marts store each
converted amount to the cent while the generator sums unrounded floats, so a sum of n amounts
may differ by n * 0.005 (CENT). Counts are exact.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from datetime import date, timedelta

import duckdb
import pytest

ROUNDING = 1e-6
CENT = 0.005


@pytest.fixture(scope="module")
def company(built_company: Callable) -> Iterator[tuple]:
    built = built_company(leads=2000, seed=42)
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con, built.truth
    con.close()


def _rules(con: duckdb.DuckDBPyConnection) -> tuple[int, int, int]:
    """The pipeline_kpi_rules version in force on the as-of date (the demo has one)."""
    row = con.sql(
        """
        select stuck_days_past_median, stage_median_trailing_days, velocity_trailing_months
        from seeds.pipeline_kpi_rules
        cross join intermediate.int_as_of_date as as_of
        where as_of.as_of_date >= valid_from and as_of.as_of_date < valid_to
        """
    ).fetchone()
    assert row is not None
    return row


@pytest.mark.parametrize("period_type", ["week", "month", "quarter"])
def test_new_business_win_rate_by_segment_summed_over_periods_is_the_truth(
    company: tuple, period_type: str
) -> None:
    """truth funnel.win_rate_by_segment: new-business deals, won / closed by account segment,
    by count and by amount in USD at the close date's rate (a lost deal at its last open
    amount). The mart's periods partition the closed deals, so their sums give it back."""
    con, truth = company
    expected = truth["funnel"]["win_rate_by_segment"]
    rows = con.sql(
        f"""
        select segment, sum(won_count), sum(closed_count), sum(won_amount), sum(closed_amount)
        from marts.kpi_win_rates
        where period_type = '{period_type}' and opportunity_type = 'new_business'
        group by 1
        """
    ).fetchall()
    ours = {segment: rest for segment, *rest in rows}
    assert set(ours) == {s for s, rate in expected["by_count"].items() if rate is not None}
    for segment, (won, closed, won_amount, closed_amount) in ours.items():
        assert abs(won / closed - expected["by_count"][segment]) <= ROUNDING, segment
        tolerance = ROUNDING + 2 * closed * CENT / float(closed_amount)
        by_amount = float(won_amount) / float(closed_amount)
        assert abs(by_amount - expected["by_amount"][segment]) <= tolerance, segment


def test_win_rate_divergence_is_segment_minus_company(company: tuple) -> None:
    """The company rate of a period and type is the ratio of the sums over its segments, and
    each segment's divergence is its rate minus that."""
    con, _ = company
    (bad,) = con.sql(
        """
        with company as (
            select period_type, period_start, opportunity_type,
                sum(won_count) * 1.0 / sum(closed_count) as rate
            from marts.kpi_win_rates
            group by 1, 2, 3
        )
        select count(*)
        from marts.kpi_win_rates as rates
        inner join company using (period_type, period_start, opportunity_type)
        where abs(rates.company_win_rate_by_count - company.rate) > 1e-12
            or abs(rates.win_rate_by_count_divergence
                - (rates.win_rate_by_count - company.rate)) > 1e-12
        """
    ).fetchone()
    assert bad == 0
    # a segment that wins less often than the company has a negative divergence
    (negative,) = con.sql(
        "select count(*) from marts.kpi_win_rates where win_rate_by_count_divergence < 0"
    ).fetchone()
    assert negative > 0


def test_closed_deals_and_median_cycle_days_are_the_truth(company: tuple) -> None:
    """Every closed deal of the truth is counted once per period type, and the median cycle
    (close date - created date) of those deals is truth funnel.median_cycle_days. The mart's
    per-row median_cycle_days is the median of its own deals."""
    con, truth = company
    funnel = truth["funnel"]
    for period_type in ("week", "month", "quarter"):
        won, closed = con.sql(
            f"""
            select sum(won_count), sum(closed_count) from marts.kpi_win_rates
            where period_type = '{period_type}'
            """
        ).fetchone()
        assert (won, closed) == (funnel["closed_won"], funnel["closed_won"] + funnel["closed_lost"])
    cycles = con.sql(
        """
        select
            cast(date_trunc('quarter', closed_date) as date),
            opportunity_type,
            coalesce(segment, '(none)'),
            cycle_days
        from marts.fct_opportunities
        where is_closed
        """
    ).fetchall()
    assert statistics.median(c for *_, c in cycles) == funnel["median_cycle_days"]
    by_row: dict[tuple, list[int]] = {}
    for quarter, opportunity_type, segment, cycle in cycles:
        by_row.setdefault((quarter, opportunity_type, segment), []).append(cycle)
    mart = con.sql(
        """
        select period_start, opportunity_type, coalesce(segment, '(none)'), median_cycle_days
        from marts.kpi_win_rates where period_type = 'quarter'
        """
    ).fetchall()
    assert len(mart) == len(by_row)
    for quarter, opportunity_type, segment, median in mart:
        assert median == statistics.median(by_row[(quarter, opportunity_type, segment)])


def test_pipeline_created_totals_are_the_opportunities(company: tuple) -> None:
    """Each period type partitions the opportunities: counts and amounts add up to
    fct_opportunities exactly (to the cent), and so does the marketing-sourced part."""
    con, truth = company
    expected = con.sql(
        """
        select
            count(*),
            sum(amount_corporate),
            sum(case when is_marketing_sourced then 1 else 0 end),
            sum(case when is_marketing_sourced then amount_corporate else 0 end)
        from marts.fct_opportunities
        """
    ).fetchone()
    assert expected[0] == sum(truth["funnel"]["opportunities_by_type"].values())
    for period_type in ("week", "month"):
        ours = con.sql(
            f"""
            select sum(created_count), sum(created_amount), sum(sourced_count),
                sum(sourced_amount)
            from marts.kpi_pipeline_created where period_type = '{period_type}'
            """
        ).fetchone()
        assert ours == expected, period_type
    (unassigned_team,) = con.sql(
        "select count(*) from marts.kpi_pipeline_created where team is null"
    ).fetchone()
    assert unassigned_team == 0


def test_stage_aging_rows_are_the_week_end_snapshots(company: tuple) -> None:
    """One row per opportunity open at each week's last day, and is_stuck exactly when the
    days past the median reach the seed's threshold."""
    con, _ = company
    stuck_days, _, _ = _rules(con)
    (mismatched_weeks,) = con.sql(
        """
        with aging as (
            select week_end_date, count(*) as open_count
            from marts.kpi_stage_aging group by 1
        ),
        snapshots as (
            select snapshot_date, count(*) as open_count
            from marts.fct_pipeline_snapshots_daily
            where snapshot_date in (select week_end_date from marts.kpi_stage_aging)
            group by 1
        )
        select count(*)
        from aging full outer join snapshots on aging.week_end_date = snapshots.snapshot_date
        where aging.open_count is distinct from snapshots.open_count
        """
    ).fetchone()
    assert mismatched_weeks == 0
    stuck, not_stuck = con.sql(
        f"""
        select
            count(*) filter (where is_stuck and days_past_median < {stuck_days}),
            count(*) filter (where not is_stuck and days_past_median >= {stuck_days})
        from marts.kpi_stage_aging
        """
    ).fetchone()
    assert (stuck, not_stuck) == (0, 0)


def test_stage_aging_trailing_medians_recomputed_from_stage_history(company: tuple) -> None:
    """For the as-of week, each stage's median is recomputed in Python from the completed
    stage visits that exited within the seed's window, and each deal's days in stage from its
    current visit."""
    con, truth = company
    _, window_days, _ = _rules(con)
    as_of = date.fromisoformat(truth["parameters"]["config"]["end_date"])
    visits = con.sql(
        """
        select stage_key, cast(exited_at as date), days_in_stage
        from marts.fct_opportunity_stage_history
        where is_open_stage and exited_at is not null
        """
    ).fetchall()
    opens_after = as_of - timedelta(days=window_days)
    medians: dict[str, float] = {}
    for stage in {stage for stage, *_ in visits}:
        days = [d for s, exited, d in visits if s == stage and opens_after < exited <= as_of]
        if days:
            medians[stage] = statistics.median(days)
    rows = con.sql(
        f"""
        select aging.stage_key, aging.stage_median_days, aging.days_in_stage,
            history.days_in_stage
        from marts.kpi_stage_aging as aging
        inner join marts.fct_opportunity_stage_history as history
            on aging.opportunity_id = history.opportunity_id and history.is_current
        where aging.week_end_date = date '{as_of}'
        """
    ).fetchall()
    assert rows, "no open opportunity at the as-of date"
    for stage, median, days_in_stage, current_days in rows:
        assert median == medians.get(stage), stage
        # at the as-of date, the current visit's days_in_stage runs to the same day
        assert days_in_stage == current_days


def test_velocity_of_the_as_of_month_recomputed_from_the_opportunities(company: tuple) -> None:
    """For the month of the as-of date: open deals at the as-of date, and the won / closed
    deals of the trailing window, recomputed in Python from fct_opportunities."""
    con, truth = company
    _, _, months = _rules(con)
    as_of = date.fromisoformat(truth["parameters"]["config"]["end_date"])
    month_index = as_of.year * 12 + as_of.month - 1
    first = date((month_index - months + 1) // 12, (month_index - months + 1) % 12 + 1, 1)
    deals = con.sql(
        """
        select coalesce(segment, '(none)'), opportunity_type, status, closed_date,
            amount_corporate, cycle_days
        from marts.fct_opportunities
        """
    ).fetchall()
    expected: dict[tuple, list] = {}
    for segment, opportunity_type, status, closed, amount, cycle in deals:
        row = expected.setdefault((segment, opportunity_type), [0, 0, 0, 0.0, 0])
        if status == "open":
            row[0] += 1
        elif first <= closed <= as_of:
            row[1] += 1
            if status == "won":
                row[2] += 1
                row[3] += float(amount)
                row[4] += cycle
    expected = {key: row for key, row in expected.items() if row[0] or row[1]}
    mart = con.sql(
        f"""
        select coalesce(segment, '(none)'), opportunity_type, open_count, closed_count,
            won_count, won_amount, won_cycle_days, win_rate, avg_deal_size, avg_cycle_days,
            velocity_per_day, trailing_window_start
        from marts.kpi_pipeline_velocity
        where month_start = date '{as_of.replace(day=1)}'
        """
    ).fetchall()
    assert {(segment, kind) for segment, kind, *_ in mart} == set(expected)
    for row in mart:
        segment, kind, open_, closed, won, won_amount, cycle = row[:7]
        rate, size, days, velocity, start = row[7:]
        assert start == first
        exp = expected[(segment, kind)]
        assert [open_, closed, won, cycle] == [exp[0], exp[1], exp[2], exp[4]], (segment, kind)
        assert abs(float(won_amount) - exp[3]) <= won * CENT
        assert rate == (won / closed if closed else None)
        if won:
            assert abs(float(size) - exp[3] / won) <= 0.005
            assert days == cycle / won
        if velocity is not None:
            recomputed = open_ * (float(won_amount) / won) * (won / closed) / (cycle / won)
            assert abs(float(velocity) - recomputed) <= 0.005
