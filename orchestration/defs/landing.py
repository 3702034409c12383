"""The landing zone: one asset per landing table, and the demo company that can fill it.

In a real deployment the landing files arrive from CRM exports (or a Fivetran sync replaces
landing and ingestion altogether); the landing assets are then only the start of the lineage.
In the demo, `demo_company` generates them.
"""

import shutil
from datetime import date
from pathlib import Path

import dagster as dg

from sros import paths
from sros.contracts import load_contracts
from sros.demo_company import DemoConfig, generate, landed_company


def landing_key(source: str, table: str) -> dg.AssetKey:
    return dg.AssetKey(["landing", source, table])


LANDING_SPECS = [
    dg.AssetSpec(
        key=landing_key(contract.source, contract.name),
        description=(
            f"Landing files {contract.landing}/*.csv, *.csv.gz or *.parquet under the landing "
            "folder."
        ),
        group_name="landing",
        kinds={"csv", "parquet"},
        metadata={"landing_path": contract.landing},
    )
    for contract in load_contracts().values()
]


class DemoCompanyConfig(dg.Config):
    """Size and shape of the generated demo company (see sros.demo_company.DemoConfig)."""

    n_leads: int = 10_000
    seed: int = 42
    start_date: str = "2024-10-01"
    end_date: str = "2026-09-30"


def replace_demo_company(config: DemoConfig) -> tuple[dict, list[Path]]:
    """Write the demo company into the landing zone (`generate`: nothing happens when it
    already holds this exact company). When it held another demo company (another size,
    seed, dates or generator version), what was built from that one goes too: the working
    warehouse, dlt's pipeline state and the local Spark engine's files. Ingestion merges
    records on their keys, so the new company's files would otherwise update the records they
    share with the old one and leave the rest in place: a warehouse of two companies mixed
    (a demo of 700 leads after one of 10,000 kept most of the 10,000). All of it is derived
    from generated files, which `generate` has just replaced; the published file stays until
    this company publishes. Returns the manifest and the paths removed."""
    landing = paths.landing_dir()
    before = landed_company(landing)
    manifest = generate(config, landing)
    removed: list[Path] = []
    if before is not None and before != manifest["config"]:
        warehouse = paths.warehouse_path()
        derived = [warehouse, warehouse.with_name(warehouse.name + ".wal")]
        for path in [*derived, paths.dlt_dir(), paths.spark_dir()]:
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
            else:
                continue
            removed.append(path)
    return manifest, removed


@dg.multi_asset(specs=LANDING_SPECS, name="demo_company", can_subset=False)
def demo_company(context: dg.AssetExecutionContext, config: DemoCompanyConfig):
    """Generate the demo company's landing files (seeded, deterministic; does nothing when the
    landing folder already holds this exact company; replaces another demo company and what
    was built from it: `replace_demo_company`)."""
    manifest, removed = replace_demo_company(
        DemoConfig(
            n_leads=config.n_leads,
            seed=config.seed,
            start_date=date.fromisoformat(config.start_date),
            end_date=date.fromisoformat(config.end_date),
        )
    )
    if removed:
        context.log.warning(
            "the landing zone held another demo company: removed what was built from it (%s), "
            "so this one is built from its own files only",
            ", ".join(str(path) for path in removed),
        )
    rows_by_landing: dict[str, int] = {}
    for path, entry in manifest["files"].items():
        if not path.endswith(".csv"):
            continue  # ground_truth.json
        landing = path.rsplit("/", 1)[0]
        rows_by_landing[landing] = rows_by_landing.get(landing, 0) + entry["rows"]
    for spec in LANDING_SPECS:
        landing = spec.metadata["landing_path"]
        yield dg.MaterializeResult(
            asset_key=spec.key,
            metadata={"rows": rows_by_landing.get(landing, 0), "landing_path": landing},
        )
    context.log.info("demo company with %s leads at %s", config.n_leads, paths.landing_dir())
