"""The dbt project as Dagster assets: seeds, staging and marts, with dbt tests as asset
checks. dbt sources map to the raw-table assets of ingestion by their [source, table] key."""

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from functools import cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.dbt_project import using_dagster_dev
from packaging import version

from sros import paths
from sros.config import dbt_installation, dbt_target_dir, engine, load_config
from sros.incremental import (
    OutdatedIncrementalTables,
    duckdb_table_columns,
    outdated_incremental_tables,
)
from sros.locks import LockHolder, WorkingFileLocked, lock_holder, retry_on_lock, wait_until_free
from sros.paths import PROJECT_DIR
from sros.seed_state import record_build, unchanged_seeds_arguments
from sros.spark import (
    built_table_columns,
    built_table_partitions,
    export_raw_tables,
    import_built_tables,
    raw_root,
    source_tables,
)

# dbt-duckdb's connect retries (profiles.yml: retries.connect_attempts 6) wait 1+2+4+8+16 s.
DBT_CONNECT_WAIT_SECONDS = 31
# The dbt installed beside this Python, so the venv need not be on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

_DBT_SOURCES = ("dbt_project.yml", "models", "seeds", "macros", "tests/dbt")
# dbt build folders (compiled SQL, run_results.json, dbt.log) kept per installation.
BUILDS_KEPT = 5


# The dbt vars of the installation's sros.yml (sros/config.py) and its mapping seeds
# (sros/paths.py mappings_dir) go to every dbt command, the parse included: a system switched
# off there is absent from the manifest, so from the assets. Each distinct pair has its own
# parsed manifest (sros/config.py dbt_target_dir), shared by the installations that have the
# same pair: two installations with different settings never parse into one another's
# manifest, and a `dbt parse` run by hand (into target/) never replaces it.
_TARGET = dbt_target_dir()
# The output of profiles.yml dbt builds on: duckdb, or spark (SROS_ENGINE, sros/config.py).
ENGINE = engine()
DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR, target_path=_TARGET)


def _manifest_is_stale() -> bool:
    """True when the manifest is missing, cut short, or older than any file of the dbt project
    or mapping seed.

    dbt writes manifest.json in place: a parse killed while writing it leaves a truncated file,
    newer than every source, that would otherwise break every later load of these definitions.
    """
    if not DBT_PROJECT.manifest_path.exists():
        return True
    parsed_at = DBT_PROJECT.manifest_path.stat().st_mtime
    for path in [PROJECT_DIR / name for name in _DBT_SOURCES] + [paths.mappings_dir()]:
        files = [path] if path.is_file() else path.rglob("*")
        if any(file.stat().st_mtime > parsed_at for file in files if file.is_file()):
            return True
    try:
        json.loads(DBT_PROJECT.manifest_path.read_bytes())
    except ValueError:  # cut short (JSONDecodeError, UnicodeDecodeError)
        return True
    return False


