"""The `sros` command: run the warehouse jobs without opening the Dagster UI.

    sros init                          write $SROS_HOME/sros.yml and create the pseudonym key
    sros demo [--leads N] [--seed S] [--wait]
                                       generate the demo company, ingest it, dbt build
    sros run [--wait]                  ingest what is in the landing zone, dbt build
    sros generate --out DIR [...]      only write a demo company's landing files
    sros report                        row counts and quarantine per raw table
    sros validate                      run the Great Expectations suites on the warehouse
    sros mappings [--wait]             list CRM values missing from the mapping seeds and
                                       write the rows to fill in to $SROS_HOME/mappings_to_fill/
                                       (filled rows go to your copy, $SROS_HOME/mappings/)
    sros export                        write the finance export files from the published
                                       warehouse into $SROS_HOME/exports/<as-of date>/
    sros dbt <dbt arguments>           dbt in the project, with this installation's settings
                                       (sros.yml vars, mapping seeds), e.g. sros dbt build -s x
    sros dbt-vars                      print sros.yml's dbt vars, for dbt --vars "$(...)"

Runs go through the same Dagster jobs as the UI and the schedule, and are recorded in
$DAGSTER_HOME (default var/dagster), so `dagster dev` shows them afterwards.

`sros run` and `sros demo` print one line per stage and write the whole log (every Dagster
event, dbt's output) to $SROS_HOME/logs/<UTC start>-<job>-<run id>.log, named at the end;
-v/--verbose prints the whole log on the terminal as well.

Misuse fails at once, before Dagster or dbt start, with one line on stderr and status 2: a
SROS_HOME that is a file, cannot be written or (for `sros run`) does not exist; `sros run` with
no landing file and no warehouse yet (with a warehouse, nothing new to load is fine: the run
rebuilds it); no pseudonym key or an unreadable sros.yml; a demo too small to build.

One run at a time (sros/runlock.py): `sros run` and `sros demo` take $SROS_HOME/run.lock
before anything else; while another run holds it they say who in one line and exit with
status 75, or with --wait wait for it. A brief lock on the working warehouse by another
process (a BI tool that opened it instead of the published file) is waited out for up to
SROS_LOCK_TIMEOUT seconds (default 30; sros/locks.py).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from sros import paths, runlock

EXIT_RUN_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later (or --wait)
EXIT_MISUSE = 2  # as argparse: the command cannot work as given; the line says what to do


def _dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.home_dir() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    return home


def _run_job(job_name: str, run_config: dict, *, verbose: bool) -> tuple[bool, Path]:
    """Run the job in this process; (success, its log file). One line per stage goes to the
    terminal; every Dagster event and dbt's output to the log file (orchestration/defs/run_log.py),
    and with `verbose` also to the terminal."""
    _dagster_home()
    import uuid

    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.run_log import LOGGER_KEY, progress_to

    run_id = str(uuid.uuid4())
    started = datetime.now(UTC)
    log_path = paths.logs_dir() / f"{started:%Y%m%dT%H%M%SZ}-{job_name}-{run_id[:8]}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    loggers = {LOGGER_KEY: {"config": {"path": str(log_path), "progress": True}}}
    if verbose:
        loggers["console"] = {"config": {"log_level": "DEBUG"}}
    job = defs.resolve_job_def(job_name)
    with (
        _output_to(None if verbose else log_path) as terminal,
        progress_to(run_id, terminal),
        dg.DagsterInstance.get() as instance,
    ):
        result = job.execute_in_process(
            run_config={**run_config, "loggers": loggers},
            instance=instance,
            run_id=run_id,
            raise_on_error=False,
        )
    print(f"{'done' if result.success else 'failed'} in {_elapsed(started)}")
    failed_checks = [
        event.asset_check_evaluation_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
        and not event.asset_check_evaluation_data.passed
        and event.asset_check_evaluation_data.severity.value == "ERROR"
    ]
    for evaluation in failed_checks:
        print(
            f"check failed: {evaluation.asset_key.to_user_string()} {evaluation.check_name}",
            file=sys.stderr,
        )
        failures = evaluation.metadata.get("failures")
        if failures is not None and failures.value:
            print(failures.value, file=sys.stderr)
    for event in result.all_events:
        if event.is_step_failure:
            error = event.step_failure_data.error
            line = _working_locked_line(error) or _step_failure_line(event.step_key, error)
            print(line, file=sys.stderr)
            for row in _failed_test_rows(error, log_path):
                print(f"  {row}", file=sys.stderr)
    return result.success and not failed_checks, log_path


ROWS_SHOWN_PER_TEST = 5


def _failed_test_rows(error: Any, log_path: Path) -> list[str]:
    """The rows of the dbt tests that failed in this step, as the on-run-end hook
    log_test_failures logged them (`<test>: <problem>`), up to ROWS_SHOWN_PER_TEST each: the
    unmapped value or the offending record itself, not only the test's name."""
    while error.cause is not None:
        error = error.cause
    failed = set(_DBT_TEST_FAILED.findall(_ANSI.sub("", error.message)))
    if not failed or not log_path.exists():
        return []
    shown: dict[str, list[str]] = {name: [] for name in failed}
    with log_path.open(errors="replace") as lines:
        for line in lines:
            name, _, problem = line.partition(": ")
            if name in shown and problem and len(shown[name]) < ROWS_SHOWN_PER_TEST:
                shown[name].append(f"{name}: {problem.strip()}")
    return [row for rows in shown.values() for row in rows]


