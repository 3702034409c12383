"""No silently empty marts (sros/completeness.py).

The case from a real first run: data older than the calendar. Rebuilt on a copy of a demo
warehouse with a calendar that starts after every date in the data, the marts built on the
calendar come out empty with every dbt test green; the check names each of them, its
non-empty inputs and the calendar's range. On the normal build it finds nothing.
"""

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from sros.completeness import find_silent_empties, mart_nodes


def _manifest(built_company: Callable) -> Path:
    """The manifest of the demo company's build."""
    return built_company(leads=2000, seed=42).target / "manifest.json"


def test_a_complete_build_has_no_silent_empties(built_company: Callable) -> None:
    assert (
        find_silent_empties(built_company(leads=2000, seed=42).warehouse, _manifest(built_company))
        == []
    )


def test_a_calendar_that_misses_the_data_is_named(
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("late-calendar")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    completed = run_dbt(
        "run",
        "--select",
        "int_calendar_days+",
        "--full-refresh",
        "--vars",
        json.dumps({"calendar_start_date": "2030-01-01"}),
        home=home,
        warehouse=warehouse,
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        empty_now = {
            name
            for (name,) in connection.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' "
                "and estimated_size = 0"
            ).fetchall()
        }
    assert "fct_pipeline_snapshots_daily" in empty_now  # the case: silently empty

    found = {
        empty.mart: empty for empty in find_silent_empties(warehouse, _manifest(built_company))
    }
    assert "fct_pipeline_snapshots_daily" in found
    snapshots = found["fct_pipeline_snapshots_daily"]
    assert snapshots.inputs["int_opportunity_versions"] > 0
    assert snapshots.calendar == ("2030-01-01", "2030-12-31")
    message = snapshots.message()
    assert "calendar runs from 2030-01-01" in message and "calendar_start_date" in message
    # every mart found is really empty, and opted-out marts are never reported
    assert set(found) <= empty_now
    may_be_empty = {
        node["name"]
        for node in mart_nodes(json.loads(_manifest(built_company).read_text()))
        if node["config"].get("meta", {}).get("may_be_empty")
    }
    assert may_be_empty and not may_be_empty & set(found)


def test_a_mart_empty_for_lack_of_events_is_named_once_its_input_has_them(
    built_company: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """kpi_lead_rejections_weekly may be empty while no handoff has been dispositioned
    (meta.not_empty_when), and only then."""
    warehouse = built_company(leads=2000, seed=42).copy_to(tmp_path_factory.mktemp("events"))
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("delete from marts.kpi_lead_rejections_weekly")
        dispositioned = connection.execute(
            "select count(*) from marts.fct_lead_handoffs where is_dispositioned"
        ).fetchone()[0]
    assert dispositioned > 0
    found = find_silent_empties(
        warehouse, _manifest(built_company), marts=["kpi_lead_rejections_weekly"]
    )
    assert [(empty.mart, empty.inputs) for empty in found] == [
        (
            "kpi_lead_rejections_weekly",
            {"fct_lead_handoffs where is_dispositioned": dispositioned},
        )
    ]
    assert "fct_lead_handoffs where is_dispositioned" in found[0].message()

    with duckdb.connect(str(warehouse)) as connection:  # no disposition yet: empty is right
        connection.execute("delete from marts.fct_lead_handoffs where is_dispositioned")
    assert (
        find_silent_empties(
            warehouse, _manifest(built_company), marts=["kpi_lead_rejections_weekly"]
        )
        == []
    )