def _parse_when_stale() -> None:
    """Parse when the manifest is missing or stale (a model was added or changed), and always
    under `dagster dev`, so the assets always match the project on disk. One process parses a
    target at a time (an flock beside it); the others wait and then find it fresh."""
    _TARGET.mkdir(parents=True, exist_ok=True)
    with open(_TARGET.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (using_dagster_dev() or _manifest_is_stale()):
            return
        subprocess.run(
            [
                DBT_EXECUTABLE,
                "parse",
                "--quiet",
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(_TARGET),
                "--target",
                ENGINE,
                *load_config().dbt_args(),
            ],
            cwd=PROJECT_DIR,
            env=paths.dbt_environment(),
            check=True,
        )
        (_TARGET / "sros_installation.json").write_text(dbt_installation())


_parse_when_stale()


def _build_target(context: dg.AssetExecutionContext) -> Path:
    """A new folder for this build under the installation's $SROS_HOME/dbt_builds, after
    removing all but the latest BUILDS_KEPT - 1 older ones."""
    builds = paths.dbt_builds_dir()
    builds.mkdir(parents=True, exist_ok=True)
    older = sorted(builds.iterdir(), key=lambda folder: folder.stat().st_mtime)
    for folder in older[: max(0, len(older) - (BUILDS_KEPT - 1))]:
        shutil.rmtree(folder, ignore_errors=True)
    started = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = builds / f"{started}-{context.run.run_id[:8]}"
    # dbt parses again in every new target folder unless it finds there the partial-parse
    # state of a parse with the same vars and profile (the warehouse path): the manifest's
    # (a full parse takes ~20 s). It helps when this installation made that parse; another
    # installation with the same vars has another warehouse path, and dbt parses in full.
    target.mkdir()
    parsed = _TARGET / "partial_parse.msgpack"
    if parsed.exists():
        shutil.copy(parsed, target / parsed.name)
    return target


class SrosDbtTranslator(DagsterDbtTranslator):
    """Asset groups follow the dbt folders: seeds, staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=SrosDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def sros_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """`dbt build` of the selected models, seeds and their tests.

    dbt opens the working warehouse read-write in its own process. It starts once no other
    process has the file (a BI tool that opened it instead of the published copy), waiting up
    to SROS_LOCK_TIMEOUT (sros/locks.py); it then keeps it open for the whole build
    (`keep_open` in profiles.yml) and retries its own connect (`retries`) should a reader slip
    in between. A lock that outlasts both fails the step with one line naming the process.

    On the spark engine (SROS_ENGINE) the build runs on the local Spark session between a
    hand-over of the raw tables and a copy of Spark's tables back into the working warehouse
    (the two functions below), so the steps after this one read the same file either way.
    """
    working = paths.warehouse_path()
    wait_until_free(working, notify=context.log.warning)
    _refuse_outdated_incremental_tables(working, context)
    os.environ["SROS_MAPPINGS_DIR"] = paths.mappings_seed_path()  # a seed path of dbt_project
    os.environ["SROS_MAPPINGS_FILE_DIR"] = str(paths.mappings_dir())  # named by a failure
    # dbt's unit tests check the SQL against fixed inputs, so they belong to CI (they run in
    # the test suite's builds, tests/test_dbt_unit_tests.py), not to every production run.
    arguments = ["build", "--exclude-resource-type", "unit_test", *load_config().dbt_args()]
    # A build of every asset leaves out the seeds unchanged since the last such build, and the
    # tests of nothing else, when the working warehouse records that build (sros/seed_state.py).
    whole = ENGINE == "duckdb" and not context.is_subset
    if whole:
        skip = unchanged_seeds_arguments(working)
        if skip:
            context.log.info(f"seeds unchanged since the build in {skip[-1]} are not loaded again")
        arguments += skip
    target_path = _build_target(context)
    if ENGINE == "spark":
        _hand_raw_tables_to_spark(context, target_path)
    invocation = dbt.cli(arguments, context=context, raise_on_error=False, target_path=target_path)
    yield from invocation.stream()
    if ENGINE == "spark" and invocation.is_successful():
        _copy_spark_tables_to_working(context)
    if whole and invocation.is_successful():
        try:
            record_build(working, invocation.target_path)
        except duckdb.IOException as error:  # the next build then loads every seed
            context.log.warning(f"the build was not recorded for the next one: {error}")
    if not invocation.is_successful():
        holder = _lock_conflict(invocation.target_path)
        if holder is not None:
            raise WorkingFileLocked(holder, DBT_CONNECT_WAIT_SECONDS, "retries in profiles.yml")
        error = invocation.get_error()
        if error is not None:
            raise error


def _refuse_outdated_incremental_tables(working: Path, context: dg.AssetExecutionContext) -> None:
    """Stop before dbt starts when the engine's tables hold an incremental table an older
    SROS built, with the command that rebuilds it (sros/incremental.py): the working
    warehouse's on DuckDB, the local session's Parquet files on Spark (read without starting
    Spark; there a table must also be partitioned as its model says). A new warehouse has
    none."""
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    if ENGINE == "spark":
        tables = outdated_incremental_tables(
            manifest, built_table_columns(), built_table_partitions()
        )
    elif working.exists():

        def outdated() -> list:
            with duckdb.connect(str(working), read_only=True) as connection:
                return outdated_incremental_tables(manifest, duckdb_table_columns(connection))

        tables = retry_on_lock(outdated, notify=context.log.warning)
    else:
        tables = []
    if tables:
        raise OutdatedIncrementalTables(tables, target=ENGINE)


def _dbt_step(arguments: list[str], target_path: Path) -> None:
    """A dbt command of the Spark hand-over, its output in <target_path>/dbt.log; a failure
    raises with the end of that output."""
    completed = subprocess.run(
        [
            DBT_EXECUTABLE,
            *arguments,
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(target_path),
            *load_config().dbt_args(),
        ],
        cwd=PROJECT_DIR,
        env=paths.dbt_environment(),
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"dbt {' '.join(arguments[:2])} failed:\n{completed.stdout[-3000:]}"
            f"{completed.stderr[-2000:]}"
        )


def _hand_raw_tables_to_spark(context: dg.AssetExecutionContext, target_path: Path) -> None:
    """The Spark engine reads the raw tables ingestion wrote to the working warehouse as
    Parquet (sros/spark.py), registered as tables in its catalog."""
    written = export_raw_tables(
        paths.warehouse_path(), source_tables(DBT_PROJECT.manifest_path), raw_root()
    )
    context.log.info(f"{len(written)} raw tables ({sum(written.values())} rows) -> {raw_root()}")
    _dbt_step(
        [
            "run-operation",
            "register_parquet_sources",
            "--args",
            json.dumps({"root": str(raw_root())}),
            "--target",
            "spark",
        ],
        target_path / "register",
    )


def _copy_spark_tables_to_working(context: dg.AssetExecutionContext) -> None:
    """After a Spark build: the tables it wrote (seeds and every model) replace their
    namesakes in the working warehouse, so the expectations, the completeness check,
    publication and the exports read Spark's numbers as they read DuckDB's."""
    copied = import_built_tables(DBT_PROJECT.manifest_path, paths.warehouse_path())
    context.log.info(f"{len(copied)} tables built on Spark copied to {paths.warehouse_path()}")


def _lock_conflict(target_path: Path) -> LockHolder | None:
    """The process named by a DuckDB lock conflict in this dbt invocation's log, if any."""
    log = target_path / "dbt.log"
    if not log.exists():
        return None
    with log.open(errors="replace") as lines:
        for line in lines:
            holder = lock_holder(line)
            if holder is not None:
                return holder
    return None


class SrosDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, told dbt's version instead of asking it.

    dagster-dbt runs `dbt --version` once per process, to tell dbt-core from the Fusion engine.
    That subprocess took 8.4 s of every run on the reference machine: dbt's CLI imports, then
    one request to PyPI per installed dbt package for its latest version (a run should not
    call the internet; offline, each waits out its 1 s timeout). DBT_EXECUTABLE is the
    dbt-core of this Python's environment (requirements/main.lock), so its version is that
    package's (tests/test_orchestration.py checks that no `dbt --version` runs)."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(metadata.version("dbt-core"))


def dbt_resource() -> DbtCliResource:
    return SrosDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE, target=ENGINE)
