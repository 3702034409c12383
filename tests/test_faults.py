"""Faults: a job killed with SIGKILL in the middle of its dbt build.

The published warehouse BI reads stays byte for byte the previous version, the working
warehouse opens, and the next run succeeds and publishes a complete version: the previous one
plus exactly the lead that arrived before the killed run. Files already ingested (by the
killed run too) are not loaded again. A job killed earlier, while the Dagster definitions run
`dbt parse` and dbt writes the manifest, does not break the next run either.

The previous version is the demo company of tests/conftest.py's `built_company` (generated,
ingested with dlt, dbt build), copied into this test's SROS_HOME and published as the job
does: building it once more through `sros demo` would double the test's time for nothing
new (test_orchestration runs that job end to end).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from sros.contracts import load_contracts
from sros.ingest.pipeline import LOAD_REPORT_TABLE
from sros.paths import PROJECT_DIR
from sros.publish import publish

NEW_LEAD_ID = "00Q999999999999998"
NEW_LEAD_EMAIL = "kill.test@faults.example.com"
# Dagster's event log line for a dbt model written to the marts schema of the working warehouse.
MART_BUILT = re.compile(r"sros_dbt_assets - ASSET_MATERIALIZATION - Materialized value marts ")
SROS = str(Path(sys.executable).parent / "sros")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _land_new_lead(folder: Path) -> None:
    """A late export holding one new open lead (a copy of an open one, with its own id and
    email)."""
    with (folder / "export_0001.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    template = next(
        row
        for row in rows
        if row["status"] == "Open - Not Contacted"
        and row["is_deleted"] == "false"
        and not row["master_record_id"]
    )
    with (folder / "export_0099.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(template), lineterminator="\n")
        writer.writeheader()
        writer.writerow({**template, "id": NEW_LEAD_ID, "email": NEW_LEAD_EMAIL})


def _raw_state(warehouse: Path) -> dict[str, int]:
    """Rows per raw table, and load reports (one per file read) per raw schema."""
    contracts = list(load_contracts().values())
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        state = {
            f"{c.source}.{c.name}": connection.execute(
                f'select count(*) from {c.schema}."{c.name}"'
            ).fetchone()[0]
            for c in contracts
        }
        for schema in sorted({c.schema for c in contracts}):
            state[f"{schema}.{LOAD_REPORT_TABLE}"] = connection.execute(
                f"select count(*) from {schema}.{LOAD_REPORT_TABLE}"
            ).fetchone()[0]
    return state


def _processes_in_group(pgid: int) -> list[str]:
    """Command lines of the live (not zombie) processes of a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # ended meanwhile
        fields = stat[stat.rindex(")") + 2 :].split()  # state, ppid, pgrp, ...
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(cmdline)
    return found


