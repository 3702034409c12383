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

Runs go through the same Dagster jobs as the UI and the schedule, and are recorded in
$DAGSTER_HOME (default var/dagster), so `dagster dev` shows them afterwards.

One run at a time (sros/runlock.py): `sros run` and `sros demo` take $SROS_HOME/run.lock
before anything else; while another run holds it they say who in one line and exit with
status 75, or with --wait wait for it. A brief lock on the working warehouse by another
process (a BI tool that opened it instead of the published file) is waited out for up to
SROS_LOCK_TIMEOUT seconds (default 30; sros/locks.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

from sros import paths, runlock

EXIT_RUN_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later (or --wait)


def _dagster_home() -> Path:
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(paths.home_dir() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    return home


def _run_job(job_name: str, run_config: dict | None = None) -> bool:
    _dagster_home()
    import dagster as dg

    from orchestration.definitions import defs

    job = defs.resolve_job_def(job_name)
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=run_config or {}, instance=instance, raise_on_error=False
        )
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
            line = _working_locked_line(event.step_failure_data.error)
            if line:
                print(line, file=sys.stderr)
                break
    return result.success and not failed_checks


def _working_locked_line(error: Any) -> str | None:  # dagster SerializableErrorInfo
    """The one-line message of a step that failed because another process kept the working
    warehouse locked (sros.locks.WorkingFileLocked), from the step's error chain."""
    while error is not None:
        if error.cls_name == "WorkingFileLocked":
            return error.message.strip().split(": ", 1)[-1]
        error = error.cause
    return None


def _report() -> int:
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
        print(
            f"{'raw table':<40} {'rows':>9} {'read':>9} {'loaded':>9} {'quarantined':>11} "
            f"{'deleted':>8}"
        )
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
            print(f"{table:<40} {rows:>9} {read:>9} {loaded:>9} {quarantined:>11} {deleted:>8}")
        # Files no table read: refused with a reason (sros/ingest/pipeline.py).
        refused = []
        for schema in sorted(schemas_with_reports | {LANDING_ROOT_DATASET}):
            if (f"{schema}.{LOAD_REPORT_TABLE}",) in existing:
                refused += connection.execute(
                    f"select source_file, reason from {schema}.{LOAD_REPORT_TABLE} "
                    "where status = 'refused' order by source_file"
                ).fetchall()
        for source_file, reason in refused:
            print(f"refused: {source_file}: {reason}")
    return 0


def _validate() -> int:
    """Run every expectation suite on the working warehouse; 1 when a blocking one fails."""
    from expectations import SUITES
    from expectations.runner import validate
    from sros.locks import WorkingFileLocked, retry_on_lock

    try:
        outcomes = retry_on_lock(
            lambda: validate(SUITES, paths.warehouse_path(), paths.gx_dir()),
            notify=lambda line: print(line, file=sys.stderr),
        )
    except (FileNotFoundError, WorkingFileLocked) as error:
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
    import tempfile

    from sros.mappings import (
        MappingsError,
        apply_filled_rows,
        find_unmapped,
        installation_copy,
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
        with tempfile.TemporaryDirectory() as target:
            unmapped = find_unmapped(warehouse, Path(target))
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


def _print_locations(ok: bool) -> None:
    print(f"\nworking warehouse: {paths.warehouse_path()}")
    print(f"expectation results (Data Docs): {paths.data_docs_index()}")
    published = paths.published_path()
    if ok:
        print(f"published for BI: {published}")
        print(f"finance export files: {paths.exports_dir()}/<as-of date>/")
    else:
        print(f"the run failed: nothing was published; BI still reads {published}")


WAIT_HELP = "if another SROS run holds the run lock, wait for it to finish instead of exiting"


def main(argv: list[str] | None = None) -> int:
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
    demo.add_argument("--leads", type=int, default=10_000, help="scale (default 10,000)")
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--wait", action="store_true", help=WAIT_HELP)

    run = commands.add_parser(
        "run", help="ingest the landing zone and dbt build (--wait: queue behind a run)"
    )
    run.add_argument("--wait", action="store_true", help=WAIT_HELP)
    commands.add_parser("report", help="row counts and quarantine per raw table")
    commands.add_parser("validate", help="run the Great Expectations suites on the warehouse")
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

    generate = commands.add_parser("generate", help="write a demo company's landing files")
    generate.add_argument("--out", type=Path, default=None, help="default: the landing folder")
    generate.add_argument("--leads", type=int, default=10_000)
    generate.add_argument("--seed", type=int, default=42)
    generate.add_argument("--start", type=date.fromisoformat, default=None)
    generate.add_argument("--end", type=date.fromisoformat, default=None)

    args = parser.parse_args(argv)
    if args.command in ("run", "demo", "mappings"):
        # Before anything else (and before importing Dagster): a second run is turned away at
        # once. The lock is held until the run and its report are done.
        command = "sros " + " ".join(sys.argv[1:] if argv is None else argv)
        try:
            runlock.acquire(command, wait=args.wait, notify=_say)
        except runlock.RunLockHeld as error:
            print(error, file=sys.stderr)
            return EXIT_RUN_LOCKED
        try:
            return _main(args)
        finally:
            runlock.release()
    return _main(args)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _main(args: argparse.Namespace) -> int:
    if args.command in ("init", "demo"):
        # The demo is one command: it initialises what is missing (nothing is overwritten).
        from sros.config import init

        for line in init():
            print(line)
        if args.command == "init":
            return 0
    if args.command == "demo":
        config = {"ops": {"demo_company": {"config": {"n_leads": args.leads, "seed": args.seed}}}}
        ok = _run_job("demo_job", config)
        _report()
        _print_locations(ok)
        return 0 if ok else 1
    if args.command == "run":
        ok = _run_job("warehouse_job")
        _report()
        _print_locations(ok)
        return 0 if ok else 1
    if args.command == "report":
        return _report()
    if args.command == "validate":
        return _validate()
    if args.command == "mappings":
        return _mappings()
    if args.command == "export":
        return _export()
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
