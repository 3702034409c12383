"""dbt's unit tests (the `unit_tests:` of the model YAML files) run here, in the test suite's
build of the demo company, and not in `sros run`: they check the SQL against fixed inputs,
so production runs exclude them (orchestration/defs/dbt.py).

This test fails when one of them did not pass, or when a unit test defined in the project did
not run at all.
"""

import json
from collections.abc import Callable


def test_every_dbt_unit_test_runs_and_passes(built_company: Callable) -> None:
    target = built_company(leads=2000, seed=42).target
    results = json.loads((target / "run_results.json").read_text())
    unit_results = {
        result["unique_id"]: result["status"]
        for result in results["results"]
        if result["unique_id"].startswith("unit_test.")
    }
    manifest = json.loads((target / "manifest.json").read_text())
    assert set(unit_results) == set(manifest["unit_tests"])
    assert len(unit_results) >= 50
    failed = {name: status for name, status in unit_results.items() if status != "pass"}
    assert failed == {}
