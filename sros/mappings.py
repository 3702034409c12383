"""Which CRM picklist values are not in the mapping seeds yet, and the rows to add for them.

A company's CRM has its own picklist values (lead statuses, opportunity stages, lead
sources, opportunity types, touch types): each must be mapped to a shared definition in a
mapping seed (crm_stage_mappings, lead_source_channels, opportunity_types, touch_types)
before the marts can count it. The rule "every value is mapped" is written once, as the
singular dbt tests tagged `unmapped_values` (tests/dbt/assert_*_are_mapped.sql): each returns
one row per unmapped value with the seed's key columns, where it was seen and how many rows
carry it, and names its seed in `meta.seed`.

The repository's mapping seeds (mappings/) hold the demo company's and the CRMs' standard
values. An installation maps its own CRM in its own copy, `$SROS_HOME/mappings/<seed>.csv`,
which dbt then reads instead (sros/paths.py `mappings_dir`), so no file of the repository is
edited. `sros mappings`:

1. makes that copy from the repository's files when there is none (`installation_copy`);
2. moves the rows a user has filled in `$SROS_HOME/mappings_to_fill/<seed>.csv` into the
   copy (`apply_filled_rows`; a row is filled when no column but `description` is blank);
3. builds what the mapping tests read (seeds, staging and the few models they need; no
   other test) and runs them with their failures stored, as warnings (`find_unmapped`);
4. writes, per seed, the rows still to fill: the seed's header, the key columns filled and
   the definition columns blank (`write_fill_in_files`), keeping what was typed already.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sros import paths
from sros.config import dbt_target_dir, load_config
from sros.paths import MAPPING_SEEDS, PROJECT_DIR, REPO_MAPPINGS_DIR

TAG = "unmapped_values"
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")
# Columns of a test's failure rows that describe the finding, not the seed's key.
FINDING_COLUMNS = ("seen_in", "rows_seen", "problem")
# Columns of a mapping seed a filled row may leave blank.
OPTIONAL_COLUMNS = ("description",)


class MappingsError(RuntimeError):
    """The models the mapping tests read could not be built (the output says why)."""


@dataclass(frozen=True)
class Unmapped:
    seed: str
    key: dict[str, str]  # seed column -> the CRM value(s) to map
    seen_in: str
    rows_seen: int
    problem: str


def mappings_target_dir() -> Path:
    """The dbt target folder of `sros mappings`, kept from one call to the next beside the
    run's (config.dbt_target_dir) so dbt parses again only what changed since the last call
    (the filled seed rows), not the whole project: its vars differ from the run's
    (`unmapped_value_severity`), so it cannot share the run's parse."""
    run_target = dbt_target_dir()
    return run_target.with_name(f"{run_target.name}-mappings")


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
        env={**paths.dbt_environment(), "SROS_WAREHOUSE_PATH": str(warehouse)},
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


