"""Benchmark: build the demo company at given scales and time each stage.

    .venv/bin/python bench/bench.py                 # 10k and 100k leads
    .venv/bin/python bench/bench.py 10000 1000000   # any scales
    .venv/bin/python bench/bench.py --spark 10000   # and the dbt build on Spark at 10k
    .venv/bin/python bench/bench.py --spark 100000 1000 100000 1000000  # every target in one run
    .venv/bin/python bench/bench.py --keep /tmp/b 1000000  # keep the home in /tmp/b/1000000

Each stage (generate, ingest, dbt build, expectations, publish, floor, then the daily run:
new day, day ingest, day dbt build, day expectations, day publish) runs in its own process
in a fresh temporary SROS_HOME, so wall time and peak memory (max RSS of the stage's process
tree) are its own.
Rows/s: generate = rows written, ingest = rows loaded, dbt build = raw rows built on,
expectations = mart rows validated (the Great Expectations suites with their Data Docs),
publish = rows published, floor = raw rows read. The floor is what no dbt build can beat:
DuckDB reading every raw table once, every column, into a table.
After each scale, the job end to end (ingest + dbt build + expectations + publish) and its
peak memory against the targets for 1M leads (300 s, 8 GB), the daily run (the same job
after one new day of landing files, `_stage_new_day`) as a share of it (target 10%), the
dbt build's ratio to the floor, the expectations' time as a share of the dbt build's, the
ten slowest models of the full and of the daily build (dbt's run_results.json execution
times), the full build's longest chain (the nodes it ended on, each with the time it waited
for a free dbt thread and the time it ran), and what the KPI layer (the `kpi_layer`
selector in selectors.yml: KPI marts, reports and attribution, with their tests) adds to the
rest of the build, in summed execution time.
With --spark LEADS (repeatable; each one of the scales), a last stage at that scale builds
the same raw tables on the local Spark session the way `sros run --engine spark` does (raw
tables to Parquet, registered, `dbt build --target spark` with every data test), and the
ratio of its wall time to the DuckDB build's is printed: `--spark 100000 1000 100000 1000000`
measures the Spark target (100k leads) and the 1M-lead targets in one run, and at 1,000 leads
what the job costs whatever its data (the README's bound of the daily target).
Prints a table; run on demand, never from the test suite.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def _stage_generate(leads: int) -> int:
    from sros import paths
    from sros.config import init
    from sros.demo_company import DemoConfig, generate

    init()  # the configuration and pseudonym key ingestion needs (outside the timed stages)

    manifest = generate(DemoConfig(n_leads=leads), paths.landing_dir())
    return sum(e["rows"] for path, e in manifest["files"].items() if path.endswith(".csv"))


def _stage_ingest(_: int) -> int:
    from sros.contracts import source_names
    from sros.ingest.pipeline import ingest

    return sum(report["rows_loaded"] for source in source_names() for report in ingest(source))


def _raw_rows() -> int:
    """The rows of the raw tables the dbt build reads (its rows/s are per raw row)."""
    import duckdb

    from sros import paths
    from sros.contracts import load_contracts

    with duckdb.connect(str(paths.warehouse_path()), read_only=True) as connection:
        return sum(
            connection.execute(f'select count(*) from {c.schema}."{c.name}"').fetchone()[0]
            for c in load_contracts().values()
        )


def _stage_dbt(_: int, target: str = "target") -> int:
    """`dbt build` as the job runs it (orchestration/defs/dbt.py): unit tests belong to CI; the
    seeds unchanged since the build the warehouse records are left out, with the tests of
    nothing else, and a successful build records itself (sros/seed_state.py)."""
    from sros import paths
    from sros.seed_state import record_build, unchanged_seeds_arguments

    working, target_path = paths.warehouse_path(), paths.home_dir() / target
    subprocess.run(
        [
            str(VENV_BIN / "dbt"),
            "build",
            "--exclude-resource-type",
            "unit_test",
            *unchanged_seeds_arguments(working),
            "--profiles-dir",
            ".",
            "--quiet",
            "--target-path",
            str(target_path),
        ],
        cwd=PROJECT_DIR,
        check=True,
    )
    record_build(working, target_path)
    return _raw_rows()


# The tables a new day's files bring. The append-heavy activity of a day: for each, the
# timestamp column whose last day in the generated files is copied one day later, under new
# ids, as the new day's rows.
NEW_DAY_TABLES = {
    ("marketing", "touchpoint"): "occurred_at",
    ("salesforce", "task"): "created_date",
    ("salesforce", "event"): "created_date",
}
# The CRM's records a day changes: for each, the last-modified column whose last day in the
# generated files is modified and synced again one day later (the same ids, their other
# columns as they were). The sync moves the warehouse's as-of date (the day of the latest CRM
# sync, int_as_of_date) to the new day, so the day's activity above is inside it, as in a
# real daily sync; without them the new activity would lie after the as-of date, which every
# mart but the touch fact leaves out.
RESYNCED_TABLES = {
    ("salesforce", "lead"): "last_modified_date",
    ("salesforce", "contact"): "last_modified_date",
    ("salesforce", "account"): "last_modified_date",
    ("salesforce", "opportunity"): "last_modified_date",
    ("hubspot", "contact"): "property_lastmodifieddate",
}
SYNC_COLUMN = "_fivetran_synced"
# The file, in the bench's home, where the new day keeps the as-of date it starts from.
NEW_DAY_AS_OF = "bench_new_day_as_of.txt"


def _stage_new_day(_: int) -> int:
    """One new day of landing files on top of the history just built, each in a new file
    beside the export: for each table of NEW_DAY_TABLES, the rows of the generated files'
    last day again, one day later (every timestamp and date column, the sync time included,
    moves a day) and under new ids (the key's fourth character becomes D, keeping its length);
    for each table of RESYNCED_TABLES, the records last modified on the last day, modified
    and synced one day later. The demo generator writes a company's whole history at once;
    this gives a day of the same volume as its busiest recent one. Not part of the timed run.
    The as-of date of the publication before the day is kept (NEW_DAY_AS_OF) for the day's
    publication to check that the day moved it."""
    import duckdb

    from sros import paths
    from sros.contracts import load_contracts

    contracts = load_contracts()

    def shifted(quoted: str, data_type: str) -> str:
        if data_type == "timestamp":
            return (
                f"strftime(cast(replace({quoted}, 'Z', '') as timestamp) + interval 1 day,"
                " '%Y-%m-%dT%H:%M:%SZ')"
            )
        return f"strftime(cast({quoted} as date) + 1, '%Y-%m-%d')"

    (paths.home_dir() / NEW_DAY_AS_OF).write_text(str(_published_as_of()))
    days = [(table, column, False) for table, column in NEW_DAY_TABLES.items()]
    days += [(table, column, True) for table, column in RESYNCED_TABLES.items()]
    rows = 0
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for (source, name), day_column, resynced in days:
            contract = contracts[(source, name)]
            folder = paths.landing_dir() / contract.landing
            files = [str(path) for path in sorted(folder.glob("export_*.csv"))]
            columns = []
            for column in contract.columns:
                quoted = f'"{column.name}"'
                if resynced:
                    moved = column.name in (day_column, SYNC_COLUMN)
                    value = shifted(quoted, column.data_type) if moved else quoted
                elif column.name in contract.primary_key:
                    value = f"left({quoted}, 3) || 'D' || substr({quoted}, 5)"
                elif column.data_type in ("timestamp", "date"):
                    value = shifted(quoted, column.data_type)
                else:
                    value = quoted
                columns.append(f"{value} as {quoted}")
            exported = f"read_csv({files}, header = true, all_varchar = true)"
            last_day = f"cast(replace(\"{day_column}\", 'Z', '') as date)"
            query = (
                f"select {', '.join(columns)} from {exported}"
                f" where {last_day} = (select max({last_day}) from {exported})"
            )
            target = folder / "new_day_0001.csv"
            connection.execute(f"copy ({query}) to '{target}' (header, delimiter ',')")
            rows += connection.execute(f"select count(*) from read_csv('{target}')").fetchone()[0]
    return rows


def _stage_day_dbt(leads: int) -> int:
    """The build after the new day, in its own target folder, which starts from the full
    build's partial-parse state as the job's next build does (orchestration/defs/dbt.py
    `_build_target`): a daily run does not parse the unchanged project again."""
    import shutil

    from sros import paths

    day = paths.home_dir() / "target-day"
    day.mkdir(exist_ok=True)
    shutil.copy(paths.home_dir() / "target" / "partial_parse.msgpack", day)
    return _stage_dbt(leads, target="target-day")


def _stage_expectations(_: int, target: str = "target") -> int:
    from expectations import SUITES
    from expectations.runner import validate
    from sros import paths

    # the manifest of the stage's dbt build (its --target-path), as the job reads its own
    manifest = paths.home_dir() / target / "manifest.json"
    outcomes = validate(SUITES, paths.warehouse_path(), paths.gx_dir(), manifest)
    failed = [outcome.suite.name for outcome in outcomes if outcome.blocking_failures]
    if failed:
        raise SystemExit(f"blocking expectation suites failed: {failed}")
    return sum(max(item.rows_checked or 0 for item in o.expectations) for o in outcomes)


def _stage_publish(_: int) -> int:
    from sros import paths
    from sros.publish import publish

    return sum(publish(paths.warehouse_path(), paths.published_path()).values())


def _published_as_of() -> date:
    """The as-of date the published file records (meta.publication), as the exports read it."""
    import duckdb

    from sros import paths
    from sros.exports import published_as_of_date

    published = paths.published_path()
    with duckdb.connect(str(published), read_only=True) as connection:
        return published_as_of_date(connection, published)


def _stage_day_publish(leads: int) -> int:
    """Publication after the new day, which must have moved the as-of date by the day: a day
    that does not reaches no mart but the touch fact, and the daily run it times is not one."""
    from sros import paths

    rows = _stage_publish(leads)
    before = date.fromisoformat((paths.home_dir() / NEW_DAY_AS_OF).read_text())
    after = _published_as_of()
    if after != before + timedelta(days=1):
        raise SystemExit(
            f"the new day moved the as-of date from {before} to {after}, not by one day: "
            "see RESYNCED_TABLES in bench/bench.py"
        )
    return rows


def _stage_floor(_: int) -> int:
    """The floor of a build on DuckDB: every raw table read once, every column, into a table
    (nothing joined, nothing tested). No dbt build can take less: each raw row is read and a
    table written at least once."""
    import duckdb

    from sros import paths
    from sros.contracts import load_contracts

    rows = 0
    with duckdb.connect(str(paths.warehouse_path()), read_only=True) as connection:
        connection.execute("set TimeZone = 'UTC'")
        for contract in load_contracts().values():
            table = f'{contract.schema}."{contract.name}"'
            connection.execute(f"create or replace temp table floor_copy as select * from {table}")
            rows += connection.execute("select count(*) from floor_copy").fetchone()[0]
        connection.execute("drop table floor_copy")
    return rows


def _stage_spark(_: int) -> int:
    from sros import paths
    from sros.spark import export_raw_tables, raw_root, source_tables

    target = paths.home_dir() / "target-spark"
    spark = ["--profiles-dir", ".", "--quiet", "--target", "spark", "--target-path", str(target)]
    subprocess.run(
        [str(VENV_BIN / "dbt"), "parse", *spark], cwd=PROJECT_DIR, check=True, capture_output=True
    )
    export_raw_tables(paths.warehouse_path(), source_tables(target / "manifest.json"), raw_root())
    operation = ["run-operation", "register_parquet_sources", "--args"]
    root = json.dumps({"root": str(raw_root())})
    for arguments in ([*operation, root], ["build", "--exclude-resource-type", "unit_test"]):
        subprocess.run(
            [str(VENV_BIN / "dbt"), *arguments, *spark],
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
        )
    return _raw_rows()


STAGES = {
    "generate": _stage_generate,
    "ingest": _stage_ingest,
    "dbt build": _stage_dbt,
    "expectations": _stage_expectations,
    "publish": _stage_publish,
    "floor": _stage_floor,
    "new day": _stage_new_day,
    "day ingest": _stage_ingest,
    "day dbt build": _stage_day_dbt,
    "day expectations": lambda leads: _stage_expectations(leads, target="target-day"),
    "day publish": _stage_day_publish,
    "spark build": _stage_spark,
}


def _dbt_timings(
    home: Path, target: str = "target"
) -> tuple[list[tuple[str, float]], float, float]:
    """(ten slowest models, KPI-layer seconds, other seconds) of the build whose artefacts
    are in `home`/`target`, from run_results.json; the KPI layer's nodes are those `dbt ls
    --selector kpi_layer` lists (models with their data and unit tests), the same list the
    docs of selectors.yml give."""
    results = json.loads((home / target / "run_results.json").read_text())["results"]
    listed = subprocess.run(
        [
            str(VENV_BIN / "dbt"),
            "ls",
            "--profiles-dir",
            ".",
            "--quiet",
            "--selector",
            "kpi_layer",
            "--output",
            "json",
            "--output-keys",
            "unique_id",
            "--target-path",
            str(home / "target-ls"),
        ],
        cwd=PROJECT_DIR,
        env={**os.environ, "SROS_HOME": str(home)},
        capture_output=True,
        text=True,
        check=True,
    )
    kpi_nodes = {
        json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line.startswith("{")
    }
    models = sorted(
        (
            (r["unique_id"].split(".")[-1], r["execution_time"])
            for r in results
            if r["unique_id"].startswith("model.")
        ),
        key=lambda item: -item[1],
    )
    kpi = sum(r["execution_time"] for r in results if r["unique_id"] in kpi_nodes)
    other = sum(r["execution_time"] for r in results if r["unique_id"] not in kpi_nodes)
    return models[:10], kpi, other


def _longest_chain(home: Path, target: str = "target") -> list[tuple[str, float, float]]:
    """The chain of nodes the build in `home`/`target` ended on: from the node that finished
    last, back through the node each one waited for last (its parent in dbt's build graph,
    target/graph.gpickle, whose edges include the tests of a node's parents, that finished
    last). -> (node, seconds it waited for a free dbt thread after that parent finished, or
    after the build started for the first node, seconds it ran), first node first."""
    results = json.loads((home / target / "run_results.json").read_text())["results"]
    # dbt's own file (networkx graph), written by the build this bench just ran
    graph = pickle.loads((home / target / "graph.gpickle").read_bytes())
    spans = {
        r["unique_id"]: (
            datetime.fromisoformat(r["timing"][0]["started_at"]).timestamp(),
            datetime.fromisoformat(r["timing"][-1]["completed_at"]).timestamp(),
        )
        for r in results
        if r["timing"] and not r["unique_id"].startswith("operation.")  # on-run-end hooks
    }
    node = max(spans, key=lambda unique_id: spans[unique_id][1])
    chain = []
    while node:
        started, completed = spans[node]
        parents = [parent for parent in graph.predecessors(node) if parent in spans]
        last = max(parents, key=lambda parent: spans[parent][1], default=None)
        ready = spans[last][1] if last else min(span[0] for span in spans.values())
        chain.append((node, max(started - ready, 0.0), completed - started))
        node = last
    return chain[::-1]


# The targets of issue 11 at 1M leads: the job end to end (generate excluded) and its peak;
# the same job after one new day of files, against a share of the full run.
END_TO_END = ("ingest", "dbt build", "expectations", "publish")
DAILY = ("day ingest", "day dbt build", "day expectations", "day publish")
END_TO_END_TARGET_S = 300
DAILY_TARGET_SHARE = 0.10
PEAK_TARGET_MB = 8 * 1024
TARGET_LEADS = 1_000_000


def _print_targets(leads: int, wall: dict[str, float], peak_mb: dict[str, float]) -> None:
    """The end-to-end time and peak memory against their targets (which are set for 1M
    leads), and the dbt build's ratio to the floor."""
    end_to_end = sum(wall[stage] for stage in END_TO_END)
    peak = max(peak_mb[stage] for stage in END_TO_END)
    at_target_scale = leads == TARGET_LEADS

    def verdict(met: bool) -> str:
        return ("met" if met else "NOT met") if at_target_scale else "target is for 1M leads"

    print(
        f"{leads:>10,} end to end ({' + '.join(END_TO_END)}): {end_to_end:.1f} s "
        f"(target <= {END_TO_END_TARGET_S} s: {verdict(end_to_end <= END_TO_END_TARGET_S)})",
        flush=True,
    )
    print(
        f"{leads:>10,} peak memory of those stages: {peak:,.0f} MB "
        f"(target <= {PEAK_TARGET_MB:,} MB: {verdict(peak <= PEAK_TARGET_MB)})",
        flush=True,
    )
    daily = sum(wall[stage] for stage in DAILY)
    daily_met = daily <= DAILY_TARGET_SHARE * end_to_end
    print(
        f"{leads:>10,} daily run after one new day of files ({' + '.join(DAILY)}): "
        f"{daily:.1f} s, {daily / end_to_end:.0%} of the full run "
        f"(target <= {DAILY_TARGET_SHARE:.0%}: {verdict(daily_met)})",
        flush=True,
    )
    print(
        f"{leads:>10,} the dbt build takes {wall['dbt build'] / wall['floor']:.1f}x the floor "
        f"(DuckDB reading every raw table once: {wall['floor']:.1f} s)",
        flush=True,
    )


def _run_stage(stage: str, leads: int, home: Path) -> dict:
    # The bench's own pseudonym key in its temporary home, never the user's (sros init).
    key = home / "secrets" / "pseudonym.key"
    env = {**os.environ, "SROS_HOME": str(home), "SROS_PSEUDONYM_KEY_FILE": str(key)}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--leads", str(leads)],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout + completed.stderr)
        raise SystemExit(f"stage {stage!r} failed at {leads} leads")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, **result}


@contextlib.contextmanager
def _bench_home(keep: Path | None, leads: int) -> Iterator[str]:
    """A temporary SROS_HOME, or with --keep a new folder that stays."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="sros-bench-") as home:
            yield home
        return
    home = keep / str(leads)
    if home.exists():
        raise SystemExit(f"{home} exists: give --keep a folder without a {leads} in it")
    home.mkdir(parents=True)
    yield str(home)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scales", nargs="*", type=int, default=[10_000, 100_000])
    parser.add_argument(
        "--spark",
        type=int,
        action="append",
        default=[],
        metavar="LEADS",
        help="also build on the local Spark session at this scale (one of the scales; repeatable)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="run in DIR/<leads> (must not exist) and keep it, to look at the build afterwards",
    )
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--leads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not set(args.spark) <= set(args.scales):
        parser.error(
            f"--spark {', '.join(map(str, sorted(set(args.spark) - set(args.scales))))}: not "
            f"one of the scales ({', '.join(map(str, args.scales))}); give it as a scale too"
        )

    if args.stage:  # inside a stage process
        rows = STAGES[args.stage](args.leads)
        peak = max(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
        )
        print(json.dumps({"rows": rows, "peak_mb": peak / 1024}))
        return

    header = f"{'leads':>10} {'stage':<16} {'wall s':>9} {'peak MB':>9} {'rows':>12} {'rows/s':>11}"
    print(header)
    print("-" * len(header))
    for leads in args.scales:
        with _bench_home(args.keep, leads) as home:
            wall: dict[str, float] = {}
            peak_mb: dict[str, float] = {}
            for stage in STAGES:
                if stage == "spark build" and leads not in args.spark:
                    continue
                result = _run_stage(stage, leads, Path(home))
                wall[stage] = result["wall_s"]
                peak_mb[stage] = result["peak_mb"]
                # Spark's JVM is not a child the stage waits for: its memory is not measured
                peak = "n/a" if stage == "spark build" else f"{result['peak_mb']:.0f}"
                print(
                    f"{leads:>10,} {stage:<16} {result['wall_s']:>9.1f} "
                    f"{peak:>9} {result['rows']:>12,} "
                    f"{result['rows'] / result['wall_s']:>11,.0f}",
                    flush=True,
                )
            _print_targets(leads, wall, peak_mb)
            share = wall["expectations"] / wall["dbt build"]
            print(f"{leads:>10,} expectations take {share:.0%} of the dbt build's time", flush=True)
            if leads in args.spark:
                ratio = wall["spark build"] / wall["dbt build"]
                print(
                    f"{leads:>10,} the dbt build on Spark (local session) takes {ratio:.1f}x "
                    "the DuckDB build's time",
                    flush=True,
                )
            slowest, kpi, other = _dbt_timings(Path(home))
            print(
                f"{leads:>10,} KPI layer: {kpi:.1f} s of execution time on top of {other:.1f} s "
                f"for the rest of the build (+{kpi / other:.0%})",
                flush=True,
            )
            day_slowest, day_kpi, day_other = _dbt_timings(Path(home), "target-day")
            print(
                f"{leads:>10,} daily build: {day_kpi + day_other:.1f} s of execution time "
                f"against {kpi + other:.1f} s for the full build",
                flush=True,
            )
            chain = _longest_chain(Path(home))
            print(
                f"{leads:>10,} the build's longest chain: {sum(ran for *_, ran in chain):.1f} s "
                f"run, {sum(waited for _, waited, _ in chain):.1f} s waiting for a dbt thread "
                "(waited s, ran s):",
                flush=True,
            )
            for unique_id, waited, ran in chain:
                kind, _, name = unique_id.split(".")[:3]
                print(f"{'':>10} {waited:>9.1f} {ran:>9.1f}  {kind} {name}", flush=True)
            for title, models in (("", slowest), ("daily build's ", day_slowest)):
                print(f"{leads:>10,} {title}ten slowest models (execution s):", flush=True)
                for name, seconds in models:
                    print(f"{'':>10} {seconds:>9.1f}  {name}", flush=True)


if __name__ == "__main__":
    main()