def _elapsed(started: datetime) -> str:
    seconds = round((datetime.now(UTC) - started).total_seconds())
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


@contextmanager
def _output_to(log_path: Path | None) -> Iterator[IO[str]]:
    """While the block runs, send this process's stdout and stderr (file descriptors 1 and 2:
    dbt's output, which dagster-dbt writes to stdout, Dagster's compute-log mirror, library
    warnings) to the end of `log_path`; yield a stream to the terminal's stdout. With no
    `log_path`, nothing is redirected."""
    if log_path is None:
        yield sys.stdout
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    terminal = os.fdopen(os.dup(saved[1]), "w", buffering=1)
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for fd in saved:
            os.dup2(log, fd)
        yield terminal
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, original in saved.items():
            os.dup2(original, fd)
            os.close(original)
        os.close(log)
        terminal.close()


def _step_failure_line(step_key: str, error: Any) -> str:  # dagster SerializableErrorInfo
    """One line for a failed step: its root error's first line (for dbt, the first node that
    failed, and how many more)."""
    from orchestration.defs.run_log import stage_of

    while error.cause is not None:  # Dagster wraps what the step raised
        error = error.cause
    lines = [_ANSI.sub("", line).strip() for line in error.message.splitlines()]
    lines = [line for line in lines if line]
    failed_nodes = [line for line in lines if _DBT_NODE_FAILED.match(line)]
    if failed_nodes:
        more = f" (and {len(failed_nodes) - 1} more)" if len(failed_nodes) > 1 else ""
        return f"{stage_of(step_key)} failed: {failed_nodes[0]}{more}"
    first = lines[0] if lines else ""
    # Dagster's message of a raised exception starts with its qualified class name
    first = re.sub(rf"^(?:[\w.]+\.)?{re.escape(error.cls_name)}: ", "", first)
    return f"{stage_of(step_key)} failed: {error.cls_name}: {first}"