def installation_copy(folder: Path) -> list[Path]:
    """Copy each repository mapping seed missing from `folder` into it; the copies made."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for seed in MAPPING_SEEDS:
        target = folder / f"{seed}.csv"
        if not target.exists():
            shutil.copyfile(REPO_MAPPINGS_DIR / f"{seed}.csv", target)
            copied.append(target)
    return copied


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _is_filled(row: dict[str, str]) -> bool:
    return all((value or "").strip() for name, value in row.items() if name not in OPTIONAL_COLUMNS)


def _column_rules(seed: str) -> dict[str, tuple[Callable[[str], bool], str]]:
    """What each column of a mapping seed accepts, read from its tests and types in
    seeds/_seeds.yml (the one place they are written): column -> (test, what to write), for
    accepted_values, a relationships test to another seed, and boolean or integer types."""
    import yaml

    document = yaml.safe_load((PROJECT_DIR / "seeds" / "_seeds.yml").read_text())
    [entry] = [item for item in document["seeds"] if item["name"] == seed]
    rules: dict[str, tuple[Callable[[str], bool], str]] = {}
    for column, kind in (entry.get("config", {}).get("column_types") or {}).items():
        if kind == "boolean":
            rules[column] = (lambda text: text in ("true", "false"), "write true or false")
        elif kind == "integer":
            rules[column] = (lambda text: text.lstrip("-").isdigit(), "write a whole number")
    for column in entry.get("columns", []):
        for test in column.get("data_tests") or []:
            if not isinstance(test, dict):  # not_null, unique: no value to check
                continue
            arguments = next(iter(test.values())).get("arguments", {})
            if "accepted_values" in test:
                values = {str(value) for value in arguments["values"]}
                rules[column["name"]] = (values.__contains__, f"write one of {sorted(values)}")
            elif "relationships" in test:
                other = arguments["to"].split("'")[1]  # ref('funnel_stages')
                folder = paths.mappings_dir() if other in MAPPING_SEEDS else PROJECT_DIR / "seeds"
                _, other_rows = _read(folder / f"{other}.csv")
                values = {row[arguments["field"]] for row in other_rows}
                rules[column["name"]] = (
                    values.__contains__,
                    f"write a {arguments['field']} of seeds/{other}.csv: {sorted(values)}",
                )
    return rules


def filled_row_problems(path: Path, rows: list[dict[str, str]]) -> list[str]:
    """One line per value of a filled row that its seed would refuse at the next build (a
    stage that does not exist, a type outside the accepted ones, `yes` for a boolean),
    naming the file, the line and what to write."""
    rules = _column_rules(path.stem)
    return [
        f"{path} line {number}: {column} {(value or '').strip()!r}; {rules[column][1]}"
        for number, row in enumerate(rows, start=2)  # line 1 is the header
        if _is_filled(row)
        for column, value in row.items()
        if column in rules and not rules[column][0]((value or "").strip())
    ]


def apply_filled_rows(fill_in_dir: Path, mappings_dir: Path) -> dict[str, int]:
    """Append the filled rows of each `<fill_in_dir>/<seed>.csv` to `<mappings_dir>/<seed>.csv`
    and keep only the unfilled ones in the fill-in file. Returns rows moved per seed. A
    filled value its seed would refuse moves nothing at all: MappingsError, one line per
    value, before any file changes."""
    moved = {}
    pending = []
    for path in sorted(fill_in_dir.glob("*.csv")) if fill_in_dir.exists() else []:
        seed_path = mappings_dir / path.name
        if path.stem not in MAPPING_SEEDS or not seed_path.exists():
            continue
        header, rows = _read(path)
        seed_header, seed_rows = _read(seed_path)
        if header != seed_header:
            raise MappingsError(
                f"{path}: its columns {header} are not those of {seed_path} {seed_header}; "
                "keep the header `sros mappings` wrote"
            )
        pending.append((path, header, rows, seed_path, seed_header, seed_rows))
    problems = [line for path, _, rows, *_ in pending for line in filled_row_problems(path, rows)]
    if problems:
        raise MappingsError(
            "\n".join(problems) + "\nnothing was moved: correct these, then run `sros mappings` "
            "again"
        )
    for path, header, rows, seed_path, seed_header, seed_rows in pending:
        filled = [row for row in rows if _is_filled(row)]
        if filled:
            _write(seed_path, seed_header, seed_rows + filled)
            _write(path, header, [row for row in rows if not _is_filled(row)])
            moved[path.stem] = len(filled)
    return moved


def write_fill_in_files(
    unmapped: list[Unmapped], out_dir: Path, mappings_dir: Path | None = None
) -> list[Path]:
    """Per seed with unmapped values: `<out_dir>/<seed>.csv`, the seed's header, one row
    per value (key columns filled, definition columns blank, or as typed in the file
    already). A value seen in several places is one row. Files of seeds with nothing left to
    map are removed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    mappings_dir = mappings_dir or paths.mappings_dir()
    written = []
    for seed in sorted({item.seed for item in unmapped}):
        header, _ = _read(mappings_dir / f"{seed}.csv")
        path = out_dir / f"{seed}.csv"
        typed = _read(path)[1] if path.exists() else []  # kept: what the user typed
        rows: dict[tuple, dict] = {}
        for item in unmapped:
            if item.seed == seed:
                fresh = {column: item.key.get(column, "") for column in header}
                earlier = next(
                    (row for row in typed if all(row.get(c) == v for c, v in item.key.items())),
                    {},
                )
                rows.setdefault(tuple(sorted(item.key.items())), {**fresh, **earlier})
        _write(path, header, list(rows.values()))
        written.append(path)
    # A file from an earlier run whose values are mapped now is stale: remove it.
    for stale in out_dir.glob("*.csv"):
        if stale not in written:
            stale.unlink()
    return written
