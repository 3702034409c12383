"""The `sros` command as a new user meets it: misuse stops at once with one line that says what
to do. (A run printing one line per stage while the whole log goes to a file is checked on
the successful run of tests/test_own_crm_data.py, which builds anyway.)"""

import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sros.demo_company.config import MIN_DEMO_LEADS
from sros.paths import PROJECT_DIR

# `sros <args>`, then whether it imported Dagster or dbt (it must not, to fail at once).
SROS_THEN_REPORT_IMPORTS = """\
import sys
from sros.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:  # argparse
    status = exit.code
heavy = sorted(
    name for name in ("dagster", "dbt", "dagster_dbt", "great_expectations") if name in sys.modules
)
print("imported:", heavy, flush=True)
sys.exit(status)
"""


def _sros(home: Path, *args: str, timeout: int = 120, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "SROS_HOME": str(home), "DAGSTER_HOME": str(home / "dagster")}
    for variable in ("SROS_WAREHOUSE_PATH", "SROS_LANDING_DIR", "SROS_DLT_DIR", "SROS_CONFIG"):
        environment.pop(variable, None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", SROS_THEN_REPORT_IMPORTS, *args],
        env=environment,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _refused_at_once(completed: subprocess.CompletedProcess) -> str:
    """The one line on stderr of a command that stopped before any job (exit status 2)."""
    assert completed.returncode == 2, completed.stderr
    assert completed.stdout.splitlines() == ["imported: []"]
    [line] = completed.stderr.splitlines()
    return line


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """An installation after `sros init` (the session's pseudonym key), with nothing landed."""
    home = tmp_path / "home"
    assert _sros(home, "init").returncode == 0
    return home


def test_run_with_a_mistyped_home_says_it_does_not_exist(tmp_path: Path) -> None:
    home = tmp_path / "sros-hmoe"
    line = _refused_at_once(_sros(home, "run"))
    assert line.startswith(f"SROS_HOME {home} does not exist: check it for a typo")
    assert "`sros init`" in line
    assert not home.exists()  # nothing was created at the mistyped path


@pytest.mark.parametrize("command", ["run", "demo", "init", "mappings"])
def test_a_home_that_is_a_file_is_refused(tmp_path: Path, command: str) -> None:
    home = tmp_path / "home"
    home.write_text("")
    line = _refused_at_once(_sros(home, command))
    assert line.startswith(f"SROS_HOME {home} is a file, not a folder: set SROS_HOME to a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to any folder")
def test_a_home_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o500)
    line = _refused_at_once(_sros(home, "demo"))
    assert line.startswith(f"SROS_HOME {home} is not writable by this user")


def test_demo_over_files_that_are_not_a_demo_company_is_refused(installed: Path) -> None:
    """The generator empties the landing zone's table folders: a demo never runs over a
    CRM's own exports (files no demo manifest lists), and says where to run it instead."""
    landing = installed / "landing"
    exports = [landing / "salesforce" / name / "export.csv" for name in ("lead", "opportunity")]
    for export in exports:
        export.parent.mkdir(parents=True)
        export.write_text("id\n1\n")
    line = _refused_at_once(_sros(installed, "demo"))
    assert line == (
        f"the landing zone {landing} holds files that are not a demo company's "
        "(salesforce/lead/export.csv and 1 more), which `sros demo` would replace: move them, "
        "or set SROS_HOME (or SROS_LANDING_DIR) to another folder for the demo"
    )
    assert all(export.exists() for export in exports)
    assert not (installed / "logs").exists()  # no job started


def test_run_with_no_landing_zone_and_no_warehouse(installed: Path) -> None:
    line = _refused_at_once(_sros(installed, "run"))
    landing = installed / "landing"
    assert line == (
        f"no landing zone at {landing} and no warehouse yet: put the CRM exports under "
        f"{landing}/<source>/<table>/ (e.g. salesforce/opportunity/), set SROS_LANDING_DIR or "
        "SROS_HOME to where they are, or try `sros demo`"
    )
    assert not (installed / "logs").exists()  # no job started


def test_run_with_an_empty_landing_zone_and_no_warehouse(installed: Path) -> None:
    (installed / "landing" / "salesforce").mkdir(parents=True)
    line = _refused_at_once(_sros(installed, "run"))
    assert line.startswith(f"no landing file in {installed / 'landing'} and no warehouse yet")


