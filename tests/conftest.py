"""Shared test set-up.

Tests never write into the repository's var/: every path a run uses (landing zone,
warehouse, dlt and Dagster state) defaults to a temporary folder for the whole session, and
tests that run a job point SROS_HOME at their own tmp_path.

`built_company` gives a warehouse built from a demo company (generated, ingested, dbt build),
once per (leads, seed) per session, for the tests that compare marts with ground truth.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

_SESSION_HOME = tempfile.mkdtemp(prefix="sros-tests-")
os.environ["SROS_HOME"] = _SESSION_HOME
os.environ["DAGSTER_HOME"] = os.path.join(_SESSION_HOME, "dagster")
os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
for _variable in ("SROS_LANDING_DIR", "SROS_WAREHOUSE_PATH", "SROS_DLT_DIR", "SROS_CONFIG"):
    os.environ.pop(_variable, None)
# dbt's file log (logs/dbt.log, every statement at debug level) is off for every dbt the tests
# start, ~10% of a small build's time (a test shows the dbt output it captured), except in the
# shared companies' builds (`built_company`: <home>/logs/dbt.log).
os.environ["DBT_LOG_LEVEL_FILE"] = "none"
# One pseudonym key for the test run, never the developer's own (~/.config/sros): under
# pytest-xdist the workers share it (the demo companies one worker builds are keyed with it),
# and the first to start creates it under an flock.
_SHARED = Path(tempfile.gettempdir()) / f"sros-tests-{os.environ.get('PYTEST_XDIST_TESTRUNUID')}"
_KEY_HOME = _SHARED if "PYTEST_XDIST_TESTRUNUID" in os.environ else Path(_SESSION_HOME)
_KEY_HOME.mkdir(exist_ok=True)
os.environ["SROS_PSEUDONYM_KEY_FILE"] = str(_KEY_HOME / "secrets" / "pseudonym.key")
from sros.config import init  # noqa: E402  (after the environment is set)

with open(_KEY_HOME / "init.lock", "a") as _lock:
    fcntl.flock(_lock, fcntl.LOCK_EX)
    init()


# (leads, seed) of the company `built_company()` builds when asked for none; its build is the
# one that runs dbt's unit tests.
DEFAULT_COMPANY = (2000, 42)


@dataclass(frozen=True)
class BuiltCompany:
    warehouse: Path
    truth: dict
    dbt_log: str
    target: Path  # dbt's target folder of the build (run_results.json)

    def copy_to(self, folder: Path) -> Path:
        """A copy of the warehouse in `folder`, for a test that changes it. The copy keeps the
        file name: dbt names the database by it in the SQL it runs."""
        copy = folder / self.warehouse.name
        shutil.copy(self.warehouse, copy)
        return copy


def _run_dbt(
    *arguments: str, home: Path, warehouse: Path | None = None, unit_tests: bool = False
) -> subprocess.CompletedProcess:
    """`dbt <arguments>` on the project, with its target folder and (optionally) warehouse
    under `home`; the output is captured for the test's assertion message.

    A `dbt build` leaves out dbt's unit tests (DBT_EXCLUDE_RESOURCE_TYPES, which an explicit
    --exclude-resource-type overrides) unless `unit_tests`: they check the SQL against fixed
    inputs, whatever the warehouse holds, so they run once, in the shared company's build
    (test_dbt_unit_tests.py), and in the builds whose vars or raw columns change the SQL they
    test. That saves ~45 s of a 2-core CI's time per build."""
    env = {**os.environ, "SROS_HOME": str(home)}
    if not unit_tests:
        env["DBT_EXCLUDE_RESOURCE_TYPES"] = "unit_test"
    if warehouse is not None:
        env["SROS_WAREHOUSE_PATH"] = str(warehouse)
    from sros.paths import PROJECT_DIR

    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            *arguments,
            "--profiles-dir",
            ".",
            "--target-path",
            str(home / "target"),
        ],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="session")
def run_dbt() -> Callable[..., subprocess.CompletedProcess]:
    """`run_dbt("build", "--select", "x", home=..., warehouse=...)` -> the finished dbt
    (`unit_tests=True` to run dbt's unit tests in a build too: see _run_dbt)."""
    return _run_dbt


