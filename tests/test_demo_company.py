"""Tests of the seeded demo-company generator (sros.demo_company)."""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from sros.contracts import load_contracts
from sros.demo_company import DemoConfig, DirtyConfig, generate
from sros.demo_company.seeds import load_definitions

# The package exports the function `generate`, which hides the module of the same name.
generate_module = importlib.import_module("sros.demo_company.generate")

N_LEADS = 2_000


def _config(**changes: object) -> DemoConfig:
    return replace(DemoConfig(n_leads=N_LEADS, seed=7), **changes)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(_config(), out)
    return out


@pytest.fixture(scope="module")
def dirty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dirty")
    generate(_config(dirty=DirtyConfig.all_on()), out)
    return out


def _hashes(out: Path) -> dict[str, str]:
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def _records(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _table(out: Path, source: str, table: str) -> list[dict[str, str]]:
    landing = load_contracts()[(source, table)].landing
    rows: list[dict[str, str]] = []
    for path in sorted((out / landing).glob("export_*.csv")):
        rows += _records(path)
    return rows


def _truth(out: Path) -> dict:
    return json.loads((out / "ground_truth.json").read_text())


def test_same_seed_gives_identical_files_and_another_seed_differs(
    clean: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate(_config(), again)
    assert _hashes(again) == _hashes(clean)
    other = tmp_path / "other"
    generate(_config(seed=8), other)
    assert (
        _hashes(other)["salesforce/lead/export_0001.csv"]
        != _hashes(clean)["salesforce/lead/export_0001.csv"]
    )


def test_every_contract_table_is_written_with_the_contract_header(clean: Path) -> None:
    for contract in load_contracts().values():
        path = clean / contract.landing / "export_0001.csv"
        header = path.read_bytes().split(b"\n", 1)[0].decode()
        assert header.split(",") == contract.column_names, contract.landing


def test_files_use_lf_iso_timestamps_and_lowercase_booleans(clean: Path) -> None:
    payload = (clean / "salesforce/lead/export_0001.csv").read_bytes()
    assert b"\r\n" not in payload
    row = _records(clean / "salesforce/lead/export_0001.csv")[0]
    assert row["created_date"].endswith("Z") and "T" in row["created_date"]
    assert row["is_deleted"] == "false"


def test_second_call_with_same_config_does_not_rewrite(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = generate(_config(), out)
    times = {path: path.stat().st_mtime_ns for path in out.rglob("*") if path.is_file()}
    second = generate(_config(), out)
    assert second == first
    assert {path: path.stat().st_mtime_ns for path in times} == times


def test_changed_config_rewrites_and_removes_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "run"
    generate(_config(dirty=DirtyConfig(late_rows=True)), out)
    assert (out / "salesforce/lead/export_0002.csv").exists()
    generate(_config(), out)
    assert not (out / "salesforce/lead/export_0002.csv").exists()


def test_another_demo_company_replaces_what_was_built_from_the_last_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo job's generate step (orchestration/defs/landing.py): the working warehouse,
    dlt's state and the Spark files built from a demo company go when another demo company
    replaces it in the landing zone, never otherwise: not for the same company again, nor
    on the first demo of a home whose warehouse came from elsewhere."""
    from orchestration.defs.landing import replace_demo_company
    from sros import paths

    monkeypatch.setenv("SROS_HOME", str(tmp_path))
    small = DemoConfig(n_leads=100, seed=7)
    built = [
        paths.warehouse_path(),
        paths.warehouse_path().with_name("warehouse.duckdb.wal"),
        paths.dlt_dir() / "pipelines" / "state.json",
        paths.spark_dir() / "raw" / "part-0.parquet",
    ]

    def build() -> None:
        for path in built:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("built")

    build()
    assert replace_demo_company(small)[1] == []  # the first demo company of this home
    assert replace_demo_company(small)[1] == []  # the same one again
    assert all(path.exists() for path in built)
    manifest, removed = replace_demo_company(replace(small, seed=8))
    assert set(removed) == {*built[:2], paths.dlt_dir(), paths.spark_dir()}
    assert not any(path.exists() for path in built)
    assert (
        manifest["config"]["seed"]
        == 8
        == generate_module.landed_company(paths.landing_dir())["seed"]
    )


def test_a_tampered_file_is_regenerated(tmp_path: Path) -> None:
    out = tmp_path / "run"
    generate(_config(), out)
    target = out / "salesforce/opportunity/export_0001.csv"
    original = target.read_bytes()
    target.write_bytes(b"broken\n")
    generate(_config(), out)
    assert target.read_bytes() == original


def test_ground_truth_row_counts_equal_file_line_counts(clean: Path, dirty: Path) -> None:
    for out in (clean, dirty):
        truth = _truth(out)
        for contract in load_contracts().values():
            lines = sum(
                path.read_bytes().count(b"\n") - 1
                for path in (out / contract.landing).glob("export_*.csv")
            )
            assert truth["row_counts"][f"{contract.source}.{contract.name}"] == lines


def test_manifest_lists_every_file_with_its_hash(clean: Path) -> None:
    manifest = json.loads((clean / "_manifest.json").read_text())
    written = {
        path.relative_to(clean).as_posix()
        for path in clean.rglob("*")
        if path.is_file() and path.name != "_manifest.json"
    }
    assert set(manifest["files"]) == written
    for relative, entry in manifest["files"].items():
        digest = hashlib.sha256((clean / relative).read_bytes()).hexdigest()
        assert entry["sha256"] == digest


def test_realised_rates_are_internally_consistent(clean: Path) -> None:
    truth = _truth(clean)
    handoffs, funnel = truth["handoffs"], truth["funnel"]
    assert handoffs["count"] > 50
    assert 0 < handoffs["sla_met_rate"] < 1
    assert sum(handoffs["reason_mix"].values()) == pytest.approx(1.0, abs=1e-4)
    assert 0 < handoffs["rejection_rate"] < 1
    assert handoffs["recycle_rate"] <= handoffs["rejection_rate"]
    assert funnel["lead"] >= funnel["mql"] >= funnel["sal"] >= funnel["sql"] >= funnel["won"]
    assert funnel["conversion"]["mql_to_sal"] == pytest.approx(
        funnel["sal"] / funnel["mql"], abs=1e-6
    )
    assert truth["staging_row_counts"] == truth["row_counts"]
    counts = truth["row_counts"]
    assert counts["salesforce.lead"] + counts["hubspot.contact"] == funnel["lead"]


def test_handoff_count_matches_the_status_history(clean: Path) -> None:
    definitions = load_definitions()
    mql_sf = definitions.crm_value("salesforce", "lead", "status", "mql")
    mql_hs = definitions.crm_value("hubspot", "contact", "hs_lead_status", "mql")
    sf = sum(
        1
        for row in _table(clean, "salesforce", "lead_history")
        if row["field"] == "Status" and row["new_value"] == mql_sf
    )
    hs = sum(
        1
        for row in _table(clean, "hubspot", "contact_property_history")
        if row["name"] == "hs_lead_status" and row["value"] == mql_hs
    )
    assert sf + hs == _truth(clean)["handoffs"]["count"]


def test_lead_status_agrees_with_its_last_status_change(clean: Path) -> None:
    last: dict[str, tuple[str, str]] = {}
    for row in _table(clean, "salesforce", "lead_history"):
        if row["field"] == "Status":
            previous = last.get(row["lead_id"])
            if previous is None or row["created_date"] >= previous[0]:
                last[row["lead_id"]] = (row["created_date"], row["new_value"])
    first_status = load_definitions().crm_value("salesforce", "lead", "status", "lead")
    for lead in _table(clean, "salesforce", "lead"):
        expected = last.get(lead["id"], ("", first_status))[1]
        assert lead["status"] == expected, lead["id"]
        assert (lead["is_converted"] == "true") == bool(lead["converted_opportunity_id"])


def test_referential_integrity(clean: Path) -> None:
    _assert_referential_integrity(clean)


def _assert_referential_integrity(clean: Path) -> None:
    accounts = {row["id"] for row in _table(clean, "salesforce", "account")}
    leads = {row["id"] for row in _table(clean, "salesforce", "lead")}
    contacts = {row["id"] for row in _table(clean, "salesforce", "contact")}
    opportunities = _table(clean, "salesforce", "opportunity")
    assert opportunities and all(row["account_id"] in accounts for row in opportunities)
    assert all(row["account_id"] in accounts for row in _table(clean, "salesforce", "contact"))
    tasks = _table(clean, "salesforce", "task")
    assert all(row["who_id"] in leads | contacts for row in tasks if row["who_id"])
    assert all(
        row["originating_lead_id_c"] in leads
        for row in opportunities
        if row["originating_lead_id_c"]
    )
    statuses = load_definitions().crm_values("salesforce", "lead", "status")
    mapped = {value for values in statuses.values() for value in values}
    for row in _table(clean, "salesforce", "lead_history"):
        if row["field"] == "Status":
            assert row["new_value"] in mapped and row["old_value"] in mapped
    deal_ids = {row["deal_id"] for row in _table(clean, "hubspot", "deal")}
    hs_contacts = {row["id"] for row in _table(clean, "hubspot", "contact")}
    assert all(row["deal_id"] in deal_ids for row in _table(clean, "hubspot", "deal_stage"))
    assert all(
        row["contact_id"] in hs_contacts for row in _table(clean, "hubspot", "engagement_contact")
    )


def test_opportunity_history_ends_in_the_current_stage(clean: Path) -> None:
    latest: dict[str, tuple[str, str]] = {}
    for row in _table(clean, "salesforce", "opportunity_history"):
        if (
            row["opportunity_id"] not in latest
            or row["created_date"] >= latest[row["opportunity_id"]][0]
        ):
            latest[row["opportunity_id"]] = (row["created_date"], row["stage_name"])
    for opportunity in _table(clean, "salesforce", "opportunity"):
        assert latest[opportunity["id"]][1] == opportunity["stage_name"]
        assert 0 <= float(opportunity["probability"]) <= 100


def test_dirty_switches_off_inject_nothing(clean: Path) -> None:
    dirty = _truth(clean)["dirty"]
    assert not any(dirty["switches"].values())
    assert dirty["removed_in_staging"] == {}
    assert not list(clean.rglob("export_0002.csv"))


def test_dirty_switches_inject_what_ground_truth_reports(dirty: Path) -> None:
    truth = _truth(dirty)
    report = truth["dirty"]
    leads = _table(dirty, "salesforce", "lead")
    ids = [row["id"] for row in leads]
    # every switch is on: each reports what it injected (an empty list would check nothing)
    assert report["duplicates"]["salesforce.lead"]["exact"]
    assert report["soft_deletes"]["salesforce.lead"]
    assert {merge["table"] for merge in report["merged_contacts"]} == {
        "hubspot.contact",
        "salesforce.lead",
    }
    assert report["malformed_rows"]
    for lead_id in report["duplicates"]["salesforce.lead"]["exact"]:
        assert ids.count(lead_id) == 2
    deleted = {row["id"] for row in leads if row["is_deleted"] == "true"}
    assert set(report["soft_deletes"]["salesforce.lead"]) <= deleted
    for merge in report["merged_contacts"]:
        if merge["table"] == "hubspot.contact":
            survivor = next(
                row for row in _table(dirty, "hubspot", "contact") if row["id"] == merge["survivor"]
            )
            assert survivor["property_hs_merged_object_ids"] == ";".join(merge["merged"])
        else:
            loser = next(row for row in leads if row["id"] == merge["merged"][0])
            assert loser["master_record_id"] == merge["survivor"]
    late = report["late_rows"]["salesforce.lead"]
    late_rows = _records(dirty / "salesforce/lead/export_0002.csv")
    assert [row["id"] for row in late_rows] == late["ids"]
    unmapped = {item["value"] for item in report["unmapped_values"]}
    assert "Qualifying" in {row["status"] for row in leads} & unmapped
    lines = (dirty / "salesforce/opportunity/export_0001.csv").read_text().split("\n")
    width = len(lines[0].split(","))
    for item in report["malformed_rows"]:
        record = next(csv.reader([lines[item["row"]]]))
        if item["reason"] == "missing trailing field":
            assert len(record) == width - 1
        else:
            assert record[lines[0].split(",").index(item["column"])] == item["value"]
    for key, count in truth["row_counts"].items():
        assert truth["staging_row_counts"][key] == count - report["removed_in_staging"].get(key, 0)


def test_rejected_leads_carry_a_reason_code(clean: Path) -> None:
    definitions = load_definitions()
    codes = {code for code, _ in definitions.rejection_reasons}
    statuses = definitions.crm_values("salesforce", "lead", "status")
    rejected = set(statuses["recycled"]) | set(statuses["disqualified"])
    for lead in _table(clean, "salesforce", "lead"):
        if lead["status"] in rejected and lead["lead_priority_c"]:
            assert lead["rejection_reason_c"] in codes


def test_business_calendar_skips_nights_weekends_and_holidays() -> None:
    from datetime import UTC, date, datetime

    import numpy as np

    from sros.demo_company.calendar import BusinessCalendar

    hours = load_definitions().business_hours["na_east"]
    calendar = BusinessCalendar(hours, date(2025, 1, 1), date(2025, 12, 31))

    def at(*parts: int) -> int:
        return int(datetime(*parts, tzinfo=UTC).timestamp())

    # Friday 2025-03-07 23:00 UTC + 10 business minutes: Monday 09:10 New York (EDT, UTC-4).
    friday_night = np.array([at(2025, 3, 7, 23, 0)])
    assert calendar.add_minutes(friday_night, np.array([10]))[0] == at(2025, 3, 10, 13, 10)
    # Thursday 2025-07-03 16:50 New York + 30 minutes: Independence Day is skipped.
    before_holiday = np.array([at(2025, 7, 3, 20, 50)])
    assert calendar.add_minutes(before_holiday, np.array([30]))[0] == at(2025, 7, 7, 13, 20)
    assert calendar.minutes_between(before_holiday, np.array([at(2025, 7, 7, 13, 20)]))[0] == 30


# A company of three shards: 1,000 leads with shards of at most 400 (334, 333 and 333 leads).
SHARDED_LEADS, SHARD_LEADS = 1_000, 400


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sharded")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generate_module, "SHARD_LEADS", SHARD_LEADS)
        generate(DemoConfig(n_leads=SHARDED_LEADS, seed=7), out)
    return out


def test_a_large_company_is_written_in_shards_whose_first_is_the_company_of_its_size(
    sharded: Path, tmp_path: Path
) -> None:
    alone = tmp_path / "alone"
    generate(DemoConfig(n_leads=334, seed=7), alone)
    for contract in load_contracts().values():
        names = sorted(path.name for path in (sharded / contract.landing).glob("*.csv"))
        if contract.export == "full":
            assert names == ["export_0001.csv"], contract.landing
            continue
        assert names == ["export_0001.csv", "export_0001_s01.csv", "export_0001_s02.csv"]
        first = (sharded / contract.landing / "export_0001.csv").read_bytes()
        assert first == (alone / contract.landing / "export_0001.csv").read_bytes()
    for key in generate_module.SHARED_TABLES:
        landing = load_contracts()[key].landing
        assert _table(sharded, *key) == _table(alone, *key), landing
    truth = _truth(sharded)
    assert truth["parameters"]["config"]["n_leads"] == SHARDED_LEADS
    shard_sizes = [shard["parameters"]["config"]["n_leads"] for shard in truth["shards"]]
    assert shard_sizes == [334, 333, 333]
    assert truth["staging_row_counts"] == truth["row_counts"]


def test_shards_keys_and_people_never_collide(sharded: Path) -> None:
    """Every table's key is unique over all its files, every full export (users, roles, teams,
    expenses) holds each shard's rows, references stay whole, and no two leads, contacts or
    users of different shards share an email, UTM campaign or account domain."""
    contracts = load_contracts()
    with duckdb.connect() as connection:
        for contract in contracts.values():
            files = [str(path) for path in sorted((sharded / contract.landing).glob("*.csv"))]
            key = ", ".join(f'"{column}"' for column in contract.primary_key)
            duplicated = connection.execute(
                f"select {key}, count(*) from read_csv({files}, all_varchar = true) "
                f"group by all having count(*) > 1 limit 3"
            ).fetchall()
            assert not duplicated, (contract.landing, duplicated)
    _assert_referential_integrity(sharded)
    for source, table, column in [
        ("salesforce", "lead", "email"),
        ("salesforce", "user", "email"),
        ("hubspot", "contact", "property_email"),
        ("salesforce", "account", "website"),
        ("ads", "ad_spend_daily", "utm_campaign"),
    ]:
        by_shard = [
            {row[column] for row in _records(path) if row[column]}
            for path in sorted((sharded / contracts[(source, table)].landing).glob("*.csv"))
        ]
        if len(by_shard) == 1:  # a full export: one file of every shard's rows
            values = [row[column] for row in _table(sharded, source, table) if row[column]]
            assert len(values) == len(set(values)), (table, column)
            continue
        assert len(by_shard) == 3 and all(by_shard), (table, column)
        assert not (by_shard[0] & by_shard[1]) and not (by_shard[1] & by_shard[2]), column
    ceos = [
        row for row in _table(sharded, "salesforce", "user") if row["title"].startswith("Chief E")
    ]
    assert len(ceos) == 3  # each shard is a company of its own, with its own organisation


def test_dirty_data_is_not_injected_into_a_sharded_company(tmp_path: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generate_module, "SHARD_LEADS", SHARD_LEADS)
        with pytest.raises(ValueError, match="dirty data is injected into companies of at most"):
            generate(DemoConfig(n_leads=SHARDED_LEADS, dirty=DirtyConfig.all_on()), tmp_path)
