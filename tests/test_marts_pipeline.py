"""The pipeline marts (fct_opportunities, fct_pipeline_snapshots_daily, fct_pipeline_waterfall,
dim_accounts) give back the demo generator's ground truth (sros/demo_company/truth.py), at two
scales and seeds (tests/test_incremental_models.py checks the incremental daily snapshots).

Each number is rebuilt from the marts exactly as truth.py defines it (ratios of sums). The
marts and the generator see the same opportunities row for row, so counts are exact and rates
agree up to truth.py's rounding to 6 decimals. Amounts differ only by rounding: the marts store
each converted amount to the cent (decimal(18, 2)), the generator sums unrounded floats.
"""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pytest

COMPANIES = [(2000, 42), (4000, 7)]
# truth.py rounds every rate to 6 decimals; a rate recomputed from the same rows must agree
# to that rounding.
ROUNDING = 1e-6
# Each converted amount is rounded to the cent in the marts: a sum of n amounts may differ
# from the generator's unrounded sum by at most n * 0.005.
CENT = 0.005
TYPE_NAMES = {"new_business": "New Business", "expansion": "Expansion", "renewal": "Renewal"}


@pytest.fixture(scope="module", params=COMPANIES, ids=lambda c: f"{c[0]}-leads-seed-{c[1]}")
def company(request: pytest.FixtureRequest, built_company: Callable) -> tuple:
    leads, seed = request.param
    built = built_company(leads=leads, seed=seed)
    con = duckdb.connect(str(built.warehouse), read_only=True)
    yield con, built.truth
    con.close()


def _one(con: duckdb.DuckDBPyConnection, sql: str) -> tuple:
    return con.sql(sql).fetchone()


def test_opportunity_counts_by_type_system_and_status_are_exact(company: tuple) -> None:
    con, truth = company
    f = truth["funnel"]
    by_type = dict(
        con.sql(
            "select opportunity_type, count(*) from marts.fct_opportunities group by 1"
        ).fetchall()
    )
    assert {TYPE_NAMES[k]: v for k, v in by_type.items()} == {
        k: v for k, v in f["opportunities_by_type"].items() if v
    }
    by_system = dict(
        con.sql("select source_system, count(*) from marts.fct_opportunities group by 1").fetchall()
    )
    assert by_system == {k: v for k, v in f["opportunities_by_system"].items() if v}
    won, lost, open_ = _one(
        con,
        """
        select
            count(*) filter (where status = 'won'),
            count(*) filter (where status = 'lost'),
            count(*) filter (where status = 'open')
        from marts.fct_opportunities
        """,
    )
    assert (won, lost, open_) == (f["closed_won"], f["closed_lost"], f["open"])


def test_win_rate_by_segment_by_count_and_by_amount(company: tuple) -> None:
    """New-business opportunities, closed won / closed, by account segment; by amount in USD at
    the close date's rate, a lost deal carrying its last open amount."""
    con, truth = company
    expected = truth["funnel"]["win_rate_by_segment"]
    rows = con.sql(
        """
        select
            segment,
            count(*) filter (where is_won) as won,
            count(*) as closed,
            sum(amount_corporate) filter (where is_won) as won_amount,
            sum(amount_corporate) as closed_amount
        from marts.fct_opportunities
        where opportunity_type = 'new_business' and is_closed
        group by 1
        """
    ).fetchall()
    ours = {segment: (won, closed, wa, ca) for segment, won, closed, wa, ca in rows}
    for segment, rate in expected["by_count"].items():
        if rate is None:
            assert segment not in ours
            continue
        won, closed, won_amount, closed_amount = ours[segment]
        assert abs(won / closed - rate) <= ROUNDING, segment
        # by amount: truth's 6-decimal rounding plus the cent rounding of each of the
        # `closed` amounts in both sums (relative to the closed amount)
        tolerance = ROUNDING + 2 * closed * CENT / float(closed_amount)
        by_amount = float(won_amount or 0) / float(closed_amount)
        assert abs(by_amount - expected["by_amount"][segment]) <= tolerance, segment


