"""Build the demo company and write it as landing-zone export files, a manifest and the ground
truth.

`generate` is idempotent: when `_manifest.json` in `out_dir` records the same configuration and
every file it lists still has its recorded sha256, nothing is written. Otherwise the files of the
previous run are removed and everything is written again. The same configuration always gives
byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa

from sros.contracts import TableContract, load_contracts
from sros.demo_company.arrays import generating_shard
from sros.demo_company.config import DemoConfig
from sros.demo_company.dirty import Export, inject
from sros.demo_company.export import sha256_of, text_table, write_table
from sros.demo_company.finance import expense_table, intent_table
from sros.demo_company.hubspot import hubspot_tables
from sros.demo_company.marketing import (
    ad_spend_table,
    build_campaigns,
    campaign_table,
    identity_table,
    touch_rows,
    touchpoint_table,
)
from sros.demo_company.revenue import build_subscriptions, subscription_table
from sros.demo_company.salesforce import salesforce_tables
from sros.demo_company.truth import ground_truth
from sros.demo_company.world import build_world

MANIFEST = "_manifest.json"
GROUND_TRUTH = "ground_truth.json"
FIRST_FILE, LATE_FILE = "export_0001.csv", "export_0002.csv"
GENERATOR_VERSION = 3
# A company of more leads is generated in shards of at most this many (see `generate`).
SHARD_LEADS = 1_000_000
# Definition tables every shard builds alike (the HubSpot pipeline and its stages, which the
# mapping seeds name, and the dated exchange rates): a sharded company writes shard 0's.
SHARED_TABLES = frozenset(
    {
        ("hubspot", "deal_pipeline"),
        ("hubspot", "deal_pipeline_stage"),
        ("salesforce", "dated_conversion_rate"),
    }
)


def build_tables(config: DemoConfig) -> tuple[dict[tuple[str, str], dict], dict]:
    """Every contract table's columns (keyed by (source, table)) and the ground truth facts
    the world knows beyond the tables."""
    world = build_world(config)
    subs = build_subscriptions(world)
    campaigns = build_campaigns(world)
    touches = touch_rows(world, campaigns)
    spend, spend_by_campaign = ad_spend_table(world, campaigns, touches)
    tables: dict[tuple[str, str], dict] = {}
    crm_campaigns = campaign_table(world, campaigns, spend_by_campaign)
    for name, columns in salesforce_tables(world, subs, campaigns, touches, crm_campaigns).items():
        tables[("salesforce", name)] = columns
    for name, columns in hubspot_tables(world, subs).items():
        tables[("hubspot", name)] = columns
    tables[("marketing", "touchpoint")] = touchpoint_table(world, campaigns, touches)
    tables[("marketing", "identity")] = identity_table(world, touches)
    tables[("ads", "ad_spend_daily")] = spend
    expenses = expense_table(world, spend)
    tables[("finance", "gtm_expense_monthly")] = expenses
    tables[("billing", "subscription_monthly")] = subscription_table(world, subs)
    tables[("intent", "intent_weekly")] = intent_table(world)
    return tables, {
        "world": world,
        "subscriptions": subs,
        "expenses": expenses,
        "ad_spend": spend,
        "campaigns": campaigns,
        "touches": touches,
    }


def _config_key(config: DemoConfig) -> dict:
    return {"generator_version": GENERATOR_VERSION, **config.as_dict()}


def _read_manifest(out_dir: Path) -> dict | None:
    """The manifest of the demo company written to `out_dir`; None without a readable one."""
    path = out_dir / MANIFEST
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def landed_company(out_dir: Path) -> dict | None:
    """The generator version and configuration of the demo company whose files `out_dir`
    holds (its manifest's `config`, as `generate` returns it), None when it holds none."""
    manifest = _read_manifest(Path(out_dir))
    return None if manifest is None else manifest.get("config")


def _reusable(out_dir: Path, config: DemoConfig) -> dict | None:
    manifest = _read_manifest(out_dir)
    if manifest is None or manifest.get("config") != _config_key(config):
        return None
    for relative, entry in manifest.get("files", {}).items():
        file = out_dir / relative
        if not file.exists() or sha256_of(file) != entry["sha256"]:
            return None
    return manifest


def _remove_previous(out_dir: Path, contracts: dict[tuple[str, str], TableContract]) -> None:
    """Delete what an earlier run wrote (files in its manifest and the landing folders)."""
    previous = _read_manifest(out_dir)
    for relative in (previous or {}).get("files", {}):
        (out_dir / relative).unlink(missing_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    for contract in contracts.values():
        folder = out_dir / contract.landing
        if folder.exists():
            shutil.rmtree(folder)
    (out_dir / GROUND_TRUTH).unlink(missing_ok=True)


def _shard_configs(config: DemoConfig) -> list[DemoConfig]:
    """The companies a company of `config.n_leads` leads is generated as: itself up to
    SHARD_LEADS leads, else ceil(n / SHARD_LEADS) companies of equal size (within one lead),
    shard s with seed `config.seed + s`."""
    count = -(-config.n_leads // SHARD_LEADS)
    if count == 1:
        return [config]
    if config.dirty.any:
        raise ValueError(
            f"dirty data is injected into companies of at most {SHARD_LEADS:,} leads (one "
            f"shard), not {config.n_leads:,}: turn the dirty switches off or use fewer leads"
        )
    size, extra = divmod(config.n_leads, count)
    return [
        replace(config, n_leads=size + (shard < extra), seed=config.seed + shard)
        for shard in range(count)
    ]


def _shard_file(file_name: str, shard: int) -> str:
    """Shard 0 writes `export_0001.csv`, shard 3 `export_0001_s03.csv`."""
    if shard == 0:
        return file_name
    stem, suffix = file_name.rsplit(".", 1)
    return f"{stem}_s{shard:02d}.{suffix}"


def _build_exports(
    config: DemoConfig, contracts: dict[tuple[str, str], TableContract]
) -> tuple[dict[tuple[str, str], Export], dict]:
    """One company's export tables, with its dirt injected, and its ground truth."""
    tables, facts = build_tables(config)
    missing = sorted(f"{s}.{t}" for s, t in contracts if (s, t) not in tables)
    if missing:
        raise RuntimeError(f"the generator builds no rows for contract tables {missing}")
    exports: dict[tuple[str, str], Export] = {
        key: Export(contract=contracts[key], first=text_table(contracts[key], tables[key]))
        for key in sorted(contracts)
    }
    truth = ground_truth(config, facts, exports)
    truth["dirty"] = inject(config, exports)
    return exports, truth


def _write_export(out_dir: Path, export: Export, shard: int, files: dict[str, dict]) -> int:
    """Write a table's export files (first, and late if any) as `shard`; return the rows."""
    landing = out_dir / export.contract.landing
    parts: list[tuple[str, pa.Table, Callable[[bytes], bytes] | None]] = [
        (FIRST_FILE, export.first, export.patch)
    ]
    if export.late is not None:
        parts.append((LATE_FILE, export.late, None))
    total = 0
    for file_name, table, patch in parts:
        name = _shard_file(file_name, shard)
        entry = write_table(landing / name, table, export.free_text, patch)
        files[f"{export.contract.landing}/{name}"] = entry
        total += entry["rows"]
    return total


def generate(config: DemoConfig, out_dir: Path) -> dict:
    """Write the demo company to `out_dir`; return the manifest (see the module docstring).

    A company of more than SHARD_LEADS leads is written in shards (`_shard_configs`): companies
    of their own, built, written and freed one after another, so the generator holds one shard in
    memory (about 5 GB at 1M leads) whatever the size. Their keys are numbered apart
    (`arrays.generating_shard`); each shard writes its own files of the incremental tables
    (`export_0001_s01.csv`, ...); a full export is one file of every shard's rows, and the
    definition tables every shard builds alike (SHARED_TABLES) are written from shard 0.
    `ground_truth.json` then holds each shard's truth under `shards`, and the row counts of
    the whole company."""
    out_dir = Path(out_dir)
    manifest = _reusable(out_dir, config)
    if manifest is not None:
        return manifest
    shards = _shard_configs(config)
    contracts = load_contracts()
    _remove_previous(out_dir, contracts)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict] = {}
    row_counts: dict[str, int] = {}
    truths: list[dict] = []
    full_exports: dict[tuple[str, str], list[Export]] = {}
    for shard, shard_config in enumerate(shards):
        with generating_shard(shard):
            exports, truth = _build_exports(shard_config, contracts)
        truths.append(truth)
        for key, export in sorted(exports.items()):
            if len(shards) > 1 and export.contract.export == "full":
                if shard == 0 or key not in SHARED_TABLES:
                    full_exports.setdefault(key, []).append(export)
                continue
            rows = _write_export(out_dir, export, shard, files)
            row_counts[f"{key[0]}.{key[1]}"] = row_counts.get(f"{key[0]}.{key[1]}", 0) + rows
        del exports  # the next shard is built in the memory this one held
    for (source, name), parts in sorted(full_exports.items()):
        whole = Export(
            contract=parts[0].contract, first=pa.concat_tables([part.first for part in parts])
        )
        row_counts[f"{source}.{name}"] = _write_export(out_dir, whole, 0, files)
    if len(truths) == 1:
        truth = truths[0]
        removed = truth["dirty"]["removed_in_staging"]
    else:
        truth = {
            "as_of": truths[0]["as_of"],
            "parameters": {"config": config.as_dict()},
            "shards": truths,
        }
        removed = {}  # shards are clean (`_shard_configs`): staging removes no row
    truth["row_counts"] = dict(sorted(row_counts.items()))
    truth["staging_row_counts"] = {
        key: count - removed.get(key, 0) for key, count in truth["row_counts"].items()
    }
    payload = json.dumps(truth, indent=2, sort_keys=True) + "\n"
    (out_dir / GROUND_TRUTH).write_text(payload, encoding="utf-8")
    files[GROUND_TRUTH] = {"rows": None, "sha256": sha256_of(out_dir / GROUND_TRUTH)}
    manifest = {"config": _config_key(config), "files": dict(sorted(files.items()))}
    (out_dir / MANIFEST).write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return manifest