_DBT_NODE_FAILED = re.compile(r"\d+ of \d+ (ERROR|FAIL)\b")
_DBT_TEST_FAILED = re.compile(r"\d+ of \d+ FAIL \d+ (\w+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _working_locked_line(error: Any) -> str | None:  # dagster SerializableErrorInfo
    """The one-line message of a step that failed because another process kept the working
    warehouse locked (sros.locks.WorkingFileLocked), from the step's error chain."""
    while error is not None:
        if error.cls_name == "WorkingFileLocked":
            return error.message.strip().split(": ", 1)[-1]
        error = error.cause
    return None


def _report(*, summary: bool = False) -> int:
    """Rows per raw table (read, loaded, quarantined, deleted) and the refused files. With
    `summary` (after a run): the totals in one line and only the tables with quarantined rows."""
    from sros import locks
    from sros.contracts import load_contracts
    from sros.ingest.pipeline import LANDING_ROOT_DATASET, LOAD_REPORT_TABLE

    warehouse = paths.warehouse_path()
    if not warehouse.exists():
        print(f"no warehouse at {warehouse}; run `sros demo` or `sros run` first", file=sys.stderr)
        return 1
    try:
        connection = locks.connect(warehouse, read_only=True)
    except locks.WorkingFileLocked as error:
        print(error, file=sys.stderr)
        return 1
    with connection:
        existing = set(
            connection.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
            ).fetchall()
        )
        header = (
            f"{'raw table':<40} {'rows':>9} {'read':>9} {'loaded':>9} {'quarantined':>11} "
            f"{'deleted':>8}"
        )
        lines, totals = [], [0, 0, 0, 0, 0]
        schemas_with_reports = set()
        for contract in load_contracts().values():
            table = f"{contract.schema}.{contract.name}"
            rows = (
                connection.execute(
                    f'select count(*) from {contract.schema}."{contract.name}"'
                ).fetchone()[0]
                if (table,) in existing
                else 0
            )
            read = loaded = quarantined = deleted = 0
            report = f"{contract.schema}.{LOAD_REPORT_TABLE}"
            if (report,) in existing:
                schemas_with_reports.add(contract.schema)
                read, loaded, quarantined, deleted = connection.execute(
                    f"select coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0), "
                    f"coalesce(sum(rows_quarantined), 0), coalesce(sum(rows_deleted), 0) "
                    f"from {report} where table_name = ? and status <> 'refused'",
                    [contract.name],
                ).fetchone()
            counts = (rows, read, loaded, quarantined, deleted)
            totals = [total + count for total, count in zip(totals, counts, strict=True)]
            if quarantined or not summary:
                lines.append(
                    f"{table:<40} "
                    + " ".join(f"{n:>{w}}" for n, w in zip(counts, (9, 9, 9, 11, 8), strict=True))
                )
        # Files no table read: refused with a reason (sros/ingest/pipeline.py).
        refused = []
        for schema in sorted(schemas_with_reports | {LANDING_ROOT_DATASET}):
            if (f"{schema}.{LOAD_REPORT_TABLE}",) in existing:
                refused += connection.execute(
                    f"select source_file, reason from {schema}.{LOAD_REPORT_TABLE} "
                    "where status = 'refused' order by source_file"
                ).fetchall()
        if summary:
            rows, read, loaded, quarantined, deleted = totals
            print(
                f"raw tables: {rows:,} rows; files read {read:,}, loaded {loaded:,}, "
                f"quarantined {quarantined:,}, deleted {deleted:,} (per table: `sros report`)"
            )
        if lines:
            print(header, *lines, sep="\n")
        for line in _quarantine_examples(connection, existing, sorted(schemas_with_reports)):
            print(line)
        for source_file, reason in refused:
            print(f"refused: {source_file}: {reason}")
    return 0


QUARANTINE_EXAMPLES = 5  # quarantined rows `sros run` and `sros report` print


def _quarantine_examples(connection: Any, existing: set, schemas: list[str]) -> list[str]:
    """The first quarantined rows, one per file, column and reason (file, record, column,
    value, reason, and how many more alike), and where all of them are: a count alone does
    not say what to fix."""
    from sros.ingest.pipeline import QUARANTINE_TABLE

    tables = [
        f"{schema}.{QUARANTINE_TABLE}"
        for schema in schemas
        if (f"{schema}.{QUARANTINE_TABLE}",) in existing
    ]
    if not tables:
        return []
    rows = connection.execute(
        "select quarantine_table, source_file, min(row_number), column_name, "
        "arg_min(value, row_number), reason, count(*) from ("
        + " union all ".join(
            f"select '{table}' as quarantine_table, source_file, row_number, column_name, "
            f"value, reason from {table}"
            for table in tables
        )
        + ") group by quarantine_table, source_file, column_name, reason order by 2, 3"
    ).fetchall()
    if not rows:
        return []
    where = sorted({row[0] for row in rows})
    lines = [
        "quarantined, e.g. (record = its number in the file, the header not counted; every "
        f"quarantined record, with its original text, is in {', '.join(where)}):"
    ]
    for _, source_file, record, column, value, reason, alike in rows[:QUARANTINE_EXAMPLES]:
        shown = "" if value is None else f" = {value[:60]!r}" + ("..." if len(value) > 60 else "")
        field = f", {column}{shown}" if column else ""
        more = f" (and {alike - 1:,} more like it)" if alike > 1 else ""
        lines.append(f"  {source_file} record {record}{field}: {reason}{more}")
    return lines


