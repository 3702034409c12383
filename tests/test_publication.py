"""Safe publication: BI reads a complete old or a complete new warehouse, never a partial one,
and only the BI-facing schemas are published."""

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from sros.publish import _alive, publish


def _working_warehouse(path: Path, n_rows: int) -> Path:
    """A small working warehouse: a mart whose every row carries the version's size, plus
    raw and staging schemas that must never be published."""
    with duckdb.connect(str(path)) as connection:
        for schema in ("marts", "seeds", "raw_salesforce", "staging"):
            connection.execute(f"create schema {schema}")
        connection.execute(
            f"create table marts.fct_numbers as "
            f"select range as number, {n_rows} as version from range({n_rows})"
        )
        connection.execute("create table seeds.funnel_stages as select 'lead' as stage_key")
        connection.execute("create table raw_salesforce.lead as select 'ann@example.com' as email")
        connection.execute("create view staging.stg_leads as select * from raw_salesforce.lead")
    return path


def test_publish_copies_only_marts_and_seeds(tmp_path: Path) -> None:
    working = _working_warehouse(tmp_path / "warehouse.duckdb", 10)
    published = tmp_path / "published" / "warehouse.duckdb"
    counts = publish(working, published)
    assert counts == {"marts.fct_numbers": 10, "seeds.funnel_stages": 1}
    with duckdb.connect(str(published), read_only=True) as connection:
        schemas = {
            schema
            for (schema,) in connection.execute(
                "select distinct table_schema from information_schema.tables"
            ).fetchall()
        }
        assert schemas == {"marts", "seeds", "meta"}  # no raw, no staging: no personal data
        assert connection.execute(
            "select tables_published, rows_published from meta.publication"
        ).fetchall() == [(2, 11)]
    assert [p.name for p in published.parent.iterdir()] == ["warehouse.duckdb"]  # no leftovers


def test_a_reader_in_a_loop_only_ever_sees_a_complete_version(tmp_path: Path) -> None:
    small = _working_warehouse(tmp_path / "small.duckdb", 1_000)
    large = _working_warehouse(tmp_path / "large.duckdb", 200_000)
    published = tmp_path / "published" / "warehouse.duckdb"
    publish(small, published)

    seen: set[tuple[int, int]] = set()
    errors: list[Exception] = []
    stop = threading.Event()

    def read_in_a_loop() -> None:
        deadline = time.monotonic() + 60  # bounded, whatever happens
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                with duckdb.connect(str(published), read_only=True) as connection:
                    # count and version come from one snapshot of one file
                    seen.add(
                        connection.execute(
                            "select count(*), min(version) from marts.fct_numbers"
                        ).fetchone()
                    )
            except Exception as error:  # any failure to read is a failure of publication
                errors.append(error)

    reader = threading.Thread(target=read_in_a_loop)
    reader.start()
    try:
        for round_number in range(6):
            publish(large if round_number % 2 == 0 else small, published)
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert seen <= {(1_000, 1_000), (200_000, 200_000)}  # never a mixed or partial version
    assert len(seen) == 2, f"the reader saw {seen}; it should have seen both versions"


def test_publishing_a_missing_warehouse_fails_and_keeps_the_published_one(tmp_path: Path) -> None:
    published = tmp_path / "published" / "warehouse.duckdb"
    publish(_working_warehouse(tmp_path / "warehouse.duckdb", 5), published)
    before = published.read_bytes()
    with pytest.raises(FileNotFoundError, match="build it before publishing"):
        publish(tmp_path / "nowhere.duckdb", published)
    assert published.read_bytes() == before


def test_publication_removes_partials_of_dead_publications_and_keeps_a_live_ones(
    tmp_path: Path,
) -> None:
    """A publication killed midway leaves `.warehouse.duckdb.<pid>.partial` (and, had it
    spilled, DuckDB's `.partial.tmp` folder); the next one removes them. A partial whose
    process is alive (a publication running now) is kept."""
    published = tmp_path / "published" / "warehouse.duckdb"
    published.parent.mkdir()
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(finished.stdout)
    assert not _alive(dead_pid)
    dead = published.parent / f".warehouse.duckdb.{dead_pid}.partial"
    live = published.parent / f".warehouse.duckdb.{os.getppid()}.partial"
    other = published.parent / f".other.duckdb.{dead_pid}.partial"  # another file's: not ours
    for path in (dead, live, other):
        path.write_bytes(b"half a warehouse")
    dead_spill, live_spill = (path.with_name(path.name + ".tmp") for path in (dead, live))
    for spill in (dead_spill, live_spill):
        spill.mkdir()
        (spill / "duckdb_temp_storage_S32K-0.tmp").write_bytes(b"spilled rows")
    publish(_working_warehouse(tmp_path / "warehouse.duckdb", 5), published)
    assert not dead.exists() and not dead_spill.exists()
    assert live.exists() and live_spill.exists() and other.exists()
    assert sorted(p.name for p in published.parent.iterdir()) == sorted(
        ["warehouse.duckdb", live.name, live_spill.name, other.name]
    )


def test_publication_keeps_to_the_duckdb_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publication's DuckDB takes SROS_DUCKDB_MEMORY_LIMIT, as the build's does (without it,
    80% of the machine's RAM): a limit too small to copy a table stops it, and the previous
    version stays published, with nothing left beside it."""
    published = tmp_path / "published" / "warehouse.duckdb"
    publish(_working_warehouse(tmp_path / "small.duckdb", 10), published)
    before = published.read_bytes()
    large = _working_warehouse(tmp_path / "large.duckdb", 200_000)
    monkeypatch.setenv("SROS_DUCKDB_MEMORY_LIMIT", "1MB")
    with pytest.raises(duckdb.OutOfMemoryException, match=r"976\.5 KiB"):
        publish(large, published)
    assert published.read_bytes() == before
    assert [p.name for p in published.parent.iterdir()] == ["warehouse.duckdb"]
    monkeypatch.setenv("SROS_DUCKDB_MEMORY_LIMIT", "64MB")
    assert publish(large, published)["marts.fct_numbers"] == 200_000


def test_the_published_file_is_readable_by_bi_even_under_an_owner_only_umask(
    tmp_path: Path,
) -> None:
    previous = os.umask(0o077)  # as the CLI and the Dagster code location set it
    try:
        published = tmp_path / "published" / "warehouse.duckdb"
        publish(_working_warehouse(tmp_path / "warehouse.duckdb", 5), published)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(published.stat().st_mode) == 0o644
    assert stat.S_IMODE(published.parent.stat().st_mode) == 0o755
