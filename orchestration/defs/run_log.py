"""The log of a run: every Dagster event in a file, and one line per stage on the terminal.

`sros run` and `sros demo` configure the `sros_run_log` logger in their run config instead of
Dagster's console logger (`loggers:` in the run config, registered in definitions.py), so

- the file `$SROS_HOME/logs/<UTC start>-<job>-<run id>.log` gets every Dagster event at DEBUG
  level, as the console logger would have printed it;
- the terminal gets one line per stage (generate, ingest, load checks, dbt build, expectations,
  publish, ...) with what it produced and its elapsed time, written when the stage's last step
  ends; on a terminal (a TTY) the line of the running stage is redrawn as its steps and dbt
  nodes finish.

A run launched from the UI or the schedule configures no logger and keeps Dagster's default
console logger; it may also set `sros_run_log` (with `progress: false`) to get the file.
dbt's own output is not a Dagster event: the CLI sends the process's stdout and stderr to the
same file while the run lasts (sros/cli.py).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO

import dagster as dg

LOGGER_KEY = "sros_run_log"
Event = dg.DagsterEventType
_RUN_ENDED = (Event.RUN_SUCCESS, Event.RUN_FAILURE, Event.RUN_CANCELED)

# Stage of each step, by step key (exact) or by the end of the step key; a step not named here
# is its own stage, labelled with its key.
_STAGES_BY_KEY = {
    "demo_company": "generate demo company",
    "sros_private__pseudonym_key": "pseudonym key",
    "sros_dbt_assets": "dbt build",
    "great_expectations": "expectations",
    "marts_not_silently_empty": "completeness check",
    "published_warehouse": "publish",
    "finance_exports": "finance exports",
}
_STAGES_BY_SUFFIX = {
    "_load_checks": "load checks",
    "_load_warning_checks": "load checks",
    "_no_refused_files": "load checks",
}


def stage_of(step_key: str) -> str:
    if step_key in _STAGES_BY_KEY:
        return _STAGES_BY_KEY[step_key]
    if step_key.startswith("ingest_"):
        return "ingest"
    for suffix, stage in _STAGES_BY_SUFFIX.items():
        if step_key.endswith(suffix):
            return stage
    return step_key


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


@dataclass
class _Stage:
    name: str
    steps: set[str]
    done: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    started_at: float | None = None
    assets: int = 0
    checks: int = 0
    printed: bool = False

    def line(self, now: float) -> str:
        produced = [
            f"{count:,} {noun}{'' if count == 1 else 's'}"
            for count, noun in ((self.assets, "asset"), (self.checks, "check"))
            if count
        ]
        elapsed = _duration(now - self.started_at) if self.started_at is not None else ""
        status = "FAILED" if self.failed else ", ".join(produced)
        return f"  {self.name:<22} {status:<28} {elapsed:>10}"


class StageProgress(logging.Handler):
    """Writes one line per stage of the run to `stream` (see the module doc)."""

    def __init__(self, steps: list[str], stream: IO[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.stream = stream
        self.live = stream.isatty()
        self.stages: dict[str, _Stage] = {}
        for step in steps:
            stage = self.stages.setdefault(stage_of(step), _Stage(stage_of(step), set()))
            stage.steps.add(step)

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            return
        kind, step = event.event_type, event.step_key
        if kind in _RUN_ENDED:
            self._finish()
            return
        stage = self.stages.get(stage_of(step)) if step else None
        if stage is None or stage.printed:
            return
        now = time.monotonic()
        if kind == Event.STEP_START and stage.started_at is None:
            stage.started_at = now
        elif kind == Event.ASSET_MATERIALIZATION:
            stage.assets += 1
        elif kind == Event.ASSET_CHECK_EVALUATION:
            stage.checks += 1
        elif kind in (Event.STEP_SUCCESS, Event.STEP_SKIPPED):
            stage.done.add(step)
        elif kind == Event.STEP_FAILURE:
            stage.done.add(step)
            stage.failed.add(step)
        if stage.done >= stage.steps:
            self._write(stage.line(now), final=True)
            stage.printed = True
        elif self.live:
            self._write(stage.line(now) + " …", final=False)

    def _finish(self) -> None:
        """At the end of the run: the stages still open, and those that never ran."""
        now = time.monotonic()
        for stage in self.stages.values():
            if not stage.printed and stage.started_at is not None:
                self._write(stage.line(now), final=True)
                stage.printed = True
        not_run = [stage.name for stage in self.stages.values() if stage.started_at is None]
        if not_run:
            self._write(f"  not run (an earlier step failed): {', '.join(not_run)}", final=True)

    def _write(self, line: str, *, final: bool) -> None:
        if self.live:
            line = "\r\x1b[2K" + line  # redraw the running stage's line
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()


# Where the stage lines of a run the CLI starts go, by run id (the CLI sends the process's own
# stdout to the log file while the run lasts), and each run's one StageProgress: Dagster builds
# a logger more than once per run (run-level events and step events have their own log manager),
# and the stages must be counted across all of them.
_terminals: dict[str, IO[str]] = {}
_progress: dict[str, StageProgress] = {}


@contextmanager
def progress_to(run_id: str, stream: IO[str]) -> Iterator[None]:
    """While the block runs, the stage lines of run `run_id` go to `stream`."""
    _terminals[run_id] = stream
    try:
        yield
    finally:
        _terminals.pop(run_id, None)
        _progress.pop(run_id, None)


@dg.logger(
    {
        "path": dg.Field(str, description="The log file (appended to)."),
        "progress": dg.Field(
            bool,
            default_value=False,
            description="Also write one line per stage to the terminal of `sros run`/`sros demo`.",
        ),
    },
    description="Every Dagster event of the run, at DEBUG level, into a file (and optionally one "
    "line per stage to the terminal).",
)
def run_log_logger(init_context: dg.InitLoggerContext) -> logging.Logger:
    config = init_context.logger_config
    logger = logging.Logger(LOGGER_KEY, level=logging.DEBUG)
    to_file = logging.FileHandler(config["path"], encoding="utf-8")
    to_file.setFormatter(
        logging.Formatter(
            "%(asctime)s - %(levelname)s - %(message)s", datefmt="%Y-%m-%d %H:%M:%S %z"
        )
    )
    logger.addHandler(to_file)
    if config["progress"]:
        run_id = init_context.run_id
        if run_id not in _progress:
            steps = [node.name for node in init_context.job_def.nodes_in_topological_order]
            _progress[run_id] = StageProgress(steps, _terminals.get(run_id, sys.stdout))
        logger.addHandler(_progress[run_id])
    return logger