def _validate() -> int:
    """Run every expectation suite on the working warehouse (SROS_ENGINE: the DuckDB file or
    Spark's tables); 1 when a blocking one fails."""
    from sros.config import engine
    from sros.spark import tables_root

    on_spark = engine() == "spark"
    warehouse = tables_root() if on_spark else paths.warehouse_path()
    if not warehouse.exists():  # said before importing Great Expectations (half a minute)
        print(
            f"no warehouse at {warehouse}: build it first (`sros run{' --engine spark' * on_spark}`"
            ", or `sros demo` for a demo company)",
            file=sys.stderr,
        )
        return 1
    from expectations import SUITES
    from expectations.runner import SparkValidationFailed, validate
    from sros.locks import WorkingFileLocked, retry_on_lock

    try:
        outcomes = retry_on_lock(
            lambda: validate(SUITES, paths.warehouse_path(), paths.gx_dir(), engine=engine()),
            notify=lambda line: print(line, file=sys.stderr),
        )
    except (FileNotFoundError, WorkingFileLocked, SparkValidationFailed) as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{'suite':<42} {'mart':<32} {'expectations':>12} {'failed':>7}")
    for outcome in outcomes:
        failed = len(outcome.failures)
        print(
            f"{outcome.suite.name:<42} {outcome.suite.mart:<32} "
            f"{len(outcome.expectations):>12} {failed:>7}"
        )
    for outcome in outcomes:
        if outcome.failures:
            print(outcome.summary(), file=sys.stderr)
    print(f"\nData Docs: {paths.data_docs_index()}")
    return 1 if any(outcome.blocking_failures for outcome in outcomes) else 0


def _mappings() -> int:
    """Map this installation's CRM values (sros/mappings.py); 1 while any is unmapped."""
    from sros.mappings import (
        MappingsError,
        apply_filled_rows,
        find_unmapped,
        installation_copy,
        mappings_target_dir,
        write_fill_in_files,
    )

    warehouse = paths.warehouse_path()
    if not warehouse.exists():
        print(
            f"no warehouse at {warehouse}: run `sros run` first (it ingests the landing zone)",
            file=sys.stderr,
        )
        return 1
    seeds, to_fill = paths.installation_mappings_dir(), paths.home_dir() / "mappings_to_fill"
    for path in installation_copy(seeds):
        print(f"{path}: your copy of the repository's mapping seed (dbt reads it from now on)")
    try:
        for seed, rows in apply_filled_rows(to_fill, seeds).items():
            print(f"{seeds / (seed + '.csv')}: {rows} filled row(s) added from {to_fill}")
        unmapped = find_unmapped(warehouse, mappings_target_dir())
    except MappingsError as error:
        print(error, file=sys.stderr)
        return 1
    files = write_fill_in_files(unmapped, to_fill, seeds)
    if not unmapped:
        print(f"every CRM value is mapped (mapping seeds: {seeds})")
        return 0
    print(f"{'seed':<24} {'value':<48} {'rows':>8}  seen in")
    for item in unmapped:
        value = ", ".join(f"{column}={text}" for column, text in item.key.items())
        print(f"{item.seed:<24} {value:<48} {item.rows_seen:>8}  {item.seen_in}")
    print()
    for path in files:
        print(
            f"{path}: fill in the blank columns, then run `sros mappings` again: it moves "
            f"the filled rows into {seeds / path.name}"
        )
    return 1