def test_run_with_only_misplaced_files_names_one_and_why(installed: Path) -> None:
    landing = installed / "landing"
    (landing / "sales_force" / "opportunity").mkdir(parents=True)
    (landing / "sales_force" / "opportunity" / "export.csv").write_text("id\n1\n")
    (landing / "salesforce").mkdir()
    (landing / "salesforce" / "opportunities.csv").write_text("id\n1\n")
    line = _refused_at_once(_sros(installed, "run"))
    assert line.startswith(
        f"no landing file a table reads in {landing} and no warehouse yet: 2 file(s) would be "
        "refused, e.g. sales_force/opportunity/export.csv: unknown source folder sales_force/"
    )
    assert line.endswith("did you mean salesforce/?")


def test_run_with_only_files_without_a_row_says_so(installed: Path) -> None:
    """An empty file and a header-only one give a run nothing to load: one line, at once."""
    folder = installed / "landing" / "salesforce" / "lead"
    folder.mkdir(parents=True)
    (folder / "export_0001.csv").write_text("")
    (folder / "export_0002.csv").write_text("Id,Email,CreatedDate\n\n")
    line = _refused_at_once(_sros(installed, "run"))
    assert line.startswith(
        f"no landing file with a row in {installed / 'landing'} and no warehouse yet: 2 file(s) "
        "hold no data row (empty, or a header only), e.g. salesforce/lead/export_0001.csv"
    )


def test_a_mistyped_landing_dir_is_refused_even_with_a_warehouse(installed: Path) -> None:
    """With a warehouse, a landing folder that does not exist is a typo, not a quiet day: the
    run would otherwise rebuild and publish yesterday's data as if nothing had arrived."""
    (installed / "warehouse.duckdb").write_bytes(b"")
    mistyped = installed / "landnig"
    line = _refused_at_once(_sros(installed, "run", SROS_LANDING_DIR=str(mistyped)))
    assert line == (
        f"SROS_LANDING_DIR is {mistyped}, which is not a folder: check it for a typo "
        "(with nothing new to load, unset it)"
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("SROS_DUCKDB_MEMORY_LIMIT", "6 gigs", "is not a memory size DuckDB reads"),
        ("SROS_DUCKDB_THREADS", "two", "is not a whole number of at least 1"),
        ("SROS_DBT_THREADS", "0", "is not a whole number of at least 1"),
        ("SROS_LOCK_TIMEOUT", "30s", "is not a number of seconds"),
    ],
)
def test_a_malformed_setting_in_the_environment_stops_a_run_at_once(
    installed: Path, variable: str, value: str, says: str
) -> None:
    """Before any file is read: a bad memory limit used to reject every landing file as
    unreadable, and the files then counted as handled once the setting was fixed."""
    folder = installed / "landing" / "salesforce" / "lead"
    folder.mkdir(parents=True)
    (folder / "export.csv").write_text("Id,Email\n00Q1,a@example.com\n")
    line = _refused_at_once(_sros(installed, "run", **{variable: value}))
    assert line.startswith(f"{variable}={value!r} {says}")


def test_the_reader_raises_for_a_bad_memory_limit_and_rejects_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sros.config import ConfigError
    from sros.contracts import load_contracts
    from sros.ingest.reader import read_landing_file

    landing = tmp_path / "export.csv"
    landing.write_text("Id\n1\n")
    monkeypatch.setenv("SROS_DUCKDB_MEMORY_LIMIT", "lots")
    contract = next(iter(load_contracts().values()))
    with pytest.raises(ConfigError, match="SROS_DUCKDB_MEMORY_LIMIT='lots'"):
        read_landing_file(landing, contract)


