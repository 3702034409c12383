"""A build leaves out the seeds unchanged since the last build (sros/seed_state.py): only when
the working warehouse's record of that build still holds, and then dbt leaves out exactly the
unchanged seeds and the tests that read nothing else (selectors.yml)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from sros.paths import PROJECT_DIR
from sros.seed_state import SCHEMA, SELECTOR, TABLE, record_build, unchanged_seeds_arguments


def _manifest(target: Path, invocation: str, seeds: dict[str, str]) -> None:
    """A manifest.json in `target` with one seed node per name (checksum kind by name)."""
    target.mkdir(exist_ok=True)
    nodes = {
        f"seed.sros.{name}": {
            "resource_type": "seed",
            "schema": "seeds",
            "alias": name,
            "checksum": {"name": kind, "checksum": f"{name}-digest"},
        }
        for name, kind in seeds.items()
    }
    (target / "manifest.json").write_text(
        json.dumps({"metadata": {"invocation_id": invocation}, "nodes": nodes})
    )


def test_the_record_holds_only_while_the_build_and_every_seed_table_are_as_recorded(
    tmp_path: Path,
) -> None:
    working, target = tmp_path / "warehouse.duckdb", tmp_path / "build-1"
    assert unchanged_seeds_arguments(working) == []  # no warehouse yet
    with duckdb.connect(str(working)) as connection:
        connection.execute("create schema seeds")
        connection.execute("create table seeds.stages as select * from range(3) as t(stage)")
        connection.execute("create table seeds.rules (rule varchar, points integer)")
        connection.execute("insert into seeds.rules values ('a', 1), ('a', 1), ('b', null)")
    seeds = {"stages": "sha256", "rules": "sha256"}
    _manifest(target, "run-1", seeds)
    assert unchanged_seeds_arguments(working) == []  # nothing recorded yet
    record_build(working, target)
    skip = ["--selector", SELECTOR, "--state", str(target.resolve())]
    assert unchanged_seeds_arguments(working) == skip

    def changed(statement: str) -> list[str]:
        with duckdb.connect(str(working)) as connection:
            connection.execute(statement)
        return unchanged_seeds_arguments(working)

    # a row changed by hand (one of two equal rows: they must not cancel out), then put back
    assert changed("update seeds.rules set points = 2 where rule = 'a' and points = 1") == []
    assert changed("update seeds.rules set points = 1 where rule = 'a'") == skip
    assert changed("update seeds.rules set points = 0 where points is null") == []
    assert changed("update seeds.rules set points = null where rule = 'b'") == skip
    assert changed("delete from seeds.stages where stage = 2") == []
    assert changed("insert into seeds.stages values (2)") == skip
    assert changed("drop table seeds.stages") == []
    assert changed("create table seeds.stages as select * from range(3) as t(stage)") == skip
    # the recorded build is gone, or another build wrote its folder since
    shutil.rmtree(target)
    assert unchanged_seeds_arguments(working) == []
    _manifest(target, "run-2", seeds)
    assert unchanged_seeds_arguments(working) == []
    # a seed the project no longer has, or has now, or compares by path only (over 1 MB)
    _manifest(target, "run-1", {"stages": "sha256"})
    assert unchanged_seeds_arguments(working) == []
    _manifest(target, "run-1", {**seeds, "regions": "sha256"})
    assert unchanged_seeds_arguments(working) == []
    _manifest(target, "run-1", {**seeds, "rules": "path"})
    assert unchanged_seeds_arguments(working) == []
    _manifest(target, "run-1", seeds)
    assert unchanged_seeds_arguments(working) == skip
    # another dbt, dbt-duckdb or DuckDB than the one that loaded the seeds
    assert changed(f"update {SCHEMA}.{TABLE} set loaded_by = 'dbt-core 1.10.0'") == []
    record_build(working, target)
    assert unchanged_seeds_arguments(working) == skip
    # a record an older SROS wrote, in other columns, until the next build records
    assert changed(f"alter table {SCHEMA}.{TABLE} drop column loaded_by") == []
    record_build(working, target)
    assert unchanged_seeds_arguments(working) == skip
    # a new record replaces the old one
    other = tmp_path / "build-2"
    _manifest(other, "run-3", seeds)
    record_build(working, other)
    assert unchanged_seeds_arguments(working) == ["--selector", SELECTOR, "--state", str(other)]


def test_the_selector_leaves_out_unchanged_seeds_and_the_tests_of_nothing_else(
    built_company, tmp_path: Path
) -> None:
    """Against the manifest of a whole build, in a copy of the project where one seed's file
    and a test of another seed changed: dbt selects every model, the changed seed and every
    test but those reading only unchanged seeds, and the changed test all the same."""
    state = built_company().target
    manifest = json.loads((state / "manifest.json").read_text())
    project = tmp_path / "project"
    shutil.copytree(
        PROJECT_DIR,
        project,
        ignore=shutil.ignore_patterns(
            ".*", "var", "target", "logs", "tests", "bench", "*.egg-info"
        ),
    )
    shutil.copytree(PROJECT_DIR / "tests" / "dbt", project / "tests" / "dbt")
    with (project / "seeds" / "title_seniorities.csv").open("a") as seed:
        seed.write("Chief Widget Officer,C-level,true\n")
    seeds_yml = project / "seeds" / "_seeds.yml"
    text = seeds_yml.read_text()
    assert text.count("data_tests: [unique, not_null]") > 1
    key_seed, key_column = _first_key_test(text)
    seeds_yml.write_text(
        text.replace(
            "data_tests: [unique, not_null]",
            "data_tests: [unique, {not_null: {config: {severity: warn}}}]",
            1,
        )
    )
    listed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "ls",
            "--selector",
            SELECTOR,
            "--state",
            str(state),
            "--resource-type",
            "seed",
            "--resource-type",
            "test",
            "--resource-type",
            "model",
            "--output",
            "json",
            "--output-keys",
            "unique_id",
            "--quiet",
            "--profiles-dir",
            ".",
            "--target-path",
            str(tmp_path / "target"),
        ],
        cwd=project,
        env={**os.environ, "SROS_HOME": str(tmp_path), "DBT_EXCLUDE_RESOURCE_TYPES": "unit_test"},
        capture_output=True,
        text=True,
    )
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-2000:]
    selected = {json.loads(line)["unique_id"] for line in listed.stdout.splitlines() if line}
    nodes = manifest["nodes"]
    seeds = {uid for uid, node in nodes.items() if node["resource_type"] == "seed"}
    changed_test = next(
        uid
        for uid, node in nodes.items()
        if uid.startswith("test.sros.not_null_")
        and node["depends_on"]["nodes"] == [f"seed.sros.{key_seed}"]
        and node["column_name"] == key_column
    )
    expected = {uid for uid, node in nodes.items() if node["resource_type"] == "model"}
    expected.add("seed.sros.title_seniorities")
    expected.add(changed_test)
    unchanged = seeds - {"seed.sros.title_seniorities"}
    for uid, node in nodes.items():
        if node["resource_type"] == "test":
            parents = set(node["depends_on"]["nodes"])
            if not parents or not parents <= unchanged:
                expected.add(uid)  # reads a model, the changed seed, or no node
    assert selected == expected
    assert any(  # a test of a model against an unchanged seed is among them
        set(nodes[uid]["depends_on"]["nodes"]) & seeds
        and not set(nodes[uid]["depends_on"]["nodes"]) <= seeds
        for uid in selected
        if uid.startswith("test.")
    )


def _first_key_test(text: str) -> tuple[str, str]:
    """The seed and column of the first `data_tests: [unique, not_null]` of seeds/_seeds.yml."""
    before = text[: text.index("data_tests: [unique, not_null]")]
    seed = before.rsplit("\n  - name: ", 1)[1].split()[0]
    column = before.rsplit("\n      - name: ", 1)[1].split()[0]
    return seed, column