@pytest.fixture(scope="session")
def built_company(
    tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Callable[..., BuiltCompany]:
    """`built_company(leads=2000, seed=42)` -> a warehouse built from that demo company, once
    per (leads, seed) for the whole test run: under pytest-xdist the workers share it (the
    first to ask builds it under an flock, the others wait and read it). Tests read it, or
    change a copy (BuiltCompany.copy_to)."""
    from sros.contracts import source_names
    from sros.demo_company import DemoConfig, generate
    from sros.ingest.pipeline import ingest

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":  # pytest-xdist: the workers' base folders share a parent
        shared = shared.parent
    cache: dict[tuple[int, int], BuiltCompany] = {}

    def build(leads: int = DEFAULT_COMPANY[0], seed: int = DEFAULT_COMPANY[1]) -> BuiltCompany:
        if (leads, seed) in cache:
            return cache[(leads, seed)]
        home = shared / f"company-{leads}-{seed}"
        landing, warehouse = home / "landing", home / "warehouse.duckdb"
        target = home / "target"
        with open(shared / f"company-{leads}-{seed}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (home / "dbt_build.log").exists():
                shutil.rmtree(home, ignore_errors=True)
                generate(DemoConfig(n_leads=leads, seed=seed), landing)
                for source in source_names():
                    ingest(source, landing, warehouse, home / "dlt")
                # the unit tests in the default company's build (test_dbt_unit_tests.py)
                completed = _run_dbt(
                    "build",
                    # its file log at debug level, for the tests that read it (no key leaks)
                    "--log-path",
                    str(home / "logs"),
                    "--log-level-file",
                    "debug",
                    home=home,
                    warehouse=warehouse,
                    unit_tests=(leads, seed) == DEFAULT_COMPANY,
                )
                assert completed.returncode == 0, (
                    completed.stdout[-5000:] + completed.stderr[-2000:]
                )
                (home / "dbt_build.log").write_text(completed.stdout)
        truth = json.loads((landing / "ground_truth.json").read_text())
        dbt_log = (home / "dbt_build.log").read_text()
        cache[(leads, seed)] = BuiltCompany(warehouse, truth, dbt_log, target)
        return cache[(leads, seed)]

    return build


@pytest.fixture
def run_dirs(tmp_path: Path) -> dict[str, Path]:
    """Where one ingestion test's run keeps its landing zone, warehouse and dlt state (the
    keyword arguments of sros.ingest.pipeline.ingest)."""
    return {
        "landing_dir": tmp_path / "landing",
        "warehouse_path": tmp_path / "warehouse.duckdb",
        "dlt_dir": tmp_path / "dlt",
    }


# The longest modules, longest first (minutes in a fresh-clone CI run on 2 cores, 2026-12-01):
# the Spark parity test builds the shared 2000-lead company (`built_company`), then the same
# company on Spark (~20 with the company); the demo job end to end (~9) and the own-CRM
# walkthroughs (~12) build companies of their own, so the other workers start on them rather
# than waiting for the shared company; the build killed midway (~9) then finds it built.
LONGEST_MODULES = ("test_spark_parity", "test_orchestration", "test_own_crm_data", "test_faults")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject.toml): one worker more than the cores this process may use. A
    worker spends part of its time waiting (a JVM or dbt starting, a subprocess's output, a
    test polling a run it will kill), and the extra worker is there to fill those gaps; the
    CI runs measured with two and with three workers are in bench/LOG.md ("CI times").
    PYTEST_XDIST_AUTO_NUM_WORKERS, when set, decides instead (pytest-xdist's own rule)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores this process may run on
        return len(os.sched_getaffinity(0)) + 1
    return (os.cpu_count() or 1) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (LONGEST_MODULES), then the other modules with slow tests
    (marked `slow`: they build whole warehouses) in their order, then the rest: under
    pytest-xdist (`-n auto --dist loadfile`) each worker takes the next module as it frees up,
    so the long runs start at once rather than ending the suite alone on one worker."""
    slow = {item.module.__name__ for item in items if item.get_closest_marker("slow")}

    def rank(item: pytest.Item) -> int:
        name = item.module.__name__
        if name in LONGEST_MODULES:
            return LONGEST_MODULES.index(name)
        return len(LONGEST_MODULES) + (name not in slow)

    items.sort(key=rank)