def test_median_cycle_days_of_closed_opportunities_is_exact(company: tuple) -> None:
    con, truth = company
    (median,) = _one(con, "select median(cycle_days) from marts.fct_opportunities where is_closed")
    assert float(median) == truth["funnel"]["median_cycle_days"]
    (negative,) = _one(con, "select count(*) from marts.fct_opportunities where cycle_days < 0")
    assert negative == 0


def test_open_pipeline_in_usd_at_the_as_of_date(company: tuple) -> None:
    """Open opportunities at the export, in USD at the rate in force on end_date: the same sum
    from fct_opportunities and from the as-of day's pipeline snapshot."""
    con, truth = company
    expected = truth["funnel"]["open_pipeline_usd"]
    end_date = truth["parameters"]["config"]["end_date"]
    count, amount = _one(
        con,
        "select count(*), sum(amount_corporate) from marts.fct_opportunities where status = 'open'",
    )
    # each of the `count` amounts is rounded to the cent
    assert abs(float(amount) - expected) <= count * CENT
    snapshot_count, snapshot_amount = _one(
        con,
        f"""
        select count(*), sum(amount_corporate)
        from marts.fct_pipeline_snapshots_daily
        where snapshot_date = date '{end_date}'
        """,
    )
    assert snapshot_count == truth["funnel"]["open"]
    assert snapshot_amount == amount


def test_won_leads_and_sql_to_won_conversion(company: tuple) -> None:
    """truth `won`: leads whose converted opportunity is closed won (expansion deals of a
    HubSpot customer carry the originating contact of the won deal they grow, so they add no
    person); sql_to_won = won / sql, sql from the lead lifecycle mart."""
    con, truth = company
    f = truth["funnel"]
    (won_people,) = _one(
        con,
        "select count(distinct originating_person_id) from marts.fct_opportunities where is_won",
    )
    assert won_people == f["won"]
    (sql_people,) = _one(
        con,
        "select count(distinct person_id) from marts.fct_lead_lifecycle where stage_key = 'sql'",
    )
    assert abs(won_people / sql_people - f["conversion"]["sql_to_won"]) <= ROUNDING


def test_every_converted_opportunity_has_its_person_and_handoff(company: tuple) -> None:
    con, _ = company
    missing_person, missing_handoff, late_handoff = _one(
        con,
        """
        select
            count(*) filter (
                where originating_crm_record_id is not null and originating_person_id is null
            ),
            count(*) filter (
                where originating_person_id is not null and originating_handoff_id is null
            ),
            count(*) filter (where handoffs.handed_at > opportunities.created_at)
        from marts.fct_opportunities as opportunities
        left join marts.fct_lead_handoffs as handoffs
            on opportunities.originating_handoff_id = handoffs.handoff_id
        """,
    )
    # every generated opportunity from a lead follows an MQL handoff of that lead
    assert (missing_person, missing_handoff, late_handoff) == (0, 0, 0)


def test_customers_are_the_accounts_with_a_won_deal(company: tuple) -> None:
    con, _ = company
    customers, accounts_with_won = _one(
        con,
        """
        select
            (select count(*) from marts.dim_accounts where is_customer),
            (select count(distinct account_id) from marts.fct_opportunities where is_won)
        """,
    )
    assert customers == accounts_with_won > 0


def test_waterfall_balances_and_closes_on_the_snapshots(company: tuple) -> None:
    con, _ = company
    (unbalanced,) = _one(
        con,
        """
        select count(*) from (
            select period_type, period_start_date
            from marts.fct_pipeline_waterfall
            group by 1, 2
            having abs(
                sum(opening_amount + new_amount + pulled_in_amount + increased_amount
                    - decreased_amount - won_amount - lost_amount - pushed_out_amount
                    - closing_amount)
            ) >= 0.01
        )
        """,
    )
    assert unbalanced == 0
    # every opportunity closed won in the data is won in exactly one month and one week
    won_months, won_weeks, won = _one(
        con,
        """
        select
            (select count(*) from marts.fct_pipeline_waterfall
             where period_type = 'month' and movement = 'won'),
            (select count(*) from marts.fct_pipeline_waterfall
             where period_type = 'week' and movement = 'won'),
            (select count(*) from marts.fct_opportunities
             where is_won and closed_date > cast(created_at as date))
        """,
    )
    assert won_months == won_weeks == won