def _export() -> int:
    """The finance export files from the published warehouse, as the Dagster asset writes them."""
    published = paths.published_path()
    if not published.exists():  # said before loading the dbt definitions
        print(
            f"no published warehouse at {published}: run a build (`sros run`) first; nothing "
            "is exported from an unpublished build",
            file=sys.stderr,
        )
        return 1
    # Importing the dbt definitions re-parses the project when the manifest is stale, so the
    # exported tables and their definitions are the ones of the dbt project on disk.
    from orchestration.defs.dbt import DBT_PROJECT
    from sros.exports import ExportError, export_finance_tables, export_tables

    try:
        tables = export_tables(DBT_PROJECT.manifest_path)
        result = export_finance_tables(paths.published_path(), paths.exports_dir(), tables)
    except ExportError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"as of {result.as_of_date}: {len(tables)} tables in {result.seconds:.1f} s")
    for table, rows in result.rows.items():
        print(f"  {table:<40} {rows:>10} rows")
    for path in result.files:
        print(f"{path}  ({path.stat().st_size:,} bytes)")
    return 0


def _print_locations(ok: bool, log_path: Path) -> None:
    print(f"\nworking warehouse: {paths.warehouse_path()}")
    print(f"expectation results (Data Docs): {paths.data_docs_index()}")
    published = paths.published_path()
    if ok:
        print(f"published for BI: {published}")
        print(f"finance export files: {paths.exports_dir()}/<as-of date>/")
    else:
        print(f"the run failed: nothing was published; BI still reads {published}")
    print(f"full log: {log_path}")


# --- misuse: one line, before anything starts -----------------------------------------------


def _home_problem(command: str) -> str | None:
    """What is wrong with SROS_HOME for `command`, in one line; None when it can be used."""
    home = paths.home_dir()
    if home.exists() and not home.is_dir():
        return (
            f"SROS_HOME {home} is a file, not a folder: set SROS_HOME to a folder (it holds the "
            "landing zone, the warehouse and the logs)"
        )
    existing = next(folder for folder in (home, *home.parents) if folder.exists())
    if not existing.is_dir():
        return (
            f"SROS_HOME {home} cannot be created: {existing} is a file; set SROS_HOME to a folder"
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        return (
            f"SROS_HOME {home} is not writable by this user ({existing} is not): set SROS_HOME to "
            "a folder you can write, or fix its permissions"
        )
    if command in ("run", "mappings") and not home.exists():
        return (
            f"SROS_HOME {home} does not exist: check it for a typo, or create an installation "
            "there with `sros init` (or try everything on a demo company with `sros demo`)"
        )
    return None


def _engine_problem() -> str | None:
    """An unknown SROS_ENGINE, in one line (the Dagster definitions read it)."""
    from sros.config import ConfigError, engine

    try:
        engine()
    except ConfigError as error:
        return _one_line(error)
    return None


def _environment_problem() -> str | None:
    """A malformed SROS_* setting the run reads (memory, threads, lock wait), in one line."""
    from sros.config import ConfigError, check_environment

    try:
        check_environment()
    except ConfigError as error:
        return _one_line(error)
    return None


def _setup_problem(command: str) -> str | None:
    """An unreadable sros.yml, or (for a run) a missing or unsafe pseudonym key, in one line."""
    from sros.config import ConfigError, load_config, pseudonym_key

    try:
        pseudonym_key() if command == "run" else load_config()
    except ConfigError as error:
        return _one_line(error)
    return None


# dbt commands that write to the warehouse: `sros dbt` takes the run lock for them.
DBT_WRITING_COMMANDS = ("build", "run", "seed", "snapshot", "test", "run-operation")


def _dbt(arguments: list[str]) -> int:
    """dbt in the project with this installation's settings: its sros.yml dbt vars (unless
    the arguments give --vars) and its mapping seeds (SROS_MAPPINGS_DIR)."""
    import subprocess

    from sros.config import load_config

    extra = [] if "--vars" in arguments else load_config().dbt_args()
    if "--profiles-dir" not in arguments:
        extra += ["--profiles-dir", str(paths.PROJECT_DIR)]
    executable = str(Path(sys.executable).parent / "dbt")
    command = [executable, *arguments, *extra] if arguments else [executable, "--help"]
    completed = subprocess.run(command, cwd=paths.PROJECT_DIR, env=paths.dbt_environment())
    return completed.returncode


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split())  # a YAML error spans lines


