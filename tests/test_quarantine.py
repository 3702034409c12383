"""Row-level quarantine in the build: a CRM record that breaks a definition is left out of
every published number, listed with its reason in fct_quarantined_records and named in the
log by a warning test, and the build fails only above the share of opportunities the var
quarantine_max_share allows.

A copy of the demo warehouse gets two bad CRM rows (the demo company has none): a won
Salesforce opportunity that closes two days before it was created, and a won HubSpot deal
without an amount. One `dbt build` on the copy (incremental marts included), then one run
of the threshold test alone with the var below the share.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from expectations import SUITES
from expectations.runner import validate

pytestmark = pytest.mark.slow  # builds whole warehouses (conftest.py runs these first)

# every published mart that holds opportunity rows, and its column naming the opportunity
OPPORTUNITY_MARTS = {
    "fct_opportunities": "opportunity_id",
    "fct_opportunity_stage_history": "opportunity_id",
    "fct_pipeline_snapshots_daily": "opportunity_id",
    "fct_pipeline_waterfall": "opportunity_id",
    "fct_attribution_touches": "opportunity_id",
    "fct_sales_activities": "opportunity_id",
    "kpi_stage_aging": "opportunity_id",
}


def _totals(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Counts a person can check: opportunities created and won, from the KPI marts."""
    created, won = con.sql(
        "select (select sum(created_count) from marts.kpi_pipeline_created "
        "where period_type = 'month'), (select sum(won_count) from marts.kpi_win_rates "
        "where period_type = 'month')"
    ).fetchone()
    return {"created": int(created), "won": int(won)}


@pytest.fixture(scope="module")
def quarantined(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, dict]:
    home = tmp_path_factory.mktemp("quarantine")
    built = built_company(leads=2000, seed=42)
    warehouse = built.copy_to(home)
    with duckdb.connect(str(warehouse)) as con:
        before = _totals(con)
        (opportunities,) = con.sql("select count(*) from marts.fct_opportunities").fetchone()
        # the won ones with the longest open pipeline history, so every mart holds them
        (closes_early,) = con.sql(
            "select opportunity_id from marts.fct_opportunities where source_system = "
            "'salesforce' and is_won order by cycle_days desc, opportunity_id limit 1"
        ).fetchone()
        (no_amount,) = con.sql(
            "select opportunity_id from marts.fct_opportunities where source_system = "
            "'hubspot' and is_won order by cycle_days desc, opportunity_id limit 1"
        ).fetchone()
        # a real export: closed two days before it was created; won without an amount
        con.execute(
            "update raw_salesforce.opportunity "
            "set close_date = cast(created_date as date) - interval 2 day where id = ?",
            [closes_early],
        )
        con.execute(
            "update raw_hubspot.deal set property_amount = null where deal_id = ?", [no_amount]
        )
        present = {
            mart: con.execute(
                f"select count(*) from marts.{mart} where {column} in (?, ?)",
                [closes_early, no_amount],
            ).fetchone()[0]
            for mart, column in OPPORTUNITY_MARTS.items()
        }
    assert all(present.values()), present  # each mart held them before the quarantine
    completed = run_dbt("build", home=home, warehouse=warehouse)
    facts = {
        "before": before,
        "opportunities": opportunities,
        "closes_early": closes_early,
        "no_amount": no_amount,
        "log": completed.stdout,
        "returncode": completed.returncode,
    }
    return home, warehouse, facts


def test_the_build_passes_with_a_warning_naming_each_record(quarantined) -> None:
    _, _, facts = quarantined
    log = facts["log"]
    assert facts["returncode"] == 0, log[-5000:]
    assert "WARN=1 " in log and "ERROR=0" in log, log[-2000:]
    assert (
        f"assert_no_record_is_quarantined: quarantined salesforce opportunity "
        f"{facts['closes_early']} (closed_before_created)" in log
    )
    assert (
        f"assert_no_record_is_quarantined: quarantined hubspot opportunity "
        f"{facts['no_amount']} (won_without_positive_amount)" in log
    )


def test_each_record_is_in_the_quarantine_mart_with_its_reason(quarantined) -> None:
    _, warehouse, facts = quarantined
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.sql(
            "select source_system, record_type, record_id, rule_key, reason, offending_values, "
            "as_of_date = (select as_of_date from intermediate.int_as_of_date) "
            "from marts.fct_quarantined_records order by 1"
        ).fetchall()
        created_at, close_date = con.execute(
            "select created_date, close_date from raw_salesforce.opportunity where id = ?",
            [facts["closes_early"]],
        ).fetchone()
        reasons = dict(con.sql("select rule_key, reason from seeds.quarantine_rules").fetchall())
    hubspot, salesforce = rows
    assert hubspot[:4] == (
        "hubspot",
        "opportunity",
        facts["no_amount"],
        "won_without_positive_amount",
    )
    assert hubspot[4] == reasons["won_without_positive_amount"]
    assert "amount null" in hubspot[5] and hubspot[6]
    assert salesforce[:4] == (
        "salesforce",
        "opportunity",
        facts["closes_early"],
        "closed_before_created",
    )
    assert salesforce[4] == reasons["closed_before_created"]
    assert f"close date {close_date}" in salesforce[5] and f"created {created_at}" in salesforce[5]
    assert (created_at.date() - close_date).days == 2 and salesforce[6]


def test_quarantined_records_are_in_no_published_number(quarantined) -> None:
    _, warehouse, facts = quarantined
    ids = [facts["closes_early"], facts["no_amount"]]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for mart, column in OPPORTUNITY_MARTS.items():
            found = con.execute(
                f"select count(*) from marts.{mart} where {column} in (?, ?)", ids
            ).fetchone()[0]
            assert found == 0, mart
        (opportunities,) = con.sql("select count(*) from marts.fct_opportunities").fetchone()
        after = _totals(con)
    assert opportunities == facts["opportunities"] - 2
    # both were won and created before the as-of date: the KPI marts count two fewer
    before = facts["before"]
    assert after == {"created": before["created"] - 2, "won": before["won"] - 2}


def test_the_expectation_suites_see_clean_data(quarantined) -> None:
    home, warehouse, _ = quarantined
    for outcome in validate(SUITES, warehouse, home / "gx"):
        assert outcome.success, outcome.summary()


def test_above_the_threshold_the_build_fails_naming_share_and_threshold(
    quarantined, run_dbt: Callable
) -> None:
    home, warehouse, facts = quarantined
    total = facts["opportunities"]
    share = 2 / total
    threshold = round(share / 2, 4)
    completed = run_dbt(
        "build",
        "--select",
        "assert_quarantined_share_within_threshold",
        "--vars",
        json.dumps({"quarantine_max_share": threshold}),
        home=home,
        warehouse=warehouse,
    )
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert "FAIL 1 assert_quarantined_share_within_threshold" in completed.stdout
    assert (
        f"2 of {total} opportunities are quarantined, a share of {100 * share:.2f}%, "
        f"above quarantine_max_share {100 * threshold:.2f}%" in completed.stdout
    ), completed.stdout[-3000:]
