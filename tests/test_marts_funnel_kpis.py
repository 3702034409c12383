"""The funnel KPI marts (models/marts/funnel/kpi_*) give back the demo generator's ground truth
(sros/demo_company/truth.py) on the 2000-lead company, seed 42.

Counts are additive: summed over every period and dimension, each mart must give the truth's
totals (handoffs, dispositions, rejections, SLA met, funnel stages), with the tolerances that
tests/test_marts_funnel.py explains for fct_lead_handoffs (the CRMs keep only a record's
latest lead priority and rejection reason; the mart judges "as of" the end of the as-of day,
the export is at 23:00). Medians are not additive: each mart row's median is checked against
an independent recomputation from fct_lead_handoffs, and the company-wide median of the same
handoffs against the truth. The pause flag and the rising alarm are recomputed in Python from
fct_lead_handoffs with the alarm_rules seed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta

import duckdb
import pytest

# truth.py rounds every rate to 6 decimals
ROUNDING = 1e-6


@pytest.fixture(scope="module")
def company(built_company: Callable) -> tuple:
    built = built_company(leads=2000, seed=42)
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con, built.truth
    con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.sql(sql).fetchone()


def _misread_priority(con: duckdb.DuckDBPyConnection, truth: dict) -> int:
    """Handoffs whose priority the CRM no longer holds (see tests/test_marts_funnel.py)."""
    (ours_high,) = _one(
        con,
        "select count(*) filter (where lead_priority = 'high_intent') from marts.fct_lead_handoffs",
    )
    return ours_high - truth["handoffs"]["count_by_priority"]["high_intent"]


@pytest.mark.parametrize("mart", ["kpi_lead_rejections_monthly", "kpi_lead_rejections_weekly"])
def test_rejection_loop_totals_are_exact(company: tuple, mart: str) -> None:
    con, truth = company
    h = truth["handoffs"]
    disposed, rejected, accepted, recycled, disqualified = _one(
        con,
        f"""
        select sum(dispositioned_count), sum(rejected_count), sum(accepted_count),
            sum(recycled_count), sum(disqualified_count)
        from marts.{mart}
        """,
    )
    assert disposed == h["dispositioned"]
    assert rejected == recycled + disqualified
    assert abs(rejected / disposed - h["rejection_rate"]) <= ROUNDING
    assert abs(accepted / disposed - h["acceptance_rate"]) <= ROUNDING
    assert abs(recycled / disposed - h["recycle_rate"]) <= ROUNDING


@pytest.mark.parametrize("period_type", ["week", "month"])
def test_reason_mix_totals(company: tuple, period_type: str) -> None:
    con, truth = company
    mix = truth["handoffs"]["reason_mix"]
    rows = dict(
        con.sql(
            f"""
            select coalesce(reason_code, '(unknown)'), sum(rejected_count)
            from marts.kpi_lead_rejection_reasons
            where period_type = '{period_type}'
            group by 1
            """
        ).fetchall()
    )
    rejections = sum(rows.values())
    assert (
        abs(rejections / truth["handoffs"]["dispositioned"] - truth["handoffs"]["rejection_rate"])
        <= ROUNDING
    )
    unknown = rows.pop("(unknown)", 0)
    dispositions = dict(
        con.sql("select reason_code, disposition from seeds.rejection_reasons").fetchall()
    )
    missing = 0
    for code, share in mix.items():
        truth_count = round(share * rejections)
        if dispositions[code] == "disqualified":
            # terminal, hence always the record's latest rejection: exact
            assert rows.get(code, 0) == truth_count, code
        else:
            assert rows.get(code, 0) <= truth_count, code
            missing += truth_count - rows.get(code, 0)
    # the unknown reasons are exactly the recycled-code rejections the CRM overwrote
    assert missing == unknown


def test_sla_compliance_totals(company: tuple) -> None:
    con, truth = company
    h = truth["handoffs"]
    misread = _misread_priority(con, truth)
    handoffs, met, reassigned, untouched = _one(
        con,
        """
        select sum(handoff_count), sum(response_sla_met_count), sum(reassigned_count),
            sum(untouched_past_window_count)
        from marts.kpi_sla_compliance_weekly
        """,
    )
    assert handoffs == h["count"]
    # each handoff whose priority the CRM overwrote can flip one met/not-met verdict
    assert abs(met / handoffs - h["sla_met_rate"]) <= misread / handoffs + ROUNDING
    assert reassigned == h["untouched_past_window_count"]
    assert 0 <= untouched - h["untouched_past_window_count"] <= misread


def test_disposition_within_window_totals(company: tuple) -> None:
    con, truth = company
    closed, within = _one(
        con,
        """
        select sum(disposition_window_closed_count), sum(dispositioned_within_window_count)
        from marts.kpi_sla_compliance_weekly
        """,
    )
    export = truth["as_of"].replace("Z", "")
    (last_hour,) = _one(
        con,
        f"""
        select count(*) from marts.fct_lead_handoffs
        where is_disposition_window_closed and disposition_due_at > timestamp '{export}'
        """,
    )
    rate = truth["handoffs"]["disposition_within_window_rate"]
    # the mart closes windows up to the end of the as-of day: off by the last hour only
    assert abs(within / closed - rate) <= last_hour / closed + ROUNDING


def test_sla_medians_and_p90_match_the_handoffs(company: tuple) -> None:
    con, truth = company
    mismatches = con.sql(
        """
        with recomputed as (
            select
                date_trunc('week', handoffs.handed_at)::date as week_start,
                accounts.segment,
                accounts.region,
                handoffs.routed_owner_team as team,
                median(handoffs.business_minutes_to_first_touch) as median_minutes,
                quantile_cont(handoffs.business_minutes_to_first_touch, 0.9) as p90_minutes
            from marts.fct_lead_handoffs as handoffs
            left join marts.dim_persons as persons using (person_id)
            left join marts.dim_accounts as accounts using (account_id)
            group by all
        )
        select count(*)
        from marts.kpi_sla_compliance_weekly as mart
        left join recomputed
            on mart.week_start = recomputed.week_start
            and mart.segment is not distinct from recomputed.segment
            and mart.region is not distinct from recomputed.region
            and mart.team is not distinct from recomputed.team
        where mart.median_business_minutes_to_first_touch
                is distinct from recomputed.median_minutes
            or abs(mart.p90_business_minutes_to_first_touch - recomputed.p90_minutes) > 1e-9
        """
    ).fetchone()[0]
    assert mismatches == 0
    (median,) = _one(
        con, "select median(business_minutes_to_first_touch) from marts.fct_lead_handoffs"
    )
    assert abs(median - truth["handoffs"]["median_business_minutes_to_first_touch"]) <= 0.005


@pytest.mark.parametrize("period_type", ["week", "month"])
def test_funnel_cohorts_give_the_truth_funnel(company: tuple, period_type: str) -> None:
    con, truth = company
    f = truth["funnel"]
    rows = {
        (from_stage, to_stage): (size, reached, ended, open_)
        for from_stage, to_stage, size, reached, ended, open_ in con.sql(
            f"""
            select from_stage_key, to_stage_key, sum(cohort_size), sum(reached_count),
                sum(ended_count), sum(open_count)
            from marts.kpi_funnel_conversion_cohorts
            where period_type = '{period_type}'
            group by 1, 2
            """
        ).fetchall()
    }
    assert rows[("lead", "mql")][0] == f["lead"]
    assert rows[("lead", "mql")][1] == f["mql"]
    mql, sal = rows[("mql", "sal")][:2]
    assert (mql, sal) == (f["mql"], f["sal"])
    assert rows[("mql", "sql")][1] == f["sql"]
    assert rows[("sal", "sql")][:2] == (f["sal"], f["sql"])
    # won through a Salesforce opportunity's close as well as HubSpot's customer stage
    assert rows[("sql", "closed_won")][:2] == (f["sql"], f["won"])
    assert abs(sal / mql - f["conversion"]["mql_to_sal"]) <= ROUNDING
    for size, reached, ended, open_ in rows.values():
        assert reached + ended + open_ == size
    named = dict(
        con.sql(
            f"""
            select named_kpi, sum(reached_count) / sum(cohort_size)
            from marts.kpi_funnel_conversion_cohorts
            where period_type = '{period_type}' and named_kpi is not null
            group by 1
            """
        ).fetchall()
    )
    assert abs(named["sales_accepted_lead_rate"] - f["conversion"]["mql_to_sal"]) <= ROUNDING
    assert abs(named["mql_to_sql_rate"] - f["sql"] / f["mql"]) <= ROUNDING


@pytest.mark.parametrize("period_type", ["week", "month"])
def test_funnel_period_entries_give_the_truth_funnel(company: tuple, period_type: str) -> None:
    con, truth = company
    f = truth["funnel"]
    firsts = dict(
        con.sql(
            f"""
            select stage_key, sum(first_entry_count)
            from marts.kpi_funnel_conversion_periods
            where period_type = '{period_type}'
            group by 1
            """
        ).fetchall()
    )
    assert (
        firsts["lead"],
        firsts["mql"],
        firsts["sal"],
        firsts["sql"],
        firsts["closed_won"],
    ) == (f["lead"], f["mql"], f["sal"], f["sql"], f["won"])
    (handoffs,) = _one(
        con,
        f"""
        select sum(entry_count) from marts.kpi_funnel_conversion_periods
        where period_type = '{period_type}' and stage_key = 'mql'
        """,
    )
    # every entry into MQL, re-qualifications included, is a handoff
    assert handoffs == truth["handoffs"]["count"]


def test_marketing_commitments_count_every_handoff(company: tuple) -> None:
    con, truth = company
    mqls, accepted = _one(
        con,
        "select sum(mql_count), sum(accepted_count) from marts.kpi_marketing_commitments_monthly",
    )
    assert mqls == truth["handoffs"]["count"]
    assert accepted == round(
        truth["handoffs"]["acceptance_rate"] * truth["handoffs"]["dispositioned"]
    )


def _rule(con: duckdb.DuckDBPyConnection, rule_key: str) -> tuple[float, int, int]:
    return _one(
        con,
        f"""
        select threshold, min_count, consecutive_periods from seeds.alarm_rules
        where rule_key = '{rule_key}' and valid_to = date '9999-12-31'
        """,
    )


def test_pause_flags_recomputed_from_the_handoffs(company: tuple) -> None:
    con, _ = company
    threshold, min_count, consecutive = _rule(con, "source_pause")
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for source_system, lead_source, month, rejected in con.sql(
        """
        select handoffs.source_system, persons.lead_source,
            date_trunc('month', handoffs.dispositioned_at)::date, handoffs.is_rejected
        from marts.fct_lead_handoffs as handoffs
        left join marts.dim_persons as persons using (person_id)
        where handoffs.is_dispositioned
        """
    ).fetchall():
        counts[(source_system, lead_source, month)][0] += 1
        counts[(source_system, lead_source, month)][1] += int(rejected)
    expected = {}
    for source_system, lead_source, month in counts:
        run, current = 0, month
        while True:
            disposed_then, rejected_then = counts.get((source_system, lead_source, current), (0, 0))
            if disposed_then < min_count or rejected_then / disposed_then <= threshold:
                break
            run += 1
            current = (current.replace(day=1) - timedelta(days=1)).replace(day=1)
        expected[(source_system, lead_source, month)] = (run, run >= consecutive)
    ours = {
        (source_system, lead_source, month): (run, flagged)
        for source_system, lead_source, month, run, flagged in con.sql(
            """
            select source_system, lead_source, month_start, consecutive_months_above,
                is_pause_flagged
            from marts.kpi_lead_source_pause_flags_monthly
            """
        ).fetchall()
    }
    assert ours == expected


def test_rise_alarm_recomputed_from_the_handoffs(company: tuple) -> None:
    con, _ = company
    threshold, min_count, consecutive = _rule(con, "rejection_rate_rise")
    weeks: dict[date, tuple[int, int]] = {
        week: (disposed, rejected)
        for week, disposed, rejected in con.sql(
            """
            select date_trunc('week', dispositioned_at)::date, count(*),
                count(*) filter (where is_rejected)
            from marts.fct_lead_handoffs
            where is_dispositioned
            group by 1
            """
        ).fetchall()
    }

    def rate(week: date) -> float | None:
        disposed, rejected = weeks.get(week, (0, 0))
        return rejected / disposed if disposed >= min_count else None

    expected = {}
    for week in weeks:
        run, current = 0, week
        while True:
            now, before = rate(current), rate(current - timedelta(days=7))
            if now is None or before is None or not now - before > threshold:
                break
            run += 1
            current -= timedelta(days=7)
        expected[week] = (run, run >= consecutive)
    ours = {
        week: (run, alarm)
        for week, run, alarm in con.sql(
            """
            select week_start, consecutive_rise_count, is_rejection_rise_alarm
            from marts.kpi_lead_rejection_alarms_weekly
            """
        ).fetchall()
    }
    assert ours == expected
