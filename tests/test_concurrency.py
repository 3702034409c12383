"""Concurrency: one run at a time, and a reader on the working warehouse.

Run lock ($SROS_HOME/run.lock, sros/runlock.py): a second `sros run` while a run holds it is
turned away in one line, fast, without importing Dagster; `--wait` waits for the holder and
then runs; a lock left by a dead run is taken over with a notice; runs Dagster launches take
the same lock in their executor (waiting for a run in progress), and the landing-zone sensor
skips while it is held. The holders are real processes (this test's own, or a child that
takes the lock and sleeps), never a file written to look held, except the dead run's file.

Reader lock (sros/locks.py): a process holding the working file read-only for ~3 s while
ingestion starts makes the ingestion wait and then load everything; a reader holding it
longer than SROS_LOCK_TIMEOUT fails `sros run` with one line naming the reader's PID and the
published file BI should read. Ingestion only, on a 300-lead demo company, to stay quick.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from sros import locks, runlock
from sros.paths import PROJECT_DIR

# Takes the run lock as `command` (argv[1]), says so, holds it for argv[2] seconds, exits.
HOLD_RUN_LOCK = """
import sys, time
from sros import runlock
runlock.acquire(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
"""
# Opens the DuckDB file argv[1] read-only, says so, keeps it open argv[2] seconds (or, given
# "stdin", until its stdin closes), exits.
HOLD_READ_ONLY = """
import sys, time
import duckdb
connection = duckdb.connect(sys.argv[1], read_only=True)
print("open", flush=True)
if sys.argv[2] == "stdin":
    sys.stdin.read()
else:
    time.sleep(float(sys.argv[2]))
connection.close()
"""
# `sros <argv[1:]>` in-process, then whether Dagster was imported, on stdout.
SROS_THEN_REPORT_IMPORTS = """
import sys
from sros.cli import main
status = main(sys.argv[1:])
print("dagster imported:", "dagster" in sys.modules, flush=True)
sys.exit(status)
"""


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "SROS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), **extra}
    for variable in ("SROS_WAREHOUSE_PATH", "SROS_LANDING_DIR", "SROS_DLT_DIR"):
        env.pop(variable, None)
    return env


def _spawn(script: str, *args: str, env: dict[str, str], ready: str) -> subprocess.Popen:
    """A child running `script`; returns once it printed `ready` (it holds its lock)."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        env=env,
        cwd=PROJECT_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline().strip()
    assert line == ready, f"holder did not start: {line!r} {child.stderr.read()}"
    return child


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.kill()
    child.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SROS_HOME", str(tmp_path))
    for variable in ("SROS_WAREHOUSE_PATH", "SROS_LANDING_DIR", "SROS_DLT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def _clock(holder: runlock.Holder) -> str:
    return holder.started_at.astimezone(UTC).strftime("%H:%M:%S")


# --- the run lock -------------------------------------------------------------------------


def test_second_run_is_turned_away_in_one_line_fast_without_dagster(home: Path) -> None:
    with runlock.run_lock("sros run (test holder)"):
        holder = runlock.read_holder()
        assert holder is not None and holder.pid == os.getpid()
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-c", SROS_THEN_REPORT_IMPORTS, "run"],
            env=_env(home),
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
    assert second.returncode == 75, second.stderr
    assert second.stderr.splitlines() == [
        f"another SROS run (pid {os.getpid()}, started {_clock(holder)} UTC, "
        f"`sros run (test holder)`) holds {home / 'run.lock'}; wait for it or use --wait"
    ]
    assert second.stdout.splitlines() == ["dagster imported: False"]
    # Interpreter start-up included; the lock check itself takes milliseconds.
    assert elapsed < 3, f"refusal took {elapsed:.2f} s"
    # Let go: the file is emptied, so the next run sees no holder and no stale lock.
    assert (home / "run.lock").read_text() == ""
    assert runlock.current_holder() is None


def test_wait_waits_for_the_run_in_progress_then_runs(home: Path, small_landing: Path) -> None:
    # (a landing zone to load: without one and without a warehouse, `sros run` stops at once)
    holder = _spawn(HOLD_RUN_LOCK, "sros run", "3", env=_env(home), ready="held")
    waiter = subprocess.Popen(
        [sys.executable, "-m", "sros.cli", "run", "--wait"],
        env=_env(home),
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = waiter.stderr.readline().strip()
        assert re.fullmatch(
            rf"waiting for another SROS run \(pid {holder.pid}, started \d\d:\d\d:\d\d UTC, "
            rf"`sros run`\) to finish; it holds {re.escape(str(home / 'run.lock'))}",
            first,
        ), first
        assert holder.poll() is None  # still holding: the waiter did not start the run
        # The waiter takes the lock as soon as the holder ends, and goes on with its run.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            taken = runlock.read_holder()
            if taken is not None and taken.pid == waiter.pid:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the waiting run never took the lock")
        assert holder.wait(timeout=5) == 0
        assert taken.command == "sros run --wait"
        assert waiter.poll() is None  # running the job now
    finally:
        _stop(waiter)  # SIGKILL mid-run: its lock is now stale (see the next test)
        _stop(holder)
    # The killed run left its record behind: no live holder, and the next run takes over.
    assert runlock.read_holder().pid == waiter.pid
    assert runlock.current_holder() is None


def test_stale_lock_of_a_dead_run_is_taken_over_with_a_notice(home: Path) -> None:
    dead = _spawn(HOLD_RUN_LOCK, "sros demo --leads 300", "60", env=_env(home), ready="held")
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait(timeout=10)
    stale = runlock.read_holder()
    assert stale is not None and stale.pid == dead.pid and not stale.is_alive()
    notices: list[str] = []
    with runlock.run_lock("sros run", notify=notices.append):
        assert runlock.read_holder().pid == os.getpid()
    assert notices == [
        f"took over the stale run lock {home / 'run.lock'} of a run that is gone "
        f"(pid {dead.pid}, started {_clock(stale)} UTC, `sros demo --leads 300`)"
    ]


def _holder_seen_by_the_run() -> dg.JobDefinition:
    """A one-op job on the run-locked executor; the op reports who holds the run lock."""
    from orchestration.defs.schedules import run_locked_in_process_executor

    @dg.op
    def who_holds_the_run_lock() -> dict:
        holder = runlock.read_holder()
        return {"pid": holder.pid, "command": holder.command, "at": time.time()}

    @dg.job(executor_def=run_locked_in_process_executor)
    def locked_job() -> None:
        who_holds_the_run_lock()

    return locked_job


def test_dagster_launched_runs_wait_for_the_run_lock_and_hold_it(home: Path) -> None:
    job = dg.reconstructable(_holder_seen_by_the_run)
    with dg.instance_for_test() as instance:
        holder = _spawn(HOLD_RUN_LOCK, "sros run", "3", env=_env(home), ready="held")
        held_at = time.time()
        try:
            with dg.execute_job(job, instance) as result:
                assert result.success
                seen = result.output_for_node("who_holds_the_run_lock")
                run_id = result.run_id
            logs = [entry.user_message for entry in instance.all_logs(run_id)]
            assert holder.wait(timeout=5) == 0
        finally:
            _stop(holder)
    assert seen["pid"] == os.getpid()  # the run's process (in-process executor)
    assert seen["command"] == f"dagster run {run_id[:8]} (locked_job)"
    assert seen["at"] >= held_at + 2.5  # the step ran only once the holder had let go (3 s)
    waited = [line for line in logs if line.startswith("waiting for another SROS run")]
    assert len(waited) == 1 and f"(pid {holder.pid}," in waited[0]
    assert (home / "run.lock").read_text() == ""  # released at the end of the run


def test_every_job_of_the_code_location_runs_under_the_run_lock() -> None:
    from orchestration.definitions import defs
    from orchestration.defs.schedules import run_locked_in_process_executor

    jobs = [*defs.resolve_all_job_defs(), defs.resolve_implicit_global_asset_job_def()]
    assert {job.name for job in jobs} >= {"warehouse_job", "demo_job", "__ASSET_JOB"}
    for job in jobs:
        assert job.executor_def is run_locked_in_process_executor, job.name


def test_landing_sensor_skips_while_a_run_holds_the_lock(home: Path) -> None:
    from orchestration.defs.schedules import landing_zone_sensor

    folder = home / "landing" / "salesforce" / "lead"
    folder.mkdir(parents=True)
    (folder / "export_0001.csv").write_text("id\n1\n")
    holder = _spawn(HOLD_RUN_LOCK, "sros run", "60", env=_env(home), ready="held")
    try:
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(instance=instance)
            skipped = list(landing_zone_sensor(context))
    finally:
        _stop(holder)
    assert len(skipped) == 1 and isinstance(skipped[0], dg.SkipReason)
    assert f"pid {holder.pid}" in skipped[0].skip_message
    assert context.cursor is None  # the new file is still to be run
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance)
        requested = list(landing_zone_sensor(context))
    assert len(requested) == 1 and isinstance(requested[0], dg.RunRequest)


# --- a reader on the working warehouse ----------------------------------------------------


def test_lock_holder_names_the_process_in_duckdbs_own_error(tmp_path: Path) -> None:
    working = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(working)).close()
    reader = _spawn(HOLD_READ_ONLY, str(working), "60", env=dict(os.environ), ready="open")
    try:
        with pytest.raises(duckdb.IOException) as raised:
            duckdb.connect(str(working))
        holder = locks.lock_holder(raised.value)
        assert holder is not None
        assert (holder.file, holder.pid) == (str(working), reader.pid)
        assert Path(holder.exe).name.startswith("python")
        # Past the bound: one line naming the process and the file BI should read.
        started = time.monotonic()
        with pytest.raises(locks.WorkingFileLocked) as locked:
            locks.connect(working, timeout=1)
        assert 1 <= time.monotonic() - started < 3
        assert "\n" not in str(locked.value)
        assert f"(PID {reader.pid})" in str(locked.value)
    finally:
        _stop(reader)
    # Any other error is not a lock: raised at once, not retried.
    started = time.monotonic()
    with pytest.raises(duckdb.Error):
        locks.retry_on_lock(lambda: duckdb.connect(str(tmp_path / "no" / "such.duckdb")))
    assert time.monotonic() - started < 1
    assert locks.lock_holder(ValueError("Conflicting lock is nowhere")) is None


# Opens the DuckDB file argv[1] read-write, says so, keeps it open argv[2] seconds, exits.
HOLD_READ_WRITE = HOLD_READ_ONLY.replace("read_only=True", "read_only=False")


def test_publication_and_validation_name_a_writer_that_holds_the_working_file(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publication and the expectation suites open the working file read-only, through an
    ATTACH and through SQLAlchemy: their lock errors are recognised and named too."""
    from expectations import SUITES
    from expectations.runner import validate
    from sros.publish import publish

    monkeypatch.setenv(locks.TIMEOUT_ENV, "1")
    working = home / "warehouse.duckdb"
    with duckdb.connect(str(working)) as connection:
        connection.execute("create schema marts; create table marts.t as select 1 as a")
    published = home / "published" / "warehouse.duckdb"
    writer = _spawn(HOLD_READ_WRITE, str(working), "60", env=_env(home), ready="open")
    try:
        for step in (
            lambda: publish(working, published),
            lambda: validate(SUITES[:1], working, home / "gx"),
        ):
            with pytest.raises(locks.WorkingFileLocked) as locked:
                locks.retry_on_lock(step)
            assert locked.value.holder.pid == writer.pid
            assert f"BI tools must read the published file {published}," in str(locked.value)
    finally:
        _stop(writer)
    assert not published.parent.exists() or list(published.parent.iterdir()) == []


@pytest.fixture
def small_landing(home: Path) -> Path:
    from sros.demo_company import DemoConfig, generate

    generate(DemoConfig(n_leads=300, seed=7), home / "landing")
    return home / "landing"


def _csv_rows(folder: Path) -> int:
    total = 0
    for path in folder.glob("*.csv"):
        with path.open(newline="") as handle:
            total += sum(1 for _ in csv.DictReader(handle))
    return total


def _salesforce_ingestion() -> dg.JobDefinition:
    """The warehouse job's Salesforce ingestion step and its load checks, as Dagster runs them
    (the subset is made up front: it takes seconds, which the reader must not spend)."""
    from orchestration.definitions import defs
    from orchestration.defs.ingestion import INGESTION_ASSETS

    ingest = next(a for a in INGESTION_ASSETS if a.op.name == "ingest_salesforce")
    return defs.resolve_job_def("warehouse_job").get_subset(asset_selection=set(ingest.keys))


def _leave_once_the_run_waits(
    instance: dg.DagsterInstance, reader: subprocess.Popen, linger: float
) -> threading.Thread:
    """Close the reader `linger` seconds after the run has logged that it waits for it: the
    reader is there when ingestion first opens the file, however long Dagster takes to start
    on a busy machine, and leaves while ingestion still waits."""

    def watch() -> None:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            runs = instance.get_runs(limit=1)
            if runs and any(
                "is locked by" in entry.user_message for entry in instance.all_logs(runs[0].run_id)
            ):
                time.sleep(linger)
                break
            time.sleep(0.2)
        reader.stdin.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_ingestion_waits_out_a_brief_reader_and_loads_everything(
    home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(locks.TIMEOUT_ENV, "30")
    working = home / "warehouse.duckdb"
    duckdb.connect(str(working)).close()  # a warehouse from an earlier run
    job = _salesforce_ingestion()
    with dg.instance_for_test() as instance:
        reader = _spawn(HOLD_READ_ONLY, str(working), "stdin", env=_env(home), ready="open")
        try:
            watcher = _leave_once_the_run_waits(instance, reader, linger=2)
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            logs = [entry for entry in instance.all_logs(result.run_id)]
            watcher.join(timeout=10)
            assert reader.wait(timeout=10) == 0
        finally:
            _stop(reader)
    assert result.success
    retried = [entry for entry in logs if "is locked by" in entry.user_message]
    assert len(retried) == 1
    assert retried[0].user_message.startswith(f"{working} is locked by ")
    assert retried[0].user_message.endswith(f"(PID {reader.pid}); retrying for up to 30 s")
    # It waited for the reader (which left 2 s after that message) and then loaded it all.
    loaded = next(
        entry
        for entry in logs
        if entry.dagster_event is not None
        and entry.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
    )
    assert loaded.timestamp - retried[0].timestamp >= 2
    with duckdb.connect(str(working), read_only=True) as connection:
        leads = connection.execute("select count(*) from raw_salesforce.lead").fetchone()[0]
    assert leads == _csv_rows(small_landing / "salesforce" / "lead") > 0


def test_dbt_waits_out_a_brief_reader_before_it_builds(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The dbt step (one seed, to stay quick) starts dbt only once the reader has gone."""
    from orchestration.definitions import defs

    monkeypatch.setenv(locks.TIMEOUT_ENV, "60")
    working = home / "warehouse.duckdb"
    duckdb.connect(str(working)).close()
    seed = dg.AssetKey(["seeds", "icp_industries"])
    job = defs.resolve_job_def("warehouse_job").get_subset(asset_selection={seed})
    with dg.instance_for_test() as instance:
        reader = _spawn(HOLD_READ_ONLY, str(working), "stdin", env=_env(home), ready="open")
        try:
            watcher = _leave_once_the_run_waits(instance, reader, linger=2)
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            logs = list(instance.all_logs(result.run_id))
            watcher.join(timeout=10)
            assert reader.wait(timeout=10) == 0
        finally:
            _stop(reader)
    assert result.success
    retried = [entry.user_message for entry in logs if "is locked by" in entry.user_message]
    assert retried == [
        f"{working} is locked by {retried[0].split(' is locked by ')[1].split(' (PID')[0]} "
        f"(PID {reader.pid}); retrying for up to 60 s"
    ]
    with duckdb.connect(str(working), read_only=True) as connection:
        rows = connection.execute("select count(*) from seeds.icp_industries").fetchone()[0]
    with (PROJECT_DIR / "seeds" / "icp_industries.csv").open(newline="") as handle:
        assert rows == sum(1 for _ in csv.DictReader(handle)) > 0


def test_a_reader_holding_past_the_bound_fails_the_run_with_one_clear_line(
    home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sros.cli import _working_locked_line

    monkeypatch.setenv(locks.TIMEOUT_ENV, "1")
    working = home / "warehouse.duckdb"
    duckdb.connect(str(working)).close()
    job = _salesforce_ingestion()
    with dg.instance_for_test() as instance:
        reader = _spawn(HOLD_READ_ONLY, str(working), "120", env=_env(home), ready="open")
        try:
            started = time.monotonic()
            result = job.execute_in_process(instance=instance, raise_on_error=False)
            elapsed = time.monotonic() - started
            assert reader.poll() is None  # the reader was there the whole time
        finally:
            _stop(reader)
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["ingest_salesforce"]
    # What `sros run` prints (sros/cli.py) as the run's last line on stderr.
    line = _working_locked_line(failures[0].step_failure_data.error)
    published = home / "published" / "warehouse.duckdb"
    assert re.fullmatch(
        rf"the working warehouse {re.escape(str(working))} is locked by \S*python\S* "
        rf"\(PID {reader.pid}\) and was not released within 1 s \(SROS_LOCK_TIMEOUT\); "
        rf"BI tools must read the published file {re.escape(str(published))}, "
        rf"not the working one",
        line,
    ), line
    assert elapsed < 60
    with duckdb.connect(str(working), read_only=True) as connection:
        tables = connection.execute("select count(*) from information_schema.tables").fetchone()
    assert tables == (0,)  # nothing was loaded


@pytest.fixture(autouse=True)
def _no_lock_left(home: Path) -> Iterator[None]:
    yield
    # Whatever a test did, this process holds no run lock afterwards.
    assert str(home / "run.lock") not in runlock._held
