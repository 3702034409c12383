"""One run at a time: the run lock of a working warehouse, `$SROS_HOME/run.lock`.

Every run that writes the working warehouse holds it for its whole length: `sros run` and
`sros demo` take it before they import Dagster, and runs Dagster launches (the UI, the daily
schedule, the landing-zone sensor) take it in their executor (orchestration/defs/schedules.py),
so a second run never starts writing under a first one.

The lock is an exclusive `fcntl.flock` on the file, taken atomically by the kernel and released
by it when the holder ends, however it ends (even SIGKILL): a lock can never outlive its
process. The file holds who has it (pid, host, start time, command) so that a run turned away
can say by whom; the holder empties it when it lets go. Contents left by a process that died
without letting go are a stale lock: the next run takes it over and says so in one line.

Taking the lock is re-entrant within a process (the CLI holds it around the Dagster run it
starts in-process, and that run's executor must not wait for its own process), and this module
imports nothing heavy, so a refused `sros run` answers in a fraction of a second.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sros import paths

LOCK_FILE_NAME = "run.lock"
POLL_SECONDS = 0.2  # how often a waiting run tries the lock again


def lock_path() -> Path:
    return paths.home_dir() / LOCK_FILE_NAME


@dataclass(frozen=True)
class Holder:
    """Who holds (or last held) the run lock, as its lock file says."""

    pid: int
    host: str
    started_at: datetime
    command: str

    def describe(self) -> str:
        where = "" if self.host == socket.gethostname() else f" on {self.host}"
        started = self.started_at.astimezone(UTC).strftime("%H:%M:%S UTC")
        return f"pid {self.pid}{where}, started {started}, `{self.command}`"

    def is_alive(self) -> bool:
        """True when the holder's process still runs (a holder on another host counts as alive:
        its pid means nothing here)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # alive, owned by someone else
            return True
        return True


class RunLockHeld(RuntimeError):
    """Another run holds the run lock (and the caller did not want to wait)."""

    def __init__(self, holder: Holder | None, path: Path) -> None:
        self.holder = holder
        self.path = path
        who = f" ({holder.describe()})" if holder else ""
        super().__init__(f"another SROS run{who} holds {path}; wait for it or use --wait")


def read_holder(path: Path | None = None) -> Holder | None:
    """The holder the lock file names, or None when it is empty, missing or unreadable."""
    try:
        text = (path or lock_path()).read_text()
    except OSError:
        return None
    try:
        record = json.loads(text)
        return Holder(
            pid=int(record["pid"]),
            host=str(record["host"]),
            started_at=datetime.fromisoformat(record["started_at"]),
            command=str(record["command"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def current_holder(path: Path | None = None) -> Holder | None:
    """The live run that holds the lock, or None when no run does.

    Reads the file only (it never takes the lock, so probing cannot turn a starting run away):
    a holder whose process is gone is a stale lock, not a run.
    """
    holder = read_holder(path)
    return holder if holder is not None and holder.is_alive() else None


# The lock this process holds, and how many nested run_lock() blocks use it.
_process_lock = threading.Lock()
_held: dict[str, int] = {}  # lock path -> open file descriptor
_depth: dict[str, int] = {}


def _try_flock(descriptor: int) -> bool:
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder_of_taken_lock(path: Path) -> Holder | None:
    """The holder of a lock we failed to take. Its file may still be empty for an instant
    (taken, not yet written): look again briefly."""
    deadline = time.monotonic() + 0.5
    while True:
        holder = read_holder(path)
        if holder is not None or time.monotonic() >= deadline:
            return holder
        time.sleep(0.05)


def acquire(command: str, *, wait: bool = False, notify: Callable[[str], None] = print) -> Path:
    """Take the run lock for `command`; return the lock file's path.

    Raises RunLockHeld when another run has it and `wait` is false; with `wait`, says once
    that it is waiting (through `notify`) and returns when the other run has finished.
    Re-entrant: a process that already holds it only counts one more user.
    """
    path = lock_path()
    key = str(path)
    with _process_lock:
        if key in _held:
            _depth[key] += 1
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if not _try_flock(descriptor):
            holder = _holder_of_taken_lock(path)
            if not wait:
                raise RunLockHeld(holder, path)
            who = f" ({holder.describe()})" if holder else ""
            notify(f"waiting for another SROS run{who} to finish; it holds {path}")
            while not _try_flock(descriptor):
                time.sleep(POLL_SECONDS)
        previous = read_holder(path)
        if previous is not None and previous.pid != os.getpid():
            # The lock was free, yet its file names a holder: that run ended without letting
            # go (killed, machine restarted). Its process cannot hold a flock any more.
            gone = "is gone" if not previous.is_alive() else "no longer holds it"
            notify(
                f"took over the stale run lock {path} of a run that {gone} ({previous.describe()})"
            )
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command,
        }
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, (json.dumps(record) + "\n").encode(), 0)
        os.fsync(descriptor)
    except BaseException:
        os.close(descriptor)  # closing drops the flock if we took it
        raise
    with _process_lock:
        _held[key] = descriptor
        _depth[key] = 1
    return path


def release(path: Path | None = None) -> None:
    """Let go of the run lock this process holds (the last of its nested users does)."""
    key = str(path or lock_path())
    with _process_lock:
        if key not in _held:
            return
        _depth[key] -= 1
        if _depth[key] > 0:
            return
        descriptor = _held.pop(key)
        del _depth[key]
    try:
        os.ftruncate(descriptor, 0)  # empty: nobody holds it (a non-empty free lock is stale)
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


@contextmanager
def run_lock(
    command: str, *, wait: bool = False, notify: Callable[[str], None] = print
) -> Iterator[Path]:
    """Hold the run lock for the block: see acquire()."""
    path = acquire(command, wait=wait, notify=notify)
    try:
        yield path
    finally:
        release(path)