def test_an_empty_landing_zone_with_a_warehouse_is_not_misuse(
    installed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing new to load is a normal day: the run goes on and rebuilds the warehouse."""
    from sros.cli import _landing_problem

    monkeypatch.setenv("SROS_HOME", str(installed))
    assert _landing_problem() is not None
    (installed / "warehouse.duckdb").write_bytes(b"")
    assert _landing_problem() is None


def test_run_before_init_says_to_run_init(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    key = tmp_path / "no" / "key"
    line = _refused_at_once(_sros(home, "run", SROS_PSEUDONYM_KEY_FILE=str(key)))
    assert line.startswith(f"no pseudonym key at {key}: run `sros init` once to create it")


def test_demo_with_an_unreadable_configuration_says_which_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "sros.yml").write_text("sources: [\n")
    line = _refused_at_once(_sros(home, "demo"))
    assert line.startswith(f"{home / 'sros.yml'}: not valid YAML")


@pytest.mark.parametrize("command", ["run", "demo", "validate"])
def test_an_unknown_engine_is_refused_at_once(installed: Path, command: str) -> None:
    line = _refused_at_once(_sros(installed, command, SROS_ENGINE="sprak"))
    assert line == "SROS_ENGINE is 'sprak'; use one of duckdb, spark"


@pytest.mark.parametrize("leads", ["-5", "0", str(MIN_DEMO_LEADS - 1)])
def test_demo_too_small_to_build_is_an_argument_error(tmp_path: Path, leads: str) -> None:
    completed = _sros(tmp_path, "demo", "--leads", leads)
    assert completed.returncode == 2
    assert completed.stdout.splitlines() == ["imported: []"]
    *usage, error = completed.stderr.splitlines()  # argparse wraps a long usage
    assert usage[0].startswith("usage: sros demo")
    assert error == (
        f"sros demo: error: argument --leads: {leads} is too small: the demo company needs at "
        f"least {MIN_DEMO_LEADS:,} leads to fill every table it builds"
    )


@pytest.mark.parametrize("command", ["demo", "generate"])
def test_leads_that_are_not_a_number_are_an_argument_error(tmp_path: Path, command: str) -> None:
    completed = _sros(tmp_path, command, "--leads", "ten thousand")
    assert completed.returncode == 2
    assert completed.stderr.splitlines()[-1] == (
        f"sros {command}: error: argument --leads: 'ten thousand' is not a whole number of leads"
    )


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("validate", "no warehouse at {home}/warehouse.duckdb: build it first (`sros run`"),
        (
            "validate --engine spark",
            "no warehouse at {home}/spark/warehouse: build it first (`sros run --engine spark`",
        ),
        ("export", "no published warehouse at {home}/published/warehouse.duckdb: run a build"),
        ("report", "no warehouse at {home}/warehouse.duckdb; run `sros demo` or `sros run`"),
    ],
)
def test_reading_commands_before_any_run_say_so_at_once(
    installed: Path, command: str, says: str
) -> None:
    completed = _sros(installed, *command.split())
    assert completed.returncode == 1, completed.stderr
    assert completed.stdout.splitlines() == ["imported: []"]
    [line] = completed.stderr.splitlines()
    assert line.startswith(says.format(home=installed))


# --- a demo's output ----------------------------------------------------------------------


def test_a_failed_step_is_one_line_with_its_root_cause() -> None:
    """What a run prints for a failed step (its log then has the whole story)."""
    from sros.cli import _step_failure_line

    def error(cls_name: str, message: str, cause: SimpleNamespace | None = None):
        return SimpleNamespace(cls_name=cls_name, message=message, cause=cause)

    dbt = error(
        "DagsterDbtCliRuntimeError",
        "The dbt CLI process with command\n\n`dbt build`\n\nfailed with exit code `1`.\n"
        "Errors parsed from dbt logs:\n"
        "7 of 1232 ERROR creating sql view model staging.stg_hubspot__deals "
        "... [\x1b[31mERROR\x1b[0m in 0.15s]\n"
        "9 of 1232 ERROR creating sql view model staging.stg_hubspot__engagements "
        "... [\x1b[31mERROR\x1b[0m in 0.05s]\n"
        "Catalog Error: Table with name deal does not exist!\n",
    )
    wrapped = error(
        "DagsterExecutionStepExecutionError",
        'Error occurred while executing op "sros_dbt_assets":',
        dbt,
    )
    assert _step_failure_line("sros_dbt_assets", wrapped) == (
        "dbt build failed: 7 of 1232 ERROR creating sql view model staging.stg_hubspot__deals "
        "... [ERROR in 0.15s] (and 1 more)"
    )
    key = error("MissingKeyError", "no pseudonym key at /k: run `sros init` once to create it")
    assert _step_failure_line("sros_private__pseudonym_key", error("X", "wrapper", key)) == (
        "pseudonym key failed: MissingKeyError: no pseudonym key at /k: run `sros init` once "
        "to create it"
    )
    # as Dagster records what a step raised: the qualified class name first, said once here
    raised = error("MissingKeyError", f"sros.config.MissingKeyError: {key.message}\n")
    assert _step_failure_line("sros_private__pseudonym_key", raised) == (
        "pseudonym key failed: MissingKeyError: no pseudonym key at /k: run `sros init` once "
        "to create it"
    )


def test_stage_progress_one_line_per_stage_and_what_did_not_run() -> None:
    import dagster as dg

    from orchestration.defs.run_log import StageProgress

    steps = ["demo_company", "ingest_a", "ingest_b", "a_load_checks", "sros_dbt_assets"]
    steps += ["published_warehouse"]
    terminal = io.StringIO()
    progress = StageProgress(steps, terminal)

    def event(kind: str, step: str | None = None) -> None:
        record = logging.LogRecord("sros_run_log", logging.DEBUG, "", 0, kind, None, None)
        happened = SimpleNamespace(event_type=dg.DagsterEventType[kind], step_key=step)
        record.dagster_meta = {"dagster_event": happened}
        progress.handle(record)

    for step in ("demo_company", "ingest_a", "ingest_b"):
        event("STEP_START", step)
        event("ASSET_MATERIALIZATION", step)
        assert terminal.getvalue().count("\n") == (step != "demo_company")  # ingest: not yet
        event("STEP_SUCCESS", step)
    event("STEP_START", "sros_dbt_assets")
    event("ASSET_MATERIALIZATION", "sros_dbt_assets")
    event("ASSET_CHECK_EVALUATION", "sros_dbt_assets")
    event("STEP_FAILURE", "sros_dbt_assets")
    event("RUN_FAILURE")
    lines = terminal.getvalue().splitlines()
    assert [line.split()[:3] for line in lines] == [
        ["generate", "demo", "company"],
        ["ingest", "2", "assets"],
        ["dbt", "build", "FAILED"],
        ["not", "run", "(an"],
    ]
    assert lines[-1] == "  not run (an earlier step failed): load checks, publish"
    assert all(re.search(r"\d\.\d s$", line) for line in lines[:3]), lines


def test_run_log_logger_writes_every_event_to_its_file(tmp_path: Path) -> None:
    """The logger `sros run` configures, on a two-step job: the file holds every Dagster event
    at DEBUG level, the terminal one line per stage."""
    import dagster as dg

    from orchestration.defs.run_log import LOGGER_KEY, progress_to, run_log_logger

    @dg.asset
    def demo_company(context: dg.AssetExecutionContext) -> int:
        context.log.info("generated")
        return 1

    @dg.asset
    def published_warehouse(demo_company: int) -> int:
        return demo_company

    defs = dg.Definitions(
        assets=[demo_company, published_warehouse],
        jobs=[dg.define_asset_job("tiny_job")],
        loggers={LOGGER_KEY: run_log_logger},
    )
    log, terminal = tmp_path / "run.log", io.StringIO()
    run_id = "0" * 8 + "-0000-0000-0000-" + "0" * 12
    with progress_to(run_id, terminal), dg.instance_for_test() as instance:
        result = defs.resolve_job_def("tiny_job").execute_in_process(
            run_config={"loggers": {LOGGER_KEY: {"config": {"path": str(log), "progress": True}}}},
            instance=instance,
            run_id=run_id,
        )
    assert result.success
    assert [line.split()[0] for line in terminal.getvalue().splitlines()] == [
        "generate",
        "publish",
    ], terminal.getvalue()
    text = log.read_text()
    for expected in ("RUN_START", "demo_company - STEP_SUCCESS", "generated", "RUN_SUCCESS"):
        assert expected in text, expected
    assert " - DEBUG - " in text


def test_quarantined_records_are_shown_one_per_file_column_and_reason() -> None:
    """`sros run` and `sros report` show what to fix, not only how many rows were kept out."""
    import duckdb

    from sros.cli import _quarantine_examples

    connection = duckdb.connect()
    for schema in ("raw_salesforce", "raw_hubspot"):
        connection.execute(f"create schema {schema}")
        connection.execute(
            f"create table {schema}._sros_quarantine (source_file varchar, row_number bigint, "
            "column_name varchar, value varchar, reason varchar)"
        )
    connection.execute(
        "insert into raw_salesforce._sros_quarantine values "
        "('salesforce/lead/export_0001.csv', 14, 'created_date', '2024-02-30T10:00:00Z', "
        "'not a valid timestamp'), "
        "('salesforce/lead/export_0001.csv', 20, 'created_date', '2024-13-01', "
        "'not a valid timestamp'), "
        "('salesforce/opportunity/export_0001.csv', 25, 'amount', '12.345,00', "
        "'not a valid decimal(18,2)')"
    )
    existing = set(
        connection.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
    )
    lines = _quarantine_examples(connection, existing, ["raw_hubspot", "raw_salesforce"])
    assert lines == [
        "quarantined, e.g. (record = its number in the file, the header not counted; every "
        "quarantined record, with its original text, is in raw_salesforce._sros_quarantine):",
        "  salesforce/lead/export_0001.csv record 14, created_date = '2024-02-30T10:00:00Z': "
        "not a valid timestamp (and 1 more like it)",
        "  salesforce/opportunity/export_0001.csv record 25, amount = '12.345,00': "
        "not a valid decimal(18,2)",
    ]
    connection.execute("delete from raw_salesforce._sros_quarantine")
    assert _quarantine_examples(connection, existing, ["raw_hubspot", "raw_salesforce"]) == []
