"""Where the project and a run's files live. Every path can be moved with an environment
variable, so tests and benchmarks run in temporary folders."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODELS_DIR = PROJECT_DIR / "models"
SEEDS_DIR = PROJECT_DIR / "seeds"
# The mapping seeds (a CRM's picklist values -> the shared definitions) the repository ships:
# the demo company's values and the CRMs' standard ones. An installation maps its own CRM in
# a copy under $SROS_HOME/mappings (`sros mappings` makes it): see mappings_dir().
REPO_MAPPINGS_DIR = PROJECT_DIR / "mappings"
MAPPING_SEEDS = ("crm_stage_mappings", "lead_source_channels", "opportunity_types", "touch_types")


def home_dir() -> Path:
    """Root of everything a run writes (landing files, warehouse, dlt state, Dagster home)."""
    return Path(os.environ.get("SROS_HOME", PROJECT_DIR / "var")).resolve()


def installation_mappings_dir() -> Path:
    return home_dir() / "mappings"


def mappings_dir() -> Path:
    """The folder of mapping seeds dbt reads (its seed path `$SROS_MAPPINGS_DIR`):
    $SROS_MAPPINGS_DIR when set (relative to the project, like dbt reads it), else the
    installation's copy ($SROS_HOME/mappings) once `sros mappings` has made it, else the
    repository's mappings/."""
    if os.environ.get("SROS_MAPPINGS_DIR"):
        return (PROJECT_DIR / os.environ["SROS_MAPPINGS_DIR"]).resolve()
    installation = installation_mappings_dir()
    if all((installation / f"{seed}.csv").exists() for seed in MAPPING_SEEDS):
        return installation
    return REPO_MAPPINGS_DIR


def mappings_seed_path() -> str:
    """mappings_dir() as the seed path dbt is given: relative to the project. dbt writes each
    seed's SQL to <target>/run/sros/<seed path>/<seed>.csv; with an absolute seed path that
    join is the seed file itself, which dbt would overwrite."""
    return os.path.relpath(mappings_dir(), PROJECT_DIR)


def dbt_environment() -> dict[str, str]:
    """The environment a dbt command of this installation runs in: SROS_MAPPINGS_DIR set to
    the mapping seeds in use (the seed path, relative), and SROS_MAPPINGS_FILE_DIR to their
    folder's absolute path, which an unmapped value's failure names (macro
    mapping_seed_file)."""
    return {
        **os.environ,
        "SROS_MAPPINGS_DIR": mappings_seed_path(),
        "SROS_MAPPINGS_FILE_DIR": str(mappings_dir()),
    }


def landing_dir() -> Path:
    return Path(os.environ.get("SROS_LANDING_DIR", home_dir() / "landing")).resolve()


def warehouse_path() -> Path:
    return Path(os.environ.get("SROS_WAREHOUSE_PATH", home_dir() / "warehouse.duckdb")).resolve()


def dlt_dir() -> Path:
    return Path(os.environ.get("SROS_DLT_DIR", home_dir() / "dlt")).resolve()


def published_path() -> Path:
    """The published warehouse BI tools read: replaced atomically after a good build."""
    return Path(
        os.environ.get("SROS_PUBLISHED_PATH", home_dir() / "published" / "warehouse.duckdb")
    ).resolve()


def gx_dir() -> Path:
    """The Great Expectations project (suites, validation results, Data Docs) a run writes:
    <gx_dir>/gx/uncommitted/data_docs/local_site/index.html is the Data Docs site."""
    return Path(os.environ.get("SROS_GX_DIR", home_dir())).resolve()


def data_docs_index() -> Path:
    return gx_dir() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"


def exports_dir() -> Path:
    """The finance export files: <exports_dir>/<as-of date>/ (sros/exports.py)."""
    return Path(os.environ.get("SROS_EXPORTS_DIR", home_dir() / "exports")).resolve()


def dbt_builds_dir() -> Path:
    """dbt's target folder of each build of `sros run` (compiled SQL, run_results.json,
    dbt.log), the latest few kept (orchestration/defs/dbt.py BUILDS_KEPT)."""
    return home_dir() / "dbt_builds"


def spark_dir() -> Path:
    """The local Spark engine's files (sros/spark.py): raw/ (the raw tables as Parquet),
    warehouse/ (the tables dbt builds) and metastore_db/ (the session's catalog); the
    `spark` target of profiles.yml points there."""
    return home_dir() / "spark"


def logs_dir() -> Path:
    """The log file of each `sros run`/`sros demo` (every Dagster event and dbt's output)."""
    return Path(os.environ.get("SROS_LOGS_DIR", home_dir() / "logs")).resolve()


# File modes. What a run writes under SROS_HOME holds raw personal data (the working warehouse
# and its .wal, with the raw tables and the quarantine; dlt's state and load packages; Dagster's
# run storage and logs) or the pseudonym key: owner-only, 0600 files in 0700 folders. What BI
# tools and finance read holds no personal data (keyed pseudonyms, masked text): the published
# warehouse and the finance exports are readable by everyone, 0644 files in 0755 folders.
PRIVATE_UMASK = 0o077
SHARED_FILE_MODE = 0o644
SHARED_DIR_MODE = 0o755


def dagster_home() -> Path:
    """Dagster's storage (runs, event logs, compute logs): $DAGSTER_HOME, else SROS_HOME/dagster."""
    return Path(os.environ.get("DAGSTER_HOME", home_dir() / "dagster")).resolve()


def private_paths() -> list[Path]:
    """What a run writes that holds personal data or secrets (see the file modes above)."""
    warehouse = warehouse_path()
    return [
        warehouse,
        warehouse.with_name(warehouse.name + ".wal"),
        dlt_dir(),
        dagster_home(),
        logs_dir(),
        dbt_builds_dir(),
        spark_dir(),
    ]


def protect_private_files() -> list[Path]:
    """Make this process create owner-only files (umask 077) and take group and other
    permissions off the private paths that exist already (recursively); return the paths
    whose mode changed. Called when the Dagster definitions load and when the CLI starts."""
    os.umask(PRIVATE_UMASK)
    changed = []
    for root in private_paths():
        if not root.exists():
            continue
        walked = [root] if root.is_file() else [root, *root.rglob("*")]
        for path in walked:
            if path.is_symlink():
                continue
            status = path.stat()
            mode = status.st_mode & 0o777
            if mode & 0o077 and status.st_uid == os.getuid():  # not another user's file
                path.chmod(mode & 0o700)
                changed.append(path)
    return changed


def share_with_readers(path: Path) -> None:
    """Make a published file, or a folder and everything in it, readable by everyone."""
    walked = [path] if path.is_file() else [path, *path.rglob("*")]
    for item in walked:
        if not item.is_symlink():
            item.chmod(SHARED_DIR_MODE if item.is_dir() else SHARED_FILE_MODE)
