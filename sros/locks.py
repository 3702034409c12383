"""Brief locks on the working warehouse file: wait them out, or say who holds it.

DuckDB lets one process write a database file, or any number read it; it refuses a read-write
open while another process has the file open at all, and a read-only open while another
process writes it. Its error names the other process:

    IO Error: Could not set lock on file "/…/warehouse.duckdb": Conflicting lock is held in
    /usr/bin/python3.11 (PID 4242) …

A BI user who opens the *working* warehouse for a moment (instead of the published copy) would
otherwise fail the run at whichever step opens it next; dlt even reports it as "check your
credentials / internet connection". Every place a run opens the working file goes through
retry_on_lock(): it retries such a conflict with backoff for a bounded time, the setting
SROS_LOCK_TIMEOUT (seconds, default 30), and when the conflict persists raises
WorkingFileLocked, whose message is one line naming the other process and the published file
BI tools should read. Any other error passes through untouched.

The places: ingestion (hold_working() around each dlt load, orchestration/defs/ingestion.py),
the load checks, dbt (a wait before `dbt build` in orchestration/defs/dbt.py, then dbt-duckdb's
own `retries.connect_attempts` in profiles.yml), the Great Expectations checks and publication.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sros import paths

if TYPE_CHECKING:
    import duckdb

TIMEOUT_ENV = "SROS_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_SECONDS = 30.0
FIRST_DELAY_SECONDS = 0.1
MAX_DELAY_SECONDS = 2.0

T = TypeVar("T")

_CONFLICT = re.compile(
    r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in '
    r"(?P<exe>.+?) \(PID (?P<pid>\d+)\)"
)


def lock_timeout() -> float:
    """How long a run waits for another process to let go of the working file (seconds)."""
    raw = os.environ.get(TIMEOUT_ENV, "")
    if not raw.strip():
        return DEFAULT_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds (e.g. {TIMEOUT_ENV}=30)"
        ) from None
    if seconds < 0:
        raise ValueError(f"{TIMEOUT_ENV}={raw!r}: the wait cannot be negative")
    return seconds


@dataclass(frozen=True)
class LockHolder:
    """The other process DuckDB names in a lock conflict."""

    file: str
    exe: str
    pid: int


def lock_holder(error: BaseException | str) -> LockHolder | None:
    """The process holding the file, when `error` (or any error it was raised from: dlt and
    SQLAlchemy wrap DuckDB's) is a DuckDB lock conflict; None for any other error."""
    seen: set[int] = set()
    pending: list[BaseException | str] = [error]
    while pending:
        current = pending.pop()
        match = _CONFLICT.search(str(current))
        if match:
            return LockHolder(match["file"], match["exe"], int(match["pid"]))
        if isinstance(current, BaseException) and id(current) not in seen:
            seen.add(id(current))
            pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


class WorkingFileLocked(RuntimeError):
    """Another process kept the working warehouse locked longer than the run waits."""

    def __init__(self, holder: LockHolder, waited: float, setting: str = TIMEOUT_ENV) -> None:
        self.holder = holder
        self.waited = waited
        super().__init__(
            f"the working warehouse {holder.file} is locked by {holder.exe} (PID {holder.pid}) "
            f"and was not released within {waited:.0f} s ({setting}); BI tools must read "
            f"the published file {paths.published_path()}, not the working one"
        )


def retry_on_lock(
    open_fn: Callable[[], T],
    *,
    timeout: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> T:
    """`open_fn()`, retried with backoff while it fails with a DuckDB lock conflict.

    Waits at most `timeout` seconds (default lock_timeout()); `notify` hears once who is being
    waited for. Raises WorkingFileLocked (one line, naming the other process) when the
    conflict outlasts the wait; any other error is raised as it is, at once.
    """
    timeout = lock_timeout() if timeout is None else timeout
    started = time.monotonic()
    delay = FIRST_DELAY_SECONDS
    told = False
    while True:
        try:
            return open_fn()
        except Exception as error:
            holder = lock_holder(error)
            if holder is None:
                raise
            waited = time.monotonic() - started
            if waited >= timeout:
                raise WorkingFileLocked(holder, timeout) from error
            if notify is not None and not told:
                notify(
                    f"{holder.file} is locked by {holder.exe} (PID {holder.pid}); "
                    f"retrying for up to {timeout:.0f} s"
                )
                told = True
            time.sleep(min(delay, timeout - waited))
            delay = min(delay * 2, MAX_DELAY_SECONDS)


def connect(
    path: Path,
    *,
    read_only: bool = False,
    timeout: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> duckdb.DuckDBPyConnection:
    """duckdb.connect(path), waiting out another process's brief lock (retry_on_lock)."""
    import duckdb

    return retry_on_lock(
        lambda: duckdb.connect(str(path), read_only=read_only), timeout=timeout, notify=notify
    )


@contextmanager
def hold_working(
    path: Path, *, notify: Callable[[str], None] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Hold the working file open read-write for the block.

    DuckDB shares one open database among all connections to the same file in a process, so
    every connection the block makes to `path` with default settings (dlt's, for one) joins
    this one instead of taking the file lock again: the lock conflict is waited out once, at
    the start, and no reader can slip in between two of the block's opens.
    """
    connection = connect(path, notify=notify)
    try:
        yield connection
    finally:
        connection.close()


def wait_until_free(path: Path, *, notify: Callable[[str], None] | None = None) -> None:
    """Return once `path` can be opened read-write (WorkingFileLocked after the wait), so a
    process about to open it (dbt) starts when no one else has it."""
    if path.exists():
        connect(path, notify=notify).close()
