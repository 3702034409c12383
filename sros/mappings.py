"""Which CRM picklist values are not in the mapping seeds yet, and the rows to add for them.

A company's CRM has its own picklist values (lead statuses, opportunity stages, lead
sources, opportunity types, touch types): each must be mapped to a shared definition in a
seed (crm_stage_mappings, lead_source_channels, opportunity_types, touch_types) before the
marts can count it. The rule "every value is mapped" is written once, as the singular dbt
tests tagged `unmapped_values` (tests/dbt/assert_*_are_mapped.sql): each returns one row
per unmapped value with the seed's key columns, where it was seen and how many rows carry
it, and names its seed in `meta.seed`.

`find_unmapped` builds what those tests read (seeds, staging and the few models they need;
no other test) and runs them with their failures stored, as warnings; `write_fill_in_files`
writes, per seed, its header with the key columns filled and the definition columns left
blank: fill those in and append the rows to seeds/<seed>.csv.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sros.config import load_config
from sros.paths import PROJECT_DIR, SEEDS_DIR

TAG = "unmapped_values"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
# Columns of a test's failure rows that describe the finding, not the seed's key.
FINDING_COLUMNS = ("seen_in", "rows_seen", "problem")


class MappingsError(RuntimeError):
    """The models the mapping tests read could not be built (the output says why)."""


@dataclass(frozen=True)
class Unmapped:
    seed: str
    key: dict[str, str]  # seed column -> the CRM value(s) to map
    seen_in: str
    rows_seen: int
    problem: str


def find_unmapped(warehouse: Path, target_path: Path) -> list[Unmapped]:
    """Build what the mapping tests read into `warehouse`, run them, and return every
    unmapped value (empty when everything is mapped)."""
    command = [
        DBT_EXECUTABLE,
        "build",
        "--select",
        f"+tag:{TAG}",
        "--indirect-selection",
        "empty",  # only the mapping tests, not every test of the models they read
        "--vars",
        json.dumps({**load_config().dbt_vars, "unmapped_value_severity": "warn"}),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--quiet",
    ]
    completed = subprocess.run(
        command,
        cwd=PROJECT_DIR,
        env={**os.environ, "SROS_WAREHOUSE_PATH": str(warehouse)},
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise MappingsError(
            "building the models the mapping checks read failed:\n"
            + (completed.stdout + completed.stderr)[-4000:]
        )
    manifest = json.loads((target_path / "manifest.json").read_text())
    tests = sorted(
        (node for node in manifest["nodes"].values() if TAG in node.get("tags", [])),
        key=lambda node: node["name"],
    )
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        for test in tests:
            seed = test["config"]["meta"]["seed"]
            relation = f'"{test["schema"]}"."{test["alias"]}"'
            cursor = connection.execute(f"select * from {relation} order by rows_seen desc")
            columns = [description[0] for description in cursor.description]
            for row in cursor.fetchall():
                record = dict(zip(columns, row, strict=True))
                found.append(
                    Unmapped(
                        seed=seed,
                        key={c: record[c] for c in columns if c not in FINDING_COLUMNS},
                        seen_in=record["seen_in"],
                        rows_seen=int(record["rows_seen"]),
                        problem=record["problem"],
                    )
                )
    return found


def write_fill_in_files(unmapped: list[Unmapped], out_dir: Path) -> list[Path]:
    """Per seed with unmapped values: `<out_dir>/<seed>.csv`, the seed's header, one row
    per value (key columns filled, definition columns blank). A value seen in several
    places is one row."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for seed in sorted({item.seed for item in unmapped}):
        with (SEEDS_DIR / f"{seed}.csv").open(newline="") as handle:
            header = next(csv.reader(handle))
        rows: dict[tuple, dict] = {}
        for item in unmapped:
            if item.seed == seed:
                key = tuple(sorted(item.key.items()))
                rows.setdefault(key, {column: item.key.get(column, "") for column in header})
        path = out_dir / f"{seed}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows.values())
        written.append(path)
    # A file from an earlier run whose values are mapped now is stale: remove it.
    for stale in out_dir.glob("*.csv"):
        if stale not in written:
            stale.unlink()
    return written
