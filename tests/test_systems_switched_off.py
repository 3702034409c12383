"""Each source system can be switched off (dbt var `<system>_enabled: false`).

For every system alone: the project parses (no model depends on a model that is disabled
with it), and no unit test is left with an input disabled with it (dbt would fail it at
build time with "depends on a node ... which is disabled"). And a company with only its
CRMs (marketing, ads, finance, billing and intent off) builds with every test green.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from sros.contracts import source_names
from sros.paths import PROJECT_DIR

DBT = str(Path(sys.executable).parent / "dbt")
REF = re.compile(r"ref\('([^']+)'\)")


def _dbt(*arguments: str, home: Path, warehouse: Path | None = None):
    env = {**os.environ, "SROS_HOME": str(home)}
    if warehouse:
        env["SROS_WAREHOUSE_PATH"] = str(warehouse)
    return subprocess.run(
        [DBT, *arguments, "--profiles-dir", ".", "--target-path", str(home / "target")],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("system", source_names())
def test_the_project_parses_without_a_system(system: str, tmp_path: Path) -> None:
    completed = _dbt("parse", "--vars", json.dumps({f"{system}_enabled": False}), home=tmp_path)
    assert completed.returncode == 0, completed.stdout[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    present = {node["name"] for node in manifest["nodes"].values()}
    orphaned = {
        unit_test["name"]: missing
        for unit_test in manifest["unit_tests"].values()
        if (
            missing := [
                name
                for given in unit_test["given"]
                for name in REF.findall(given["input"])
                if name not in present
            ]
        )
    }
    assert orphaned == {}, f"unit tests to disable with {system}: {orphaned}"


def test_a_company_with_only_its_crms_builds(
    built_company: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    built = built_company(leads=2000, seed=42)
    home = tmp_path_factory.mktemp("crms-only")
    warehouse = home / built.warehouse.name
    shutil.copy(built.warehouse, warehouse)
    off = {
        f"{system}_enabled": False
        for system in ("marketing", "ads", "finance", "billing", "intent")
    }
    completed = _dbt(
        "build", "--full-refresh", "--vars", json.dumps(off), home=home, warehouse=warehouse
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    assert " ERROR=0 " in completed.stdout and "FAIL" not in completed.stdout.split("Done.")[-1]
