"""The expectation suites: silent on a correct warehouse, and each definition they guard
fails when broken, naming the rows. Tampering happens on a copy of a built warehouse."""

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from expectations import SUITES, runner
from expectations.offline_docs import REMOTE_RESOURCE
from expectations.runner import SuiteOutcome, validate


def _by_suite(outcomes: list[SuiteOutcome]) -> dict[str, SuiteOutcome]:
    return {outcome.suite.name: outcome for outcome in outcomes}


def _validated(suite_name: str, warehouse: Path, folder: Path) -> SuiteOutcome:
    """One suite's outcome on a warehouse (a tampered copy)."""
    [outcome] = validate([suite for suite in SUITES if suite.name == suite_name], warehouse, folder)
    return outcome


def _failure(outcome: SuiteOutcome, fragment: str):
    [match] = [item for item in outcome.failures if fragment in item.description]
    return match


@pytest.fixture(scope="module")
def clean(built_company: Callable, tmp_path_factory: pytest.TempPathFactory):
    built = built_company(leads=2000, seed=42)
    gx_root = tmp_path_factory.mktemp("gx-clean")
    return validate(SUITES, built.warehouse, gx_root), gx_root


def test_every_suite_passes_on_a_correct_warehouse(clean) -> None:
    outcomes, _ = clean
    assert len(outcomes) == len(SUITES)
    for outcome in outcomes:
        assert outcome.success, outcome.summary()
        # evaluated in the warehouse (a conditional one may see no rows in clean data)
        assert all(item.rows_checked is not None for item in outcome.expectations)
        assert max(item.rows_checked for item in outcome.expectations) > 0, outcome.suite.name


def test_data_docs_list_every_suite(clean) -> None:
    _, gx_root = clean
    index = gx_root / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    html = index.read_text()
    assert all(suite.name in html for suite in SUITES)


def test_data_docs_work_offline(clean) -> None:
    """No page loads a script, style or image from the web: each points at a file of the
    site's own static/vendor/ (or GX's static/images/), and that file is there."""
    _, gx_root = clean
    site = gx_root / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = list(site.rglob("*.html"))
    assert len(pages) > len(SUITES)
    for page in pages:
        html = page.read_text()
        assert not REMOTE_RESOURCE.findall(html), page
        local = re.findall(r'<(?:script|link|img)[^>]*\s(?:src|href)="([^"#]+)"', html)
        assert any("static/vendor/jquery/" in path for path in local), page
        for path in local:  # (GX's own favicon link is one folder off on deep pages)
            if "static/vendor/" in path or path.endswith("logo-long.png"):
                assert (page.parent / path).resolve().is_file(), (page, path)
    fonts = site / "static/vendor/@fortawesome/fontawesome-free/webfonts"
    assert any(fonts.glob("*.woff2"))  # what all.min.css loads by ../webfonts/


def test_data_docs_render_each_run_and_list_the_latest_runs(
    built_company: Callable, tmp_path, monkeypatch
) -> None:
    """Every run renders its own pages; the index lists only the last DATA_DOCS_RUNS_SHOWN
    runs, so the Data Docs do not grow slower with history."""
    built = built_company(leads=2000, seed=42)
    monkeypatch.setattr(runner, "DATA_DOCS_RUNS_SHOWN", 1)
    for _ in range(2):
        validate(SUITES, built.warehouse, tmp_path)
    site = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    pages = list(site.glob("validations/**/*.html"))
    assert len(pages) == 2 * len(SUITES)
    index = (site / "index.html").read_text()
    linked = {page for page in pages if page.relative_to(site).as_posix() in index}
    # per suite, the page of its latest run (run-time folders sort by time)
    latest = {
        max((page for page in pages if page.parent.parent == folder), key=lambda p: p.parent.name)
        for folder in {page.parent.parent for page in pages}
    }
    assert linked == latest and len(latest) == len(SUITES)