def test_opportunities_without_history_are_in_every_pipeline_mart(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A CRM export without OpportunityHistory rows for some deals (or deal_stage rows for
    some HubSpot deals): those opportunities get inferred versions (an open one its current
    state since creation; a closed one open in the first open stage until its close date,
    then closed), so they are in the stage history and the daily snapshots, and open
    pipeline agrees between fct_opportunities and the snapshot of the as-of day."""
    home = tmp_path_factory.mktemp("no-history")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    with duckdb.connect(str(warehouse)) as con:
        stripped = con.sql(
            "(select 'salesforce', opportunity_id from marts.fct_opportunities "
            " where source_system = 'salesforce' and status = 'open' order by 2 limit 4) "
            "union all (select 'salesforce', opportunity_id from marts.fct_opportunities "
            " where source_system = 'salesforce' and status = 'won' order by 2 limit 2) "
            "union all (select 'hubspot', opportunity_id from marts.fct_opportunities "
            " where source_system = 'hubspot' order by 2 limit 3)"
        ).fetchall()
        assert len(stripped) == 9
        salesforce = [opportunity for system, opportunity in stripped if system == "salesforce"]
        hubspot = [opportunity for system, opportunity in stripped if system == "hubspot"]
        con.execute(
            "delete from raw_salesforce.opportunity_history where opportunity_id in "
            f"({', '.join('?' for _ in salesforce)})",
            salesforce,
        )
        con.execute(
            f"delete from raw_hubspot.deal_stage where deal_id in "
            f"({', '.join('?' for _ in hubspot)})",
            hubspot,
        )
    completed = run_dbt(
        "run",
        "--select",
        "stg_salesforce__opportunity_history+ stg_hubspot__deal_stages+",
        home=home,
        warehouse=warehouse,
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        inferred = con.sql(
            "select source_system, opportunity_id from marts.fct_opportunities "
            "where is_history_inferred order by 1, 2"
        ).fetchall()
        assert inferred == sorted(stripped)
        # every opportunity has a stage history; an inferred one has one visit since creation
        assert _one(
            con,
            "select count(*) from marts.fct_opportunities as o where not exists (select 1 "
            "from marts.fct_opportunity_stage_history as h where h.source_system = "
            "o.source_system and h.opportunity_id = o.opportunity_id)",
        ) == (0,)
        # an open one is in its current stage since creation; a closed one was open in the
        # first open stage from creation to its close date, then closed
        visits = con.sql(
            "select o.opportunity_id, o.status, count(*), min(h.entered_at) = o.created_at, "
            "max(case when h.is_current then h.stage_key end) = o.stage_key, "
            "max(case when h.is_current then cast(h.entered_at as date) end) "
            "= case when o.status = 'open' then o.created_date else o.close_date end, "
            "min(h.stage_order) from marts.fct_opportunities as o "
            "join marts.fct_opportunity_stage_history as h using (source_system, "
            "opportunity_id) where o.is_history_inferred group by o.opportunity_id, o.status, "
            "o.created_at, o.stage_key, o.created_date, o.close_date"
        ).fetchall()
        assert len(visits) == 9 and {row[1] for row in visits} >= {"open", "won"}
        first_open_order = _one(
            con,
            "select min(stage_order) from marts.dim_funnel_stages "
            "where stage_group = 'opportunity'",
        )[0]
        for _, status, count, first_at_creation, current_stage, current_since, first in visits:
            assert count == (1 if status == "open" else 2)
            assert first_at_creation and current_stage and current_since
            if status != "open":
                assert first == first_open_order
        # open pipeline agrees: the facts now, and the snapshot of the as-of day
        open_now, open_snapshot = con.sql(
            "select (select sum(amount_corporate) from marts.fct_opportunities "
            "where status = 'open' and created_date <= (select max(as_of_date) "
            "from intermediate.int_as_of_date)), "
            "(select sum(amount_corporate) from marts.fct_pipeline_snapshots_daily "
            "where snapshot_date = (select max(as_of_date) from intermediate.int_as_of_date))"
        ).fetchone()
        assert open_now == open_snapshot