def _demo_problem() -> str | None:
    """What `sros demo` must not do: replace files in the landing zone that are not a demo
    company's. The generator empties the landing zone's table folders before it writes, so a
    home whose landing zone holds a CRM's own exports (no demo manifest) would lose them."""
    from sros.demo_company import landed_company
    from sros.ingest.pipeline import GENERATOR_FILES, list_files

    landing = paths.landing_dir()
    if landed_company(landing) is not None:
        return None  # a demo company's landing zone: the demo replaces its own files
    files = [file.relative for file in list_files(landing, landing)]
    others = [relative for relative in files if relative not in GENERATOR_FILES]
    if not others:
        return None
    more = f" and {len(others) - 1:,} more" if len(others) > 1 else ""
    return (
        f"the landing zone {landing} holds files that are not a demo company's "
        f"({others[0]}{more}), which `sros demo` would replace: move them, or set SROS_HOME "
        "(or SROS_LANDING_DIR) to another folder for the demo"
    )


def _landing_problem() -> str | None:
    """Nothing `sros run` could load: no landing file a table reads that holds a row, and no
    warehouse yet. With a warehouse, an empty landing zone is fine (nothing new to load; the
    run rebuilds), but not a SROS_LANDING_DIR that does not exist: a typo there would
    rebuild and publish yesterday's data as if nothing had arrived."""
    from sros.contracts import load_contracts

    landing = paths.landing_dir()
    if paths.warehouse_path().exists():
        if os.environ.get("SROS_LANDING_DIR") and not landing.is_dir():
            return (
                f"SROS_LANDING_DIR is {landing}, which is not a folder: check it for a typo "
                "(with nothing new to load, unset it)"
            )
        return None
    landings = sorted(contract.landing for contract in load_contracts().values())
    example = "salesforce/opportunity" if "salesforce/opportunity" in landings else landings[0]
    what_to_do = (
        f"put the CRM exports under {landing}/<source>/<table>/ (e.g. {example}/), set "
        "SROS_LANDING_DIR or SROS_HOME to where they are, or try `sros demo`"
    )
    if not landing.is_dir():
        return f"no landing zone at {landing} and no warehouse yet: {what_to_do}"
    from sros.contracts import contracts_for
    from sros.ingest.pipeline import list_files, refusal, root_refusal, source_folders

    known = source_folders()
    refused = []
    empty = []
    for file in list_files(landing, landing):
        reason = root_refusal(file.relative, known)
        if reason is None and "/" in file.relative:  # in a source's folder
            reason = refusal(file.relative, contracts_for(known[file.relative.split("/")[0]]))
            if reason is None:
                if _holds_a_row(file.path):
                    return None  # a file a table reads, with something to load
                empty.append(file.relative)
                continue
        if reason is not None:
            refused.append((file.relative, reason[1]))
    if empty:
        return (
            f"no landing file with a row in {landing} and no warehouse yet: {len(empty)} "
            f"file(s) hold no data row (empty, or a header only), e.g. {empty[0]}: {what_to_do}"
        )
    if not refused:
        return f"no landing file in {landing} and no warehouse yet: {what_to_do}"
    relative, reason = refused[0]
    return (
        f"no landing file a table reads in {landing} and no warehouse yet: {len(refused)} "
        f"file(s) would be refused, e.g. {relative}: {reason}"
    )