@pytest.fixture(scope="module")
def broken(built_company: Callable, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the built warehouse with one breach of each guarded definition."""
    built = built_company(leads=2000, seed=42)
    folder = tmp_path_factory.mktemp("gx-broken")
    warehouse = folder / built.warehouse.name  # dbt names the database by its file name
    shutil.copy(built.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        (rejected,) = con.execute(
            "select min(handoff_id) from marts.fct_lead_handoffs where is_rejected"
        ).fetchone()
        con.execute(
            "update marts.fct_lead_handoffs set rejection_reason_code = 'bad_timing' "
            "where handoff_id = ?",
            [rejected],
        )
        # judged by a target its SLA term does not have
        (met,) = con.execute(
            "select min(handoff_id) from marts.fct_lead_handoffs where is_response_sla_met"
        ).fetchone()
        con.execute(
            "update marts.fct_lead_handoffs set first_touch_target_business_minutes = 100000 "
            "where handoff_id = ?",
            [met],
        )
        won, open_ = con.execute(
            "select min(opportunity_id) filter (where is_won), "
            "min(opportunity_id) filter (where not is_closed) from marts.fct_opportunities"
        ).fetchone()
        con.execute(
            "update marts.fct_opportunities set amount = -amount, crm_amount = -crm_amount, "
            "closed_date = created_date - 3 where opportunity_id = ?",
            [won],
        )
        # another won one of the same CRM without an amount: a null is not positive
        (won_without_amount,) = con.execute(
            "select max(opportunity_id) from marts.fct_opportunities where is_won "
            "and source_system = (select source_system from marts.fct_opportunities "
            "where opportunity_id = ?)",
            [won],
        ).fetchone()
        con.execute(
            "update marts.fct_opportunities set amount = null where opportunity_id = ?",
            [won_without_amount],
        )
        con.execute(
            "update marts.fct_opportunities set created_date = date '2099-01-15' "
            "where opportunity_id = ?",
            [open_],
        )
        # HubSpot stopped syncing ten days before Salesforce did.
        con.execute(
            "update raw_hubspot.contact set _fivetran_synced = _fivetran_synced - interval 10 day"
        )
        # A handoff the build judged against the MQL rule in force and found short of it.
        (missed_rule,) = con.execute(
            "select max(handoff_id) from marts.fct_lead_handoffs where is_mql_rule_met"
        ).fetchone()
        con.execute(
            "update marts.fct_lead_handoffs set is_mql_rule_met = false where handoff_id = ?",
            [missed_rule],
        )
    rows = {"rejected": rejected, "met": met}
    rows |= {"missed_rule": missed_rule}
    rows |= {"won": won, "open": open_, "won_without_amount": won_without_amount}
    return _by_suite(validate(SUITES, warehouse, folder)), rows


def test_an_unknown_reason_code_blocks_and_names_the_handoff(broken) -> None:
    outcomes, rows = broken
    handoffs = outcomes["funnel.fct_lead_handoffs"]
    failure = _failure(handoffs, "rejection_reasons seed")
    assert failure.severity == "critical" and failure.rows_failing == 1
    assert failure.failing_rows[0]["handoff_id"] == rows["rejected"]
    assert handoffs.blocking_failures


def test_a_handoff_judged_by_a_target_its_term_lacks_blocks_and_is_named(broken) -> None:
    outcomes, rows = broken
    handoffs = outcomes["funnel.fct_lead_handoffs"]
    failure = _failure(handoffs, "carries that row's targets")
    assert [row["handoff_id"] for row in failure.failing_rows] == [rows["met"]]
    assert failure in handoffs.blocking_failures


def test_an_mql_that_missed_the_rule_in_force_blocks_and_is_named(broken) -> None:
    outcomes, rows = broken
    handoffs = outcomes["funnel.fct_lead_handoffs"]
    failure = _failure(handoffs, "met the MQL rule in force")
    assert [row["handoff_id"] for row in failure.failing_rows] == [rows["missed_rule"]]
    assert failure in handoffs.blocking_failures


def test_amounts_and_dates_of_opportunities(broken) -> None:
    outcomes, rows = broken
    opportunities = outcomes["pipeline.fct_opportunities"]
    for fragment, opportunity in [
        ("positive amount", rows["won"]),
        ("a null is not positive", rows["won_without_amount"]),
        ("No amount is negative", rows["won"]),
        ("closes before it was created", rows["won"]),
        ("after the as-of date", rows["open"]),
    ]:
        failure = _failure(opportunities, fragment)
        assert [row["opportunity_id"] for row in failure.failing_rows] == [opportunity], fragment
    # the mart's pipeline total no longer equals staging's
    reconciliation = outcomes["pipeline.pipeline_reconciliation"]
    assert _failure(reconciliation, "Sum of pipeline").rows_failing == 1


def test_a_lost_deal_the_crm_zeroed_reconciles(built_company: Callable, tmp_path: Path) -> None:
    """A CRM user zeroes a deal's amount when it is lost: staging and the mart's crm_amount hold
    0, the mart's amount its last open amount (int_opportunities_converted). The pipeline
    reconciliation compares the CRM's amounts, so the suite passes (it compared the reported
    amount, and blocked publication)."""
    warehouse = built_company(leads=2000, seed=42).copy_to(tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        (lost,) = con.execute(
            "select min(opportunity_id) from marts.fct_opportunities "
            "where source_system = 'salesforce' and status = 'lost' and amount > 0"
        ).fetchone()
        con.execute(
            "update staging.stg_salesforce__opportunities set amount = 0 where opportunity_id = ?",
            [lost],
        )
        con.execute(
            "update marts.fct_opportunities set crm_amount = 0 where opportunity_id = ?", [lost]
        )
    outcome = _validated("pipeline.pipeline_reconciliation", warehouse, tmp_path / "gx")
    assert outcome.success, outcome.summary()


def test_a_crm_switched_off_is_not_reconciled_from_the_staging_table_it_left(
    built_company: Callable, tmp_path: Path
) -> None:
    """A company switches HubSpot off (`hubspot_enabled: false`) after a build with it: dbt
    disables HubSpot's staging models, and the mart holds no deal, but the staging table the
    earlier build wrote stays in the warehouse. The pipeline reconciliation takes the CRMs
    from the build's manifest, not from the tables it finds, so the suite passes (it counted
    the lingering deals as missing from the mart, and blocked every publication)."""
    built = built_company(leads=2000, seed=42)
    warehouse = built.copy_to(tmp_path)
    manifest = json.loads((built.target / "manifest.json").read_text())
    node = "model.sros.stg_hubspot__deals"
    manifest.setdefault("disabled", {})[node] = [manifest["nodes"].pop(node)]
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with duckdb.connect(str(warehouse)) as con:
        con.execute("delete from marts.fct_opportunities where source_system = 'hubspot'")
        (lingering,) = con.execute("select count(*) from staging.stg_hubspot__deals").fetchone()
    assert lingering > 0
    [suite] = [suite for suite in SUITES if suite.name == "pipeline.pipeline_reconciliation"]
    [outcome] = validate([suite], warehouse, tmp_path / "gx", manifest=tmp_path / "manifest.json")
    assert outcome.success, outcome.summary()
    # with the manifest of the build that had HubSpot on, the same tables do not reconcile
    [outcome] = validate(
        [suite], warehouse, tmp_path / "gx", manifest=built.target / "manifest.json"
    )
    assert not outcome.success


def test_a_move_back_from_sal_to_mql_is_no_handoff_and_reconciles(
    built_company: Callable, tmp_path: Path
) -> None:
    """A sales rep moves an accepted lead back to MQL: the lifecycle records the entry, which
    is not a handoff (int_lead_handoff_cycles). The handoff reconciliation counts the
    lifecycle's handoff entries (is_handoff_entry), so the suite passes (it counted every MQL
    entry, and blocked publication)."""
    warehouse = built_company(leads=2000, seed=42).copy_to(tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        (person,) = con.execute(
            "select min(person_id) from marts.fct_lead_lifecycle "
            "where stage_key = 'sal' and is_current_stage"
        ).fetchone()
        con.execute(
            """
            insert into marts.fct_lead_lifecycle by name
            select * replace (
                'regression-' || lifecycle_stage_id as lifecycle_stage_id,
                stage_entry_number + 1 as stage_entry_number,
                false as is_first_entry,
                entry_sequence + 100 as entry_sequence,
                exited_at + interval 1 day as entered_at,
                null as exited_at,
                'sal' as previous_stage_key,
                true as is_regression,
                false as is_handoff_entry,
                'regression-' || status_change_id as status_change_id
            )
            from marts.fct_lead_lifecycle
            where person_id = ? and stage_key = 'mql'
            order by stage_entry_number desc
            limit 1
            """,
            [person],
        )
        (regressions,) = con.execute(
            "select count(*) from marts.fct_lead_lifecycle "
            "where stage_key = 'mql' and not is_handoff_entry"
        ).fetchone()
    assert person is not None and regressions == 1
    outcome = _validated("funnel.handoff_reconciliation", warehouse, tmp_path / "gx")
    assert outcome.success, outcome.summary()


def test_a_source_that_stopped_syncing_blocks(broken) -> None:
    outcomes, _ = broken
    freshness = outcomes["sources.freshness"]
    failure = _failure(freshness, "error_after")
    assert [row["source_table"] for row in failure.failing_rows] == ["hubspot.contact"]
    assert freshness.blocking_failures
    # past warn_after too: that expectation warns and is not what blocks
    warning = _failure(freshness, "within its warn_after")
    assert warning.severity == "warning"
    assert "hubspot.contact" in [row["source_table"] for row in warning.failing_rows]
    assert warning not in freshness.blocking_failures


def test_untouched_suites_still_pass(broken) -> None:
    outcomes, _ = broken
    for name in (
        "core.dim_persons",
        "funnel.fct_lead_lifecycle",
        "pipeline.fct_opportunity_stage_history",
    ):
        assert outcomes[name].success, outcomes[name].summary()


def test_freshness_reads_the_manifest_the_installation_parsed(
    built_company: Callable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh clone has no target/manifest.json (only a `dbt parse` by hand writes it): the
    freshness suite of the job reads the manifest the installation parsed, which loading the
    Dagster definitions makes."""
    import expectations.suite as suite
    from orchestration.defs.dbt import DBT_PROJECT  # parses the installation's when stale

    assert DBT_PROJECT.manifest_path.exists()
    monkeypatch.setattr(suite, "PROJECT_DIR", tmp_path)  # no target/ there
    [freshness] = [suite for suite in SUITES if suite.name == "sources.freshness"]
    [outcome] = validate([freshness], built_company(leads=2000, seed=42).warehouse, tmp_path)
    assert not outcome.blocking_failures
