"""The dbt project as Dagster assets: seeds, staging and marts, with dbt tests as asset
checks. dbt sources map to the raw-table assets of ingestion by their [source, table] key."""

import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)
from dagster_dbt.dbt_project import using_dagster_dev

from sros.paths import PROJECT_DIR

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# The dbt installed beside this Python, so the venv need not be on PATH.
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")

# `dagster dev` re-parses the project on every load, so model changes show up; elsewhere the
# manifest is parsed once if it is missing (any dbt command refreshes it).
if using_dagster_dev() or not DBT_PROJECT.manifest_path.exists():
    subprocess.run(
        [DBT_EXECUTABLE, "parse", "--quiet", "--profiles-dir", str(PROJECT_DIR)],
        cwd=PROJECT_DIR,
        check=True,
    )


class SrosDbtTranslator(DagsterDbtTranslator):
    """Asset groups follow the dbt folders: seeds, staging, intermediate, marts."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        if dbt_resource_props["resource_type"] == "snapshot":
            return "snapshots"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "models"


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=SrosDbtTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
    ),
)
def sros_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator:
    """`dbt build` of the selected models, seeds, snapshots and their tests."""
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)