def _holds_a_row(path: Path) -> bool:
    """False for an empty file and for a CSV (plain or gzip) of a header line only. Parquet:
    any file that is not empty (its rows are counted when it is read)."""
    import gzip

    if path.stat().st_size == 0:
        return False
    name = path.name.lower()
    if not name.endswith((".csv", ".csv.gz")):
        return True
    opener = gzip.open if name.endswith(".gz") else open
    try:
        with opener(path, "rb") as handle:
            lines = (line for line in handle if line.strip())
            return next(lines, None) is not None and next(lines, None) is not None
    except (OSError, EOFError):  # a broken gzip: the run reports it, file by file
        return True


def _whole_number(text: str) -> int:
    try:
        return int(text.replace(",", "").replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of leads") from None


def _demo_leads(text: str) -> int:
    """--leads of `sros demo`: an integer of at least MIN_DEMO_LEADS (see its comment)."""
    from sros.demo_company.config import MIN_DEMO_LEADS

    leads = _whole_number(text)
    if leads < MIN_DEMO_LEADS:
        raise argparse.ArgumentTypeError(
            f"{leads} is too small: the demo company needs at least {MIN_DEMO_LEADS:,} leads "
            "to fill every table it builds"
        )
    return leads


def _generator_leads(text: str) -> int:
    """--leads of `sros generate`: an integer of at least the generator's MIN_LEADS."""
    from sros.demo_company.config import MIN_LEADS

    leads = _whole_number(text)
    if leads < MIN_LEADS:
        raise argparse.ArgumentTypeError(
            f"{leads} is too small: the generator makes companies of at least {MIN_LEADS} leads"
        )
    return leads


WAIT_HELP = "if another SROS run holds the run lock, wait for it to finish instead of exiting"
VERBOSE_HELP = "also print the whole log (every Dagster event, dbt's output) on the terminal"
ENGINE_HELP = (
    "the engine dbt builds on: duckdb (default) or spark, a local Spark session "
    "(sets SROS_ENGINE; see the README's Spark section)"
)


def main(argv: list[str] | None = None) -> int:
    from sros.config import ENGINES

    paths.protect_private_files()  # owner-only files: raw personal data, the pseudonym key
    parser = argparse.ArgumentParser(
        prog="sros",
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n")[-1].strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser(
        "init", help="write a commented $SROS_HOME/sros.yml and create the pseudonym key"
    )
    demo = commands.add_parser(
        "demo",
        help="generate the demo company, ingest it, dbt build (--wait: queue behind a run)",
    )
    demo.add_argument("--leads", type=_demo_leads, default=10_000, help="scale (default 10,000)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--wait", action="store_true", help=WAIT_HELP)
    demo.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    demo.add_argument("--engine", choices=ENGINES, default=None, help=ENGINE_HELP)

    run = commands.add_parser(
        "run", help="ingest the landing zone and dbt build (--wait: queue behind a run)"
    )
    run.add_argument("--wait", action="store_true", help=WAIT_HELP)
    run.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    run.add_argument("--engine", choices=ENGINES, default=None, help=ENGINE_HELP)
    commands.add_parser("report", help="row counts and quarantine per raw table")
    validate = commands.add_parser(
        "validate", help="run the Great Expectations suites on the warehouse"
    )
    validate.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="the warehouse the suites read: the DuckDB file (default) or the tables of the "
        "local Spark session (sets SROS_ENGINE)",
    )
    mappings = commands.add_parser(
        "mappings",
        help="list CRM picklist values not in the mapping seeds, with row counts, and write "
        "the rows to fill in to $SROS_HOME/mappings_to_fill/<seed>.csv; run again once "
        "filled: the rows move into your mapping seeds, $SROS_HOME/mappings/<seed>.csv",
    )
    mappings.add_argument("--wait", action="store_true", help=WAIT_HELP)
    commands.add_parser(
        "export",
        help="write the finance export files (CSV, Parquet, XLSX) from the published warehouse",
    )

    dbt = commands.add_parser(
        "dbt",
        help="run dbt in the project with this installation's settings (sros.yml vars, "
        "mapping seeds), e.g. `sros dbt build --select fct_opportunities`",
    )
    dbt.add_argument("dbt_arguments", nargs=argparse.REMAINDER, help="what to pass to dbt")
    commands.add_parser(
        "dbt-vars",
        help="print the dbt vars of $SROS_HOME/sros.yml as JSON, for a plain "
        'dbt command: dbt build --profiles-dir . --vars "$(sros dbt-vars)"',
    )

    generate = commands.add_parser("generate", help="write a demo company's landing files")
    generate.add_argument("--out", type=Path, default=None, help="default: the landing folder")
    generate.add_argument("--leads", type=_generator_leads, default=10_000)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--start", type=date.fromisoformat, default=None)
    generate.add_argument("--end", type=date.fromisoformat, default=None)

    args = parser.parse_args(argv)
    if getattr(args, "engine", None):  # read when the Dagster definitions are imported
        os.environ["SROS_ENGINE"] = args.engine
    problem = _home_problem(args.command) if args.command != "report" else None
    if problem is None and args.command in ("run", "demo", "validate"):
        problem = _engine_problem()
    if problem is None and args.command in ("run", "demo", "validate", "mappings", "dbt"):
        problem = _environment_problem()
    if problem is None and args.command in ("run", "mappings", "dbt", "dbt-vars"):
        problem = _setup_problem(args.command)
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_MISUSE
    writes = args.command == "dbt" and bool(set(args.dbt_arguments) & set(DBT_WRITING_COMMANDS))
    if args.command in ("run", "demo", "mappings") or writes:
        # Before anything else (and before importing Dagster): a second run is turned away at
        # once. The lock is held until the run and its report are done.
        command = "sros " + " ".join(sys.argv[1:] if argv is None else argv)
        try:
            runlock.acquire(command, wait=getattr(args, "wait", False), notify=_say)
        except runlock.RunLockHeld as error:
            print(error, file=sys.stderr)
            return EXIT_RUN_LOCKED
        try:
            # After the lock: a run we waited for may have filled the landing zone.
            problem = None
            if args.command == "run":
                problem = _landing_problem()
            elif args.command == "demo":
                problem = _demo_problem()
            if problem:
                print(problem, file=sys.stderr)
                return EXIT_MISUSE
            return _main(args)
        finally:
            runlock.release()
    return _main(args)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _main(args: argparse.Namespace) -> int:
    if args.command in ("init", "demo"):
        # The demo is one command: it initialises what is missing (nothing is overwritten).
        from sros.config import ConfigError, init

        try:
            lines = init()
        except ConfigError as error:
            print(_one_line(error), file=sys.stderr)
            return EXIT_MISUSE
        for line in lines:
            print(line)
        if args.command == "init":
            return 0
    if args.command == "demo":
        config = {"ops": {"demo_company": {"config": {"n_leads": args.leads, "seed": args.seed}}}}
        ok, log_path = _run_job("demo_job", config, verbose=args.verbose)
        _report(summary=True)
        _print_locations(ok, log_path)
        return 0 if ok else 1
    if args.command == "run":
        ok, log_path = _run_job("warehouse_job", {}, verbose=args.verbose)
        _report(summary=True)
        _print_locations(ok, log_path)
        return 0 if ok else 1
    if args.command == "report":
        return _report()
    if args.command == "validate":
        return _validate()
    if args.command == "mappings":
        return _mappings()
    if args.command == "export":
        return _export()
    if args.command == "dbt":
        return _dbt(args.dbt_arguments)
    if args.command == "dbt-vars":
        from sros.config import load_config

        print(load_config().dbt_vars_json())
        return 0
    if args.command == "generate":
        from sros.demo_company import DemoConfig
        from sros.demo_company import generate as generate_company

        overrides = {"n_leads": args.leads, "seed": args.seed}
        if args.start:
            overrides["start_date"] = args.start
        if args.end:
            overrides["end_date"] = args.end
        manifest = generate_company(DemoConfig(**overrides), args.out or paths.landing_dir())
        files = [entry for path, entry in manifest["files"].items() if path.endswith(".csv")]
        print(f"{len(files)} files, {sum(entry['rows'] for entry in files)} rows")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
