"""The signals planted in the demo company (sros/demo_company/signals.py) exist per the shared
rules at the scales the mart tests build (tests/test_kpi_signals.py) and at a larger one, are
recorded in ground_truth.json, and kpi_campaign_experiments recovers the experiments' truth
exactly."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from functools import cache

import duckdb
import pytest

from sros.demo_company import DemoConfig, signals
from sros.demo_company.generate import build_tables
from sros.demo_company.truth import signals_truth

SCALES = [(2000, 42), (4000, 7), (10000, 7)]


@cache
def _truth(leads: int, seed: int) -> dict:
    _, facts = build_tables(DemoConfig(n_leads=leads, seed=seed))
    return signals_truth(facts["world"], facts["campaigns"], facts["touches"])


@pytest.fixture(params=SCALES, ids=lambda s: f"{s[0]}-leads-seed-{s[1]}")
def truth(request: pytest.FixtureRequest) -> dict:
    return _truth(*request.param)


def test_only_the_planted_source_is_flagged_and_only_where_its_run_completes(truth: dict) -> None:
    pause = truth["pause"]
    planted = pause["planted_source"]
    assert planted["months"] == ["2025-09-01", "2025-10-01"]
    assert pause["flagged"] == [
        {"source_system": "salesforce", "lead_source": "Trade Show", "month_start": "2025-10-01"}
    ]
    cells = {
        (row["source_system"], row["lead_source"], row["month_start"]): row
        for row in pause["source_months"]
    }
    for month in planted["months"]:
        row = cells[("salesforce", "Trade Show", month)]
        assert row["dispositioned"] >= signals.PAUSE_MIN_DISPOSITIONED
        assert row["rejected"] / row["dispositioned"] > signals.PAUSE_REJECTION_THRESHOLD
    # no other source-month breaches at all, so no other run can exist
    for key, row in cells.items():
        if key[:2] != ("salesforce", "Trade Show") and (
            row["dispositioned"] >= signals.PAUSE_MIN_DISPOSITIONED
        ):
            assert row["rejected"] / row["dispositioned"] <= signals.PAUSE_REJECTION_THRESHOLD, key


def test_company_rejection_rate_sits_clearly_below_the_threshold(truth: dict) -> None:
    rows = [row for row in truth["pause"]["source_months"] if row["lead_source"] != "Trade Show"]
    rejected = sum(row["rejected"] for row in rows)
    dispositioned = sum(row["dispositioned"] for row in rows)
    assert 0.05 < rejected / dispositioned < 0.15


def test_rising_rejections_fire_in_the_planted_week(truth: dict) -> None:
    rising = truth["rising"]
    weeks = {row["week_start"]: row for row in rising["weeks"]}
    planted = rising["planted_weeks"]
    assert len(planted) == signals.RISING_CONSECUTIVE_WEEKS + 1
    rates = [weeks[week]["rejected"] / weeks[week]["dispositioned"] for week in planted]
    assert all(later > earlier for earlier, later in itertools.pairwise(rates))
    assert rising["planted_week"] == planted[-1]
    assert rising["planted_week"] in rising["flagged_weeks"]


def test_rising_rule_recomputed_from_the_weekly_counts(truth: dict) -> None:
    from datetime import date, timedelta

    weeks = {
        date.fromisoformat(row["week_start"]): row["rejected"] / row["dispositioned"]
        for row in truth["rising"]["weeks"]
    }
    length = signals.RISING_CONSECUTIVE_WEEKS
    expected = []
    for week in sorted(weeks):
        run = [week - timedelta(weeks=j) for j in range(length, -1, -1)]
        if all(day in weeks for day in run) and all(
            weeks[b] > weeks[a] for a, b in itertools.pairwise(run)
        ):
            expected.append(week.isoformat())
    assert truth["rising"]["flagged_weeks"] == expected


def test_planted_stuck_deals_are_stuck_well_past_the_median(truth: dict) -> None:
    stuck = truth["stuck"]
    planted = stuck["planted"]
    assert len(planted) >= 3
    stuck_ids = {row["opportunity_crm_id"] for row in stuck["stuck"]}
    for row in planted:
        assert row["stage_key"] in signals.STUCK_STAGES
        assert 40 <= row["days_past_median"] <= 96
        assert row["opportunity_crm_id"] in stuck_ids
        assert (
            row["days_in_stage"] - stuck["stage_median_days"][row["stage_key"]]
            == (row["days_past_median"])
        )


def test_an_experiment_in_every_half_year_with_both_arms_touched(truth: dict) -> None:
    experiments = truth["campaign_experiments"]["experiments"]
    halves = {(e["start_date"][:4], int(e["start_date"][5:7]) <= 6) for e in experiments}
    assert len(halves) == len(experiments) == 5
    for experiment in experiments:
        assert experiment["test"]["persons_touched"] > 10
        assert experiment["control"]["persons_touched"] > 10


def test_kpi_campaign_experiments_recovers_the_truth_exactly(built_company: Callable) -> None:
    built = built_company(leads=2000, seed=42)
    expected = built.truth["signals"]["campaign_experiments"]["experiments"]
    con = duckdb.connect(str(built.warehouse), read_only=True)
    rows = con.sql(
        """
        select
            experiment_id, test_campaign_id, control_campaign_id, start_date, end_date,
            conversion_window_days,
            test_persons_touched, test_persons_converted, test_conversion_rate,
            control_persons_touched, control_persons_converted, control_conversion_rate,
            conversion_rate_lift, z_score
        from marts.kpi_campaign_experiments
        order by experiment_id
        """
    ).fetchall()
    con.close()
    assert [row[0] for row in rows] == [e["experiment_id"] for e in expected]
    for row, truth in zip(rows, expected, strict=True):
        test, control = truth["test"], truth["control"]
        assert row[1:3] == (test["campaign_id"], control["campaign_id"])
        assert (row[3].isoformat(), row[4].isoformat()) == (truth["start_date"], truth["end_date"])
        assert row[5] == truth["conversion_window_days"]
        assert row[6:8] == (test["persons_touched"], test["persons_converted"])
        assert row[9:11] == (control["persons_touched"], control["persons_converted"])
        assert row[8] == pytest.approx(test["conversion_rate"], abs=1e-6)
        assert row[11] == pytest.approx(control["conversion_rate"], abs=1e-6)
        if truth["lift"] is None:
            assert row[12] is None
        else:
            assert row[12] == pytest.approx(truth["lift"], abs=1e-6)
        assert row[13] == pytest.approx(truth["z_score"], abs=1e-6)


def test_the_marts_see_the_same_counts_the_truth_records(built_company: Callable) -> None:
    """The truth's per source-month and per week counts and its stuck set, recomputed from
    fct_lead_handoffs, dim_persons and fct_opportunity_stage_history: what the KPI marts on
    other branches read, so their flags can be checked against the truth's."""
    built = built_company(leads=2000, seed=42)
    truth = built.truth["signals"]
    con = duckdb.connect(str(built.warehouse), read_only=True)
    cells = con.sql(
        """
        select
            handoffs.source_system,
            persons.lead_source,
            cast(date_trunc('month', handoffs.dispositioned_at) as date),
            count(*),
            count(*) filter (where handoffs.is_rejected)
        from marts.fct_lead_handoffs as handoffs
        inner join marts.dim_persons as persons using (person_id)
        where handoffs.is_dispositioned
        group by 1, 2, 3
        """
    ).fetchall()
    weeks = con.sql(
        """
        select
            cast(date_trunc('week', dispositioned_at) as date),
            count(*),
            count(*) filter (where is_rejected)
        from marts.fct_lead_handoffs
        where is_dispositioned
        group by 1
        """
    ).fetchall()
    as_of = truth["stuck"]["as_of_date"]
    stuck = con.sql(
        f"""
        with medians as (
            select stage_key, quantile_cont(days_in_stage, 0.5) as median_days
            from marts.fct_opportunity_stage_history
            where is_open_stage and exited_at is not null
                and cast(exited_at as date) > date '{as_of}' - {signals.STUCK_TRAILING_DAYS}
                and cast(exited_at as date) <= date '{as_of}'
            group by 1
        )
        select history.opportunity_id
        from marts.fct_opportunity_stage_history as history
        inner join medians using (stage_key)
        where history.is_current and history.is_open_stage
            and history.days_in_stage - medians.median_days >= {signals.STUCK_DAYS_PAST_MEDIAN}
        """
    ).fetchall()
    con.close()
    assert {(s, ls, m.isoformat()): (n, r) for s, ls, m, n, r in cells} == {
        (row["source_system"], row["lead_source"], row["month_start"]): (
            row["dispositioned"],
            row["rejected"],
        )
        for row in truth["pause"]["source_months"]
    }
    assert {w.isoformat(): (n, r) for w, n, r in weeks} == {
        row["week_start"]: (row["dispositioned"], row["rejected"])
        for row in truth["rising"]["weeks"]
    }
    assert sorted(row[0] for row in stuck) == sorted(
        row["opportunity_crm_id"] for row in truth["stuck"]["stuck"]
    )