def _diff(baseline: Path, final: Path) -> dict[str, tuple[list, list]]:
    """Per published table: rows only in the final version, rows only in the baseline."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{baseline}' as baseline (read_only)")
        connection.execute(f"attach '{final}' as final (read_only)")
        tables = {
            catalog: connection.execute(
                "select table_schema || '.' || table_name from information_schema.tables "
                "where table_catalog = ? and table_schema <> 'meta' order by 1",
                [catalog],
            ).fetchall()
            for catalog in ("baseline", "final")
        }
        assert tables["baseline"] == tables["final"]
        diff = {}
        for (table,) in tables["final"]:
            added = connection.execute(
                f"select * from final.{table} except all select * from baseline.{table}"
            ).fetchall()
            removed = connection.execute(
                f"select * from baseline.{table} except all select * from final.{table}"
            ).fetchall()
            diff[table] = (added, removed)
    return diff


def _publication(published: Path) -> tuple:
    with duckdb.connect(str(published), read_only=True) as connection:
        return connection.execute(
            "select published_at, tables_published, rows_published from meta.publication"
        ).fetchone()


@pytest.mark.slow
def test_a_build_killed_midway_publishes_nothing_and_the_next_run_recovers(
    tmp_path: Path, built_company: Callable
) -> None:
    built = built_company(leads=2000, seed=42)
    home = tmp_path / "home"
    shutil.copytree(  # copy2 keeps modification times: dlt knows these files as loaded
        built.warehouse.parent, home, ignore=shutil.ignore_patterns("target")
    )
    warehouse = home / "warehouse.duckdb"
    published = home / "published" / "warehouse.duckdb"
    publish(warehouse, published)
    baseline = tmp_path / "baseline.duckdb"
    shutil.copy2(published, baseline)
    published_before, publication_before = _sha256(published), _publication(published)
    raw_before = _raw_state(warehouse)

    # A new lead arrives; the run that loads it is killed while dbt writes the marts.
    _land_new_lead(home / "landing" / "salesforce" / "lead")
    env = {
        **os.environ,
        "SROS_HOME": str(home),
        "DAGSTER_HOME": str(home / "dagster"),
        "PYTHONUNBUFFERED": "1",
    }
    for variable in (
        "SROS_WAREHOUSE_PATH",
        "SROS_LANDING_DIR",
        "SROS_DLT_DIR",
        "SROS_PUBLISHED_PATH",
    ):
        env.pop(variable, None)
    log = tmp_path / "killed_run.log"
    with log.open("wb") as output:
        job = subprocess.Popen(
            [SROS, "run", "--verbose"],  # the whole log on stdout, where this test watches it
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: dbt's processes die with it
        )
    try:
        deadline = time.monotonic() + 480
        while not MART_BUILT.search(text := log.read_text(errors="replace")):
            assert job.poll() is None, f"the run ended ({job.returncode}) first:\n{text[-3000:]}"
            assert time.monotonic() < deadline, f"no mart built in time:\n{text[-3000:]}"
            time.sleep(0.2)
        running = _processes_in_group(job.pid)
        assert any("dbt" in c and " build" in c for c in running), running
        assert "published_warehouse - STEP_START" not in log.read_text(errors="replace")
        os.killpg(job.pid, signal.SIGKILL)
        assert job.wait(timeout=60) == -signal.SIGKILL
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _processes_in_group(job.pid):  # dbt dies with the job, it does not go on writing
        assert time.monotonic() < deadline, _processes_in_group(job.pid)
        time.sleep(0.1)

    # BI still reads the previous version, complete: the very same file, nothing beside it.
    assert _sha256(published) == published_before
    assert _publication(published) == publication_before
    assert [p.name for p in published.parent.iterdir()] == ["warehouse.duckdb"]
    # The working warehouse opens (DuckDB replays its write-ahead log) and holds the lead the
    # killed run ingested before dbt started: exactly the generator's rows plus that one.
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("checkpoint")
    raw_after_kill = _raw_state(warehouse)
    for contract in load_contracts().values():
        table = f"{contract.source}.{contract.name}"
        expected = built.truth["row_counts"][table] + (table == "salesforce.lead")
        assert raw_after_kill[table] == raw_before[table] + (table == "salesforce.lead")
        assert raw_after_kill[table] == expected, table

    # The next run succeeds; ingesting the same files again adds nothing.
    completed = subprocess.run(
        [SROS, "run"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    assert _raw_state(warehouse) == raw_after_kill

    # It published a new complete version: the previous one plus exactly the new lead.
    published_at, tables, _ = _publication(published)
    assert published_at > publication_before[0] and tables == publication_before[1]
    assert [p.name for p in published.parent.iterdir()] == ["warehouse.duckdb"]
    # Facts, dimensions and seeds: rows are only added, and only the new lead's. The KPI and
    # report marts aggregate, so one more lead changes the counts of the rows it falls in:
    # there the totals must move by exactly that lead.
    diff = _diff(baseline, published)
    aggregates = {table for table in diff if table.startswith(("marts.kpi_", "marts.rpt_"))}
    row_level = {table: change for table, change in diff.items() if table not in aggregates}
    assert {table: removed for table, (_, removed) in row_level.items() if removed} == {}
    with duckdb.connect(str(published), read_only=True) as connection:
        [(person_id,)] = connection.execute(
            "select person_id from marts.dim_persons where salesforce_lead_id = ?", [NEW_LEAD_ID]
        ).fetchall()
    assert len(diff["marts.dim_persons"][0]) == 1
    unrelated = {
        table: [row for row in added if person_id not in row and NEW_LEAD_ID not in row]
        for table, (added, _) in row_level.items()
    }
    assert {table: rows for table, rows in unrelated.items() if rows} == {}
    totals = (
        "select sum(lead_count), sum(handoff_count), sum(pipeline_created_amount) "
        "from {}.marts.kpi_alignment_scorecard_weekly where scope = 'company'"
    )
    with duckdb.connect() as connection:
        connection.execute(f"attach '{baseline}' as baseline (read_only)")
        connection.execute(f"attach '{published}' as final (read_only)")
        before = connection.execute(totals.format("baseline")).fetchone()
        after = connection.execute(totals.format("final")).fetchone()
    assert after == (before[0] + 1, before[1], before[2])


# What loading the Dagster definitions reads: the Python packages and the dbt project.
_PROJECT_FILES = (
    "dbt_project.yml",
    "profiles.yml",
    "models",
    "seeds",
    "mappings",
    "macros",
    "tests/dbt",
    "sros",
    "orchestration",
)
_LOAD_DEFINITIONS = (
    "import sys\n"
    "from pathlib import Path\n"
    "import sros.paths\n"
    "if sros.paths.PROJECT_DIR != Path.cwd():  # never parse into the repository's target/\n"
    "    sys.exit(f'loaded {sros.paths.PROJECT_DIR}, not the copy')\n"
    "from orchestration.definitions import defs\n"
    "assert defs.resolve_job_def('warehouse_job')\n"
)


def _copy_project(project: Path) -> None:
    for name in _PROJECT_FILES:
        source, target = PROJECT_DIR / name, project / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def _is_json(path: Path) -> bool:
    try:
        json.loads(path.read_bytes())
    except ValueError:
        return False
    return True


@pytest.mark.slow
def test_a_parse_killed_while_writing_the_manifest_does_not_break_the_next_load(
    tmp_path: Path,
) -> None:
    """dbt writes manifest.json in place. Kill the definitions' `dbt parse` while it writes
    it: the cut-short manifest is newer than every model, yet the next load must parse again
    instead of failing on it. Runs on a copy of the project, never on the repository's
    target/."""
    project = tmp_path / "project"
    _copy_project(project)
    env = {
        **os.environ,
        "PYTHONPATH": str(project),  # the copy's sros and orchestration, not the repository's
        "SROS_HOME": str(tmp_path / "home"),
        "DAGSTER_HOME": str(tmp_path / "home" / "dagster"),
    }
    target = subprocess.run(  # the copy's manifest for this installation
        [sys.executable, "-c", "from sros.config import dbt_target_dir; print(dbt_target_dir())"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    manifest = Path(target) / "manifest.json"
    assert manifest.is_relative_to(project / "target")
    manifest.parent.mkdir(parents=True)
    old_size = 64_000_000  # larger than any manifest: a smaller file is one being rewritten
    for _attempt in range(3):
        manifest.write_bytes(b"{}" + b" " * (old_size - 2))
        os.utime(manifest, (0, 0))  # older than every model: the load parses
        load = subprocess.Popen(
            [sys.executable, "-c", _LOAD_DEFINITIONS],
            cwd=project,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 300
            while load.poll() is None and time.monotonic() < deadline:
                try:
                    if manifest.stat().st_size < old_size:  # dbt is writing it
                        os.killpg(load.pid, signal.SIGKILL)
                        break
                except FileNotFoundError:
                    pass
                time.sleep(0.002)
        finally:
            if load.poll() is None:
                os.killpg(load.pid, signal.SIGKILL)
            _, errors = load.communicate(timeout=60)
        assert load.returncode in (0, -signal.SIGKILL), errors.decode()[-3000:]
        if load.returncode == -signal.SIGKILL and not _is_json(manifest):
            break  # killed while the manifest was half written
    else:
        pytest.fail("the load was never killed while dbt wrote the manifest")

    completed = subprocess.run(
        [sys.executable, "-c", _LOAD_DEFINITIONS],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert _is_json(manifest)
