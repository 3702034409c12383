"""The Dagster code location: it loads, its lineage is connected, and the demo job runs end
to end in a temporary folder, giving back the generator's row counts, twice."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sros.contracts import load_contracts

BAD_INPUT = Path(__file__).parent / "data" / "bad_input" / "build"


def test_definitions_load_with_connected_lineage() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for contract in load_contracts().values():
        raw = dg.AssetKey([contract.source, contract.name])
        landing = dg.AssetKey(["landing", contract.source, contract.name])
        assert raw in keys, f"no raw asset for {contract.source}.{contract.name}"
        assert landing in graph.get(raw).parent_keys
    # Every dbt source resolves to a raw-table asset of ingestion (no dangling source).
    staging = dg.AssetKey(["staging", "stg_salesforce__leads"])
    assert dg.AssetKey(["salesforce", "lead"]) in graph.get(staging).parent_keys
    assert {job.name for job in defs.resolve_all_job_defs()} >= {"demo_job", "warehouse_job"}
    # The finance export files are written after publication, never before.
    exports = graph.get(dg.AssetKey("finance_exports"))
    assert exports.parent_keys == {dg.AssetKey("published_warehouse")}
    assert exports.group_name == "exports"
    assert defs.resolve_schedule_def("daily_warehouse_schedule")
    assert defs.resolve_sensor_def("landing_zone_sensor")
    # Every expectation suite is a check on its mart; those guarding a definition block.
    from expectations import SUITES
    from orchestration.defs.expectations import great_expectations_checks

    specs = {(spec.asset_key, spec.name): spec for spec in great_expectations_checks.check_specs}
    for suite in SUITES:
        spec = specs[(dg.AssetKey(list(suite.asset_key)), suite.check_name)]
        assert spec.asset_key in keys
        assert spec.blocking == suite.blocking


def test_the_assets_come_from_the_installations_own_manifest_parsed_again_when_stale() -> None:
    """The manifest the assets are read from is the one parsed with this installation's vars
    and mapping seeds (target/sros/<hash>/), never target/manifest.json, which a `dbt parse`
    by hand rewrites; it is parsed again once any dbt file is newer."""
    import os

    from orchestration.defs import dbt as dbt_defs
    from sros.paths import PROJECT_DIR

    manifest = dbt_defs.DBT_PROJECT.manifest_path
    assert manifest.parent.parent == PROJECT_DIR / "target" / "sros"
    assert json.loads((manifest.parent / "sros_installation.json").read_text())["vars"] == (
        dbt_defs.load_config().dbt_vars
    )
    assert not dbt_defs._manifest_is_stale()  # as the definitions left it on import
    parsed = manifest.stat()
    try:
        os.utime(manifest, ns=(parsed.st_atime_ns, 0))  # older than every model
        assert dbt_defs._manifest_is_stale()
    finally:
        os.utime(manifest, ns=(parsed.st_atime_ns, parsed.st_mtime_ns))
    assert not dbt_defs._manifest_is_stale()


def test_the_dbt_resource_knows_dbts_version_without_running_dbt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """dagster-dbt would run `dbt --version` once per run (~8 s, and a request to PyPI per
    installed dbt package): the resource takes the version of the installed dbt-core."""
    from importlib import metadata

    from dagster_dbt.core import resource as dagster_dbt_resource

    from orchestration.defs.dbt import dbt_resource

    def no_subprocess(command: list[str], *args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"ran {command}")

    monkeypatch.setattr(dagster_dbt_resource, "check_output", no_subprocess)
    assert str(dbt_resource()._cli_version) == metadata.version("dbt-core")


def _counts(warehouse: Path, relations: list[str]) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return {
            relation: connection.execute(f"select count(*) from {relation}").fetchone()[0]
            for relation in relations
        }


@pytest.mark.slow
def test_demo_job_end_to_end_matches_ground_truth_and_is_idempotent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SROS_HOME", str(tmp_path))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    from sros.cli import main
    from sros.demo_company.config import MIN_DEMO_LEADS

    # the smallest demo company: the job's numbers are checked at scale by the mart tests
    demo = ["demo", "--leads", str(MIN_DEMO_LEADS), "--seed", "11"]
    assert main(demo) == 0
    truth = json.loads((tmp_path / "landing" / "ground_truth.json").read_text())
    warehouse = tmp_path / "warehouse.duckdb"

    contracts = list(load_contracts().values())
    raw = [f'{c.schema}."{c.name}"' for c in contracts]
    staging = _staging_models()
    first_raw, first_staging = _counts(warehouse, raw), _counts(warehouse, list(staging.values()))
    for contract, relation in zip(contracts, raw, strict=True):
        expected = truth["row_counts"][f"{contract.source}.{contract.name}"]
        assert first_raw[relation] == expected, relation
    for table, model in staging.items():
        assert first_staging[model] == truth["staging_row_counts"][table], model
    quarantined = _counts(
        warehouse, [f"{schema}._sros_quarantine" for schema in _schemas_with_quarantine(warehouse)]
    )
    assert sum(quarantined.values()) == 0

    # A record that breaks a definition (a negative amount) lands beside a clean control row,
    # and the main command runs again: nothing regenerated and nothing loaded twice (every raw
    # and staging table keeps its counts but the opportunities, which gain exactly the new
    # file's rows); the broken record is quarantined, the rest of the warehouse publishes, the
    # record is in fct_quarantined_records and in no number.
    new_file = BAD_INPUT / "salesforce" / "opportunity" / "negative_amount.csv"
    new_rows = len(new_file.read_text().splitlines()) - 1
    generated = {
        path: path.stat().st_mtime_ns
        for path in (tmp_path / "landing").rglob("*")
        if path.is_file()
    }
    shutil.copy(new_file, tmp_path / "landing" / "salesforce" / "opportunity" / "export_0098.csv")
    assert main(demo) == 0
    assert {path: path.stat().st_mtime_ns for path in generated} == generated
    opportunity = 'raw_salesforce."opportunity"'
    assert _counts(warehouse, raw) == {
        **first_raw,
        opportunity: first_raw[opportunity] + new_rows,
    }
    staged_opportunities = staging["salesforce.opportunity"]
    assert _counts(warehouse, list(staging.values())) == {
        **first_staging,
        staged_opportunities: first_staging[staged_opportunities] + new_rows,
    }
    # The second build left out the seeds, none changed (sros/seed_state.py), and the tests
    # that read only seeds, and recorded itself for the next one; the seeds are published.
    first_build, second_build = sorted((tmp_path / "dbt_builds").iterdir())[-2:]
    first_results, second_results = (
        {result["unique_id"] for result in json.loads(run_results.read_text())["results"]}
        for run_results in (first_build / "run_results.json", second_build / "run_results.json")
    )
    seeds = {unique_id for unique_id in first_results if unique_id.startswith("seed.")}
    assert len(seeds) > 20
    assert not seeds & second_results
    assert len(second_results) < len(first_results) - 200  # the seeds' tests left out too
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        assert connection.execute(
            "select distinct build_target from _sros_state.seed_tables"
        ).fetchall() == [(str(second_build.resolve()),)]
    published = tmp_path / "published" / "warehouse.duckdb"
    with duckdb.connect(str(published), read_only=True) as connection:
        assert connection.execute(
            "select count(*) from information_schema.tables where table_schema = 'seeds'"
        ).fetchone()[0] == len(seeds)
        assert connection.execute(
            "select record_id, rule_key from marts.fct_quarantined_records"
        ).fetchall() == [("006BAD000000000002", "negative_amount")]
        assert connection.execute(
            "select count(*) from marts.fct_opportunities where opportunity_id like '006BAD%'"
        ).fetchall() == [(1,)]  # the clean control row
    # A build that fails a blocking test publishes nothing: tests/test_own_crm_data.py (its
    # first run stops at an unmapped stage) and tests/test_faults.py (a build killed midway).


def _staging_models() -> dict[str, str]:
    """source.table -> the staging relation built from it (read from the dbt manifest). The
    staging models of raw history tables (meta.history_of) are left out: their rows are a
    table's versions, not its rows."""
    from orchestration.defs.dbt import DBT_PROJECT

    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    models = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["fqn"][1] != "staging":
            continue
        sources = [
            manifest["sources"][source_id]
            for source_id in node["depends_on"]["nodes"]
            if source_id.startswith("source.")
        ]
        if any(source["meta"].get("history_of") for source in sources):
            continue
        for source in sources:
            models[f"{source['source_name']}.{source['name']}"] = (
                f"{node['schema']}.{node['alias']}"
            )
    return models


def _schemas_with_quarantine(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        return [
            schema
            for (schema,) in connection.execute(
                "select table_schema from information_schema.tables "
                "where table_name = '_sros_quarantine'"
            ).fetchall()
        ]
