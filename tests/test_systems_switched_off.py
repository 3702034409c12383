"""Each source system can be switched off (dbt var `<system>_enabled: false`).

For every system alone: the project parses (no model depends on a model that is disabled
with it), and no unit test is left with an input disabled with it (dbt would fail it at
build time with "depends on a node ... which is disabled"). And a company with only its
CRMs (marketing, ads, finance, billing and intent off) builds with every test green.
"""

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from sros.contracts import source_names
from sros.paths import PROJECT_DIR

pytestmark = pytest.mark.slow  # builds whole warehouses (conftest.py runs these first)

REF = re.compile(r"ref\('([^']+)'\)")


def _parse(target: Path, dbt_vars: dict) -> None:
    """`dbt parse` in this process (dbt's programmatic runner): one parse per system, each a
    full parse (the vars differ), ~9 s here against ~20 s as a command, which would import dbt
    and compile the project's macros afresh each time. dbt changes into the project folder:
    the test's working folder is given back."""
    from dbt.cli.main import dbtRunner

    folder = os.getcwd()
    try:
        result = dbtRunner().invoke(
            [
                "parse",
                "--project-dir",
                str(PROJECT_DIR),
                "--profiles-dir",
                str(PROJECT_DIR),
                "--target-path",
                str(target),
                "--vars",
                json.dumps(dbt_vars),
            ]
        )
    finally:
        os.chdir(folder)
    assert result.success, result.exception


@pytest.mark.parametrize("system", source_names())
def test_the_project_parses_without_a_system(
    system: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SROS_HOME", str(tmp_path))
    _parse(tmp_path / "target", {f"{system}_enabled": False})
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
    built_company: Callable, run_dbt: Callable, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("crms-only")
    warehouse = built_company(leads=2000, seed=42).copy_to(home)
    off = {
        f"{system}_enabled": False
        for system in ("marketing", "ads", "finance", "billing", "intent")
    }
    completed = run_dbt(
        "build",
        "--full-refresh",
        "--vars",
        json.dumps(off),
        home=home,
        warehouse=warehouse,
        unit_tests=True,  # the vars change the SQL of models that read a system switched off
    )
    assert completed.returncode == 0, completed.stdout[-5000:]
    assert " ERROR=0 " in completed.stdout and "FAIL" not in completed.stdout.split("Done.")[-1]
